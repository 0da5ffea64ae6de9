"""Training steps per second of bls2017, this project beside TensorFlow Compression.

The same recipe on both sides: the paper's bls2017 (conv 9x9/4, two 5x5/2, GDN),
N = M = --num_filters, lambda 0.01, lr 1e-3, batches of 8 crops of 64x64, one
thread. Both read the same pre-cut 64x64 crops (PNG files cut once from
--photos, seeded), so neither side pays for decoding whole photographs per crop
(TensorFlow Compression's tf.data pipeline decodes the whole PNG of every crop; on
whole photographs it is input-bound, which measures its pipeline, not its step).

Each side trains 2 x --steps steps in a fresh process; the figure is the rate of
the second half (after graph building, tracing and warm-up):
  this project   `python -m compression.examples.images train`, the second half's
                 seconds from its train_log.jsonl;
  peer           TensorFlow Compression 2.14.1's own models/bls2017.py through
                 ../shared/bench/peers/tfc_models/tfc_run.py (one thread), two
                 epochs of --steps steps; the second epoch's ms/step from Keras.
CPU seconds are the whole process's (user + system, start-up included). Run the
two sides on an otherwise idle machine: the script runs them one after the other.

  python bench/train_throughput.py --photos='runs/photos/train/*.png' \\
      [--steps=200] [--peer_python=/tmp/peervenvs/tfc/bin/python]

Without the peer's venv (`bash ../shared/bench/peers/run_all.sh setup`) only this
project's figure is printed.
"""

import argparse
import glob
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER_DIR = os.path.join(ROOT, "..", "shared", "bench", "peers", "tfc_models")
CROP = 64
BATCH = 8


def cut_crops(photos, out_dir, count, seed=0):
  """Writes `count` CROPxCROP RGB crops of the `photos` files (cycled) to
  out_dir/NNNN.png; returns the glob of them."""
  files = sorted(glob.glob(photos))
  if not files:
    sys.exit(f"--photos={photos}: no file matches")
  images = [np.asarray(Image.open(f).convert("RGB")) for f in files]
  rng = np.random.default_rng(seed)
  os.makedirs(out_dir, exist_ok=True)
  for i in range(count):
    image = images[i % len(images)]
    y = rng.integers(0, image.shape[0] - CROP + 1)
    x = rng.integers(0, image.shape[1] - CROP + 1)
    Image.fromarray(image[y:y + CROP, x:x + CROP]).save(
        os.path.join(out_dir, f"{i:04d}.png"))
  return os.path.join(out_dir, "*.png")


def _run(command, cwd, env, log_path):
  """Runs `command`; returns (wall seconds, CPU seconds); exits on failure."""
  before = resource.getrusage(resource.RUSAGE_CHILDREN)
  start = time.monotonic()
  with open(log_path, "w") as log:
    code = subprocess.call(command, cwd=cwd, env=env, stdout=log,
                           stderr=subprocess.STDOUT)
  wall = time.monotonic() - start
  after = resource.getrusage(resource.RUSAGE_CHILDREN)
  if code:
    sys.exit(f"{' '.join(command[:4])} ... exited with {code}; see {log_path}")
  cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
  return wall, cpu


def ours(crops, steps, num_filters, work):
  model_dir = os.path.join(work, "ours")
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  wall, cpu = _run(
      [sys.executable, "-m", "compression.examples.images", "train",
       f"--model_dir={model_dir}", "--architecture=bls2017",
       f"--num_filters={num_filters}", f"--latent_filters={num_filters}",
       "--lambda=0.01", f"--train_glob={crops}", f"--patchsize={CROP}",
       f"--batch_size={BATCH}", "--final_steps=0", "--warmup_steps=0",
       f"--num_steps={2 * steps}", "--learning_rate=1e-3", f"--log_every={steps}",
       "--checkpoint_every=1000000", "--threads=1"],
      ROOT, env, os.path.join(work, "ours.log"))
  with open(os.path.join(model_dir, "train_log.jsonl")) as f:
    seconds = {r["step"]: r["seconds"] for r in map(json.loads, f)}
  return steps / (seconds[2 * steps] - seconds[steps]), wall, cpu


def peer(python, crops, steps, num_filters, work):
  log_path = os.path.join(work, "peer.log")
  env = dict(os.environ, TFC_LR="1e-3", TF_CPP_MIN_LOG_LEVEL="2")
  wall, cpu = _run(
      [python, "tfc_run.py", "--verbose",
       f"--model_path={os.path.join(work, 'peer', 'model')}", "train",
       "--lambda=0.01", f"--num_filters={num_filters}", f"--train_glob={crops}",
       f"--train_path={os.path.join(work, 'peer', 'train')}",
       f"--patchsize={CROP}", f"--batchsize={BATCH}", "--epochs=2",
       f"--steps_per_epoch={steps}", "--max_validation_steps=1",
       "--preprocess_threads=1"],
      PEER_DIR, env, log_path)
  with open(log_path, errors="replace") as f:
    text = f.read()
  per_step = re.findall(rf"{steps}/{steps} \[=+\] - \S+ (\d+)ms/step", text)
  if len(per_step) < 2:
    sys.exit(f"no second-epoch ms/step line in {log_path}")
  return 1000. / int(per_step[1]), wall, cpu


def main():
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--photos", required=True,
                      help="glob of the training photographs to cut crops from")
  parser.add_argument("--steps", type=int, default=200,
                      help="steps of each half (default 200)")
  parser.add_argument("--num_filters", type=int, default=48)
  parser.add_argument("--peer_python", default="/tmp/peervenvs/tfc/bin/python",
                      help="python of the venv with tensorflow-compression 2.14.1")
  parser.add_argument("--work_dir", default="",
                      help="where crops, models and logs go (default: a temp dir)")
  args = parser.parse_args()
  if args.steps < 10:
    parser.error("--steps must be at least 10")
  work = os.path.abspath(args.work_dir or
                         tempfile.mkdtemp(prefix="train_throughput_"))
  crops = cut_crops(args.photos, os.path.join(work, "crops"), 1600)
  print(f"bls2017 N=M={args.num_filters}, lambda 0.01, lr 1e-3, {BATCH} crops of "
        f"{CROP}x{CROP}, 1 thread; rate over steps {args.steps + 1}-"
        f"{2 * args.steps}; logs in {work}", flush=True)
  rows = [("this project", *ours(crops, args.steps, args.num_filters, work))]
  if os.path.exists(args.peer_python):
    rows.append(("TensorFlow Compression 2.14.1",
                 *peer(args.peer_python, crops, args.steps, args.num_filters, work)))
  else:
    print(f"(no peer: {args.peer_python} does not exist)")
  print(f"{'':32s}{'steps/s':>9s}{'process wall s':>16s}{'process CPU s':>15s}")
  for name, rate, wall, cpu in rows:
    print(f"{name:32s}{rate:9.2f}{wall:16.1f}{cpu:15.1f}")
  if len(rows) == 2:
    print(f"ratio (this project / peer): {rows[0][1] / rows[1][1]:.2f}x steps/s")


if __name__ == "__main__":
  main()
