"""Where the seconds of one image `compress` / `decompress` command go.

Runs the two commands of the image example the way a user does (a fresh Python
process each) and, in other fresh processes, the same steps one at a time with a
clock around each:

  python start-up   interpreter start, absl, the command table (no TensorFlow)
  import tensorflow `import tensorflow`
  import codec      the rest: the model, layers, the op library, codec.py
  graph+session     building the encoder's (decoder's) graph, creating the session
  restore           restoring the checkpoint, the run that reads the fingerprint
  coding            the session run that codes (decodes) the image
  files             reading the image / writing the PNG

Run from the repository root after `bazel build //compression:all`, with a
trained model directory (any number of steps will do, the time does not depend on
the weights):

  python -m compression.examples.images train --model_dir=/tmp/m --num_steps=1 \\
      --patchsize=64 --batch_size=1 --warmup_steps=0
  python bench/cli_time.py --model_dir=/tmp/m [--runs=3] [--image=x.png] \\
      [--compare_root=OTHER_CHECKOUT]

Printed: per step the median over --runs fresh processes, wall seconds and CPU
seconds of the process (user + system; on a busy machine wall time varies with the
load, CPU time much less). Image: --image, or chelsea.png of scikit-image
(451x300). --compare_root: also time the two commands of another checkout (its
`bazel-bin` built, or a symlink to this one's), runs of the two trees interleaved,
for before/after figures of a change.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Run in a child process: the steps of one command, each timed.
_STEPS = r"""
import json, os, sys, time
t0 = time.time(); c0 = time.process_time()
marks = []
def mark(name):
  marks.append((name, time.time(), time.process_time()))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from compression.examples.images import commands
mark("python start-up")
import tensorflow
mark("import tensorflow")
from compression.examples.images import codec, container, data
mark("import codec")
which, model_dir, source, target = sys.argv[1:5]
real_restore = codec.restore
def timed_restore(sess, model_dir):
  mark("graph+session")
  return real_restore(sess, model_dir)
codec.restore = timed_restore
if which == "compress":
  image = data.read_image(source)
  mark("files")
  coder = codec.Encoder(model_dir)
  mark("restore")
  encoded = coder.compress(image)
  mark("coding")
  with open(target, "wb") as f:
    f.write(encoded.blob)
else:
  with open(source, "rb") as f:
    blob = f.read()
  mark("files")
  coder = codec.Decoder(model_dir)
  mark("restore")
  decoded = coder.decompress(blob, source)
  mark("coding")
  data.write_png(target, decoded.image)
mark("files")
# Process start to the first mark: the interpreter's own start-up is measured by
# the parent (wall) and /proc (CPU).
steps = {}
last_wall, last_cpu = t0, c0
for name, wall, cpu in marks:
  old = steps.get(name, (0., 0.))
  steps[name] = (old[0] + wall - last_wall, old[1] + cpu - last_cpu)
  last_wall, last_cpu = wall, cpu
print(json.dumps(steps))
"""

ORDER = ("python start-up", "import tensorflow", "import codec", "graph+session",
         "restore", "coding", "files")


def _env(root=ROOT):
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join([root] + [
      p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  return env


def _cpu_of_children():
  usage = os.times()
  return usage.children_user + usage.children_system


def run_command(args, root=ROOT):
  """(wall, CPU) seconds of `python -m compression.examples.images ARGS` of the
  checkout `root`."""
  start, cpu = time.time(), _cpu_of_children()
  result = subprocess.run([sys.executable, "-m", "compression.examples.images"] +
                          args, cwd=root, env=_env(root), capture_output=True,
                          text=True, check=False)
  if result.returncode:
    raise SystemExit(f"{args[0]} failed:\n{result.stderr}")
  return time.time() - start, _cpu_of_children() - cpu


def run_steps(which, model_dir, source, target):
  """{step: (wall, CPU)} of one fresh process; the start-up includes the
  interpreter's (the parent's clock around the child)."""
  start, cpu = time.time(), _cpu_of_children()
  result = subprocess.run([sys.executable, "-c", _STEPS, which, model_dir, source,
                           target], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, check=False)
  wall, cpu = time.time() - start, _cpu_of_children() - cpu
  if result.returncode:
    raise SystemExit(f"{which} steps failed:\n{result.stderr}")
  steps = {k: tuple(v) for k, v in
           json.loads(result.stdout.strip().splitlines()[-1]).items()}
  inside = [sum(v[i] for v in steps.values()) for i in (0, 1)]
  old = steps["python start-up"]
  # What the child's clocks did not see: interpreter start and exit.
  steps["python start-up"] = (old[0] + wall - inside[0], old[1] + cpu - inside[1])
  return steps


def _median(rows, key, i):
  return statistics.median(r[key][i] for r in rows)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--model_dir", required=True)
  parser.add_argument("--image", default="")
  parser.add_argument("--runs", type=int, default=3)
  parser.add_argument("--compare_root", default="")
  args = parser.parse_args()
  image = args.image
  if not image:
    sys.path.insert(0, ROOT)
    from compression.examples.images import data  # pylint: disable=g-import-not-at-top
    image = os.path.join(data.skimage_data_dir(), "chelsea.png")
  work = tempfile.mkdtemp(prefix="cli_time_")
  cim, png = os.path.join(work, "x.cim"), os.path.join(work, "x.png")
  commands = {
      "compress": ["compress", f"--model_dir={args.model_dir}", image, cim],
      "decompress": ["decompress", f"--model_dir={args.model_dir}", cim, png]}
  print(f"model {args.model_dir}, image {image}; median of {args.runs} fresh "
        "processes; seconds wall / CPU")
  roots = [ROOT] + ([os.path.abspath(args.compare_root)] if args.compare_root
                    else [])
  for which in ("compress", "decompress"):
    runs = {root: [] for root in roots}
    for _ in range(args.runs):
      for root in roots:  # interleaved: the load changes alike for both
        runs[root].append(run_command(commands[which], root))
    whole = runs[ROOT]
    for root in roots[1:]:
      print(f"\n{which}: the command of {root} "
            f"{statistics.median(w for w, _ in runs[root]):6.2f} / "
            f"{statistics.median(c for _, c in runs[root]):6.2f}")
    rows = [run_steps(which, args.model_dir, image if which == "compress" else cim,
                      cim if which == "compress" else os.path.join(work, "y.png"))
            for _ in range(args.runs)]
    print(f"\n{which}: the command {statistics.median(w for w, _ in whole):6.2f} / "
          f"{statistics.median(c for _, c in whole):6.2f}")
    for key in ORDER:
      print(f"  {key:18s} {_median(rows, key, 0):6.2f} / {_median(rows, key, 1):6.2f}")


if __name__ == "__main__":
  main()
