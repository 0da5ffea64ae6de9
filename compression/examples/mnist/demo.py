"""End-to-end demo: train briefly, compress 16 digits, decompress elsewhere.

<work_dir> is runs/mnist_demo by default (commands.py), the clone's ignored
runs/ folder when started from the clone (scripts/demo.sh).

1. train for a few hundred steps into <work_dir>/model (a fresh model each run)
2. compress test digits 0..15 into <work_dir>/digits.mnz
3. decompress it in a separate process
   (`python -m compression.examples.mnist decompress ...`), which builds a
   graph with only the decoder and reads only the file and the checkpoint
4. compare: per digit bits, MAE, PSNR; images in <work_dir>
"""

import dataclasses
import os
import subprocess
import sys

import numpy as np

from compression.examples.mnist import data
from compression.examples.mnist import files
from compression.examples.mnist import images as images_lib
from compression.examples.mnist import metrics
from compression.examples.mnist import train

# The directory holding the `compression` package, for the child process.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def decompress_in_subprocess(model_dir, path, output_dir, grid):
  """Runs the decompress command in a fresh Python process."""
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(
      [_ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
  cmd = [sys.executable, "-m", "compression.examples.mnist", "decompress",
         f"--model_dir={model_dir}", f"--input={path}",
         f"--output_dir={output_dir}", f"--grid={grid}"]
  proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                        check=False)
  if proc.returncode:
    raise RuntimeError(
        f"decompress process failed (exit {proc.returncode}):\n"
        f"{proc.stdout}{proc.stderr}")
  return cmd, proc.stdout


def run(data_dir, work_dir, steps=300, lmbda=2000.0, seed=0, count=16,
        log=print):
  """Runs the demo; returns the per-digit rows of the table."""
  data.resolve_data_dir(data_dir)  # Fails early, with instructions.
  model_dir = os.path.join(work_dir, "model")
  log(f"[1/4] training {steps} steps (lambda={lmbda:g}) into {model_dir}")
  config = dataclasses.replace(
      train.TrainConfig(model_dir=model_dir), data_dir=data_dir, steps=steps,
      lmbda=lmbda, seed=seed, log_every=max(1, steps // 6),
      resume=False)  # A fresh model each time, whatever the folder holds.
  train.train(config, log=log)

  path = os.path.join(work_dir, "digits.mnz")
  log(f"\n[2/4] compressing test digits 0..{count - 1} into {path}")
  originals, labels, _ = files.select_test_digits(data_dir, 0, count)
  # One string per digit, so that the table can show each digit's bytes.
  encoded = files.compress_digits(model_dir, originals, path,
                                  per_digit_strings=True)
  strings = encoded["strings"]
  log(f"      {encoded['file_size']} bytes: "
      f"{sum(len(s) for s in strings)} of coded strings + "
      f"{encoded['file_size'] - sum(len(s) for s in strings)} of container "
      f"(raw pixels: {originals.size} bytes)")

  decoded_dir = os.path.join(work_dir, "decoded")
  grid = os.path.join(work_dir, "decoded_grid.png")
  log("\n[3/4] decompressing in a separate process:")
  cmd, _ = decompress_in_subprocess(model_dir, path, decoded_dir, grid)
  log("      " + " ".join(cmd[1:]))
  decoded = np.stack([images_lib.read_png(os.path.join(decoded_dir,
                                                       files.png_name(i)))
                      for i in range(len(strings))])

  mae, mse = metrics.per_digit_errors(originals, decoded)
  psnr = metrics.psnr(mse)
  log("\n[4/4] results (pixels in [0, 1]; PSNR peak 1.0)")
  log("  digit  label  bytes  bits  est.bits     MAE  PSNR dB")
  rows = []
  for i, s in enumerate(strings):
    rows.append({"digit": i, "label": int(labels[i]), "bytes": len(s),
                 "bits": 8 * len(s), "estimated_bits": float(encoded["bits"][i]),
                 "mae": float(mae[i]), "psnr": float(psnr[i])})
    log(f"  {i:5d}  {labels[i]:5d}  {len(s):5d}  {8 * len(s):4d}  "
        f"{encoded['bits'][i]:8.1f}  {mae[i]:.4f}  {psnr[i]:7.2f}")
  total = metrics.summarize(mae, mse)
  log(f"  mean                {np.mean([8 * len(s) for s in strings]):6.1f}  "
      f"{np.mean(encoded['bits']):8.1f}  {total['mae']:.4f}  "
      f"{total['psnr']:7.2f}")
  comparison = os.path.join(work_dir, "comparison.png")
  images_lib.write_png(comparison, images_lib.upscale(
      images_lib.grid(np.concatenate([originals, decoded]), columns=count), 3))
  log(f"\nimages: {comparison} (top: originals, bottom: decoded), "
      f"{grid}, {decoded_dir}/")
  log(f"next: `python -m compression.examples.mnist evaluate "
      f"--model_dir={model_dir}` for the whole test set")
  return rows
