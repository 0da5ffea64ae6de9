"""Learning curve of one training run: held-out bpp and PSNR against CPU-hours.

  python scripts/learning_curve.py CURVE_DIR HELD_OUT_FOLDER OUT_PREFIX

CURVE_DIR holds copies of the run's checkpoints, `step_<N>/` each with config.json,
the checkpoint files and `cpu.json` ({"step", "cpu_seconds"}: the training process's
CPU time when the checkpoint was written), as scripts/image_models.sh keeps them.
Every checkpoint is evaluated on the held-out folder (real files, exact round trip);
writes OUT_PREFIX.csv and OUT_PREFIX.png (PSNR and bpp against CPU-hours). Steps
already in OUT_PREFIX.csv are kept, not evaluated again: copy a resumed run's new
checkpoints into CURVE_DIR and run it again to extend the curve.
"""

import csv
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(curve_dir, folder, prefix):
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  from compression.examples.images import evaluate  # pylint: disable=g-import-not-at-top
  paths = data.folder_paths(folder)
  rows = []
  if os.path.isfile(prefix + ".csv"):
    with open(prefix + ".csv") as f:
      rows = [{k: int(v) if k == "step" else float(v) for k, v in row.items()}
              for row in csv.DictReader(f)]
  known = {row["step"] for row in rows}
  for step_dir in sorted(glob.glob(os.path.join(curve_dir, "step_*")),
                         key=lambda d: int(d.rsplit("_", 1)[1])):
    with open(os.path.join(step_dir, "cpu.json")) as f:
      cpu = json.load(f)
    if cpu["step"] in known:
      continue
    result = evaluate.evaluate(step_dir, paths, log=lambda *a: None)
    mean = result["mean"]
    rows.append({"step": cpu["step"], "cpu_hours": cpu["cpu_seconds"] / 3600.,
                 "bpp": mean["bpp"], "psnr": mean["psnr"],
                 "ms_ssim": mean["ms_ssim"]})
    print(f"step {cpu['step']}: {rows[-1]['cpu_hours']:.3f} CPU-hours, "
          f"{mean['bpp']:.4f} bpp, {mean['psnr']:.2f} dB", flush=True)
  rows.sort(key=lambda row: row["step"])
  with open(prefix + ".csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  figure, left = plt.subplots(figsize=(7, 4))
  hours = [r["cpu_hours"] for r in rows]
  left.plot(hours, [r["psnr"] for r in rows], "o-", color="tab:blue")
  left.set_xlabel("training CPU-hours (2-core machine)")
  left.set_ylabel("held-out PSNR (dB)", color="tab:blue")
  right = left.twinx()
  right.plot(hours, [r["bpp"] for r in rows], "s--", color="tab:red")
  right.set_ylabel("held-out bits per pixel", color="tab:red")
  left.set_title(f"learning curve ({len(paths)} held-out photographs)")
  left.grid(alpha=.3)
  figure.tight_layout()
  figure.savefig(prefix + ".png", dpi=100)


if __name__ == "__main__":
  if len(sys.argv) != 4:
    sys.exit(__doc__)
  main(*sys.argv[1:])
