"""Rate-distortion sweep: train and evaluate one model per lambda.

Writes into the output directory:
  lambda_<L>/                 model directory of each run (checkpoints,
                              config.json, metrics.json, evaluation.json)
  sweep.csv, sweep.md         one row per lambda: coded and estimated
                              bits/digit, MAE, PSNR, training steps and time
  rate_distortion.png         bits/digit vs MAE and vs PSNR
  examples_lambda_<L>.png     16 test digits: original, hex bitstring, bits,
                              reconstruction

`report` redraws rate_distortion.png from sweep.csv and writes files.md (file
bytes per digit in both container modes, from each lambda_<L>/
evaluation.json), without training.
"""

import csv
import dataclasses
import glob
import json
import os

from compression.examples.mnist import errors
from compression.examples.mnist import evaluate
from compression.examples.mnist import plots
from compression.examples.mnist import train

COLUMNS = ("lambda", "coded_bits_per_digit", "estimated_bits_per_digit",
           "mae", "psnr", "steps", "train_seconds", "steps_per_sec",
           "shared_file_bits_per_digit")


def parse_lambdas(text):
  try:
    values = [float(v) for v in text.split(",") if v.strip()]
  except ValueError:
    raise errors.InputError(f"--lambdas must be comma-separated numbers, got "
                     f"{text!r}") from None
  if not values or any(v <= 0 for v in values):
    raise errors.InputError(
        f"--lambdas must be positive numbers, got {text!r}")
  return values


def write_tables(rows, output_dir):
  csv_path = os.path.join(output_dir, "sweep.csv")
  with open(csv_path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
      writer.writerow({k: row.get(k, "") for k in COLUMNS})
  md_path = os.path.join(output_dir, "sweep.md")
  with open(md_path, "w") as f:
    f.write("| lambda | coded bits/digit (one string per digit) | file "
            "bits/digit (one shared string, files of 1000) | estimated "
            "bits/digit | MAE | PSNR (dB) | steps | train time (s) |\n")
    f.write("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in rows:
      shared = r.get("shared_file_bits_per_digit")
      f.write(f"| {r['lambda']:g} | {r['coded_bits_per_digit']:.2f} | "
              f"{'-' if shared is None else f'{shared:.2f}'} | "
              f"{r['estimated_bits_per_digit']:.2f} | {r['mae']:.4f} | "
              f"{r['psnr']:.2f} | {r['steps']:.0f} | "
              f"{r['train_seconds']:.0f} |\n")
  return csv_path, md_path


def sweep(base_config, lambdas, output_dir, log=print):
  """Trains/evaluates each lambda; returns the rows written to the tables."""
  os.makedirs(output_dir, exist_ok=True)
  rows = []
  for lmbda in lambdas:
    model_dir = os.path.join(output_dir, f"lambda_{lmbda:g}")
    log(f"=== lambda {lmbda:g} -> {model_dir}")
    config = dataclasses.replace(base_config, lmbda=lmbda, model_dir=model_dir)
    trained = train.train(config, log=log)
    summary, details = evaluate.evaluate(
        model_dir, config.data_dir, config.test_size)
    evaluate.write_summary(
        summary, os.path.join(model_dir, evaluate.EVALUATION_FILE))
    for line in evaluate.format_report(summary)[:5]:
      log(line)
    rows.append({
        "lambda": lmbda,
        "coded_bits_per_digit": summary["coded_bits_per_digit"],
        "estimated_bits_per_digit": summary["estimated_bits_per_digit"],
        "mae": summary["mae"],
        "psnr": summary["psnr"],
        "steps": trained["steps"],
        "train_seconds": trained["wall_seconds"],
        "steps_per_sec": trained["steps_per_sec"],
        "shared_file_bits_per_digit":
            8 * summary["files"]["shared_file_bytes_per_digit"],
    })
    plots.examples(
        details["images"][:16], details["reconstructions"][:16],
        details["strings"][:16], details["bits"][:16],
        details["labels"][:16].astype(int),
        f"λ = {lmbda:g}: {summary['coded_bits_per_digit']:.1f} bits/digit, "
        f"MAE {summary['mae']:.4f}, PSNR {summary['psnr']:.2f} dB",
        os.path.join(output_dir, f"examples_lambda_{lmbda:g}.png"))
    # Rewrite the tables after every run, so a partial sweep leaves results.
    write_tables(rows, output_dir)
  plots.rate_distortion(rows, os.path.join(output_dir, "rate_distortion.png"))
  return rows


def read_table(csv_path):
  """Rows of sweep.csv as dicts of floats (empty cells left out)."""
  with open(csv_path, newline="") as f:
    return [{k: float(v) for k, v in row.items() if v not in ("", None)}
            for row in csv.DictReader(f)]


def _evaluations(output_dir):
  """(lambda, evaluation summary) of each lambda_*/evaluation.json that has
  file sizes."""
  rows = []
  for path in glob.glob(os.path.join(output_dir, "lambda_*",
                                     evaluate.EVALUATION_FILE)):
    with open(path) as f:
      summary = json.load(f)
    if "files" in summary:
      lmbda = float(os.path.basename(os.path.dirname(path))[len("lambda_"):])
      rows.append((lmbda, summary))
  return rows


def files_table(output_dir):
  """Markdown table of file sizes per lambda from lambda_*/evaluation.json."""
  rows = _evaluations(output_dir)
  lines = [
      "| lambda | estimated bits/digit | one shared string: coded bits/digit "
      "| shared: file bytes/digit | per-digit strings: file bytes/digit | "
      "shared file vs estimate |",
      "|---:|---:|---:|---:|---:|---:|"]
  for lmbda, s in sorted(rows, reverse=True):
    f = s["files"]
    est = s["estimated_bits_per_digit"]
    lines.append(
        f"| {lmbda:g} | {est:.2f} | {f['shared_coded_bits_per_digit']:.2f} | "
        f"{f['shared_file_bytes_per_digit']:.3f} | "
        f"{f['per_digit_file_bytes_per_digit']:.3f} | "
        f"{100 * (8 * f['shared_file_bytes_per_digit'] / est - 1):+.1f}% |")
  digits = rows[0][1]["files"]["digits_per_file"] if rows else 0
  return lines, digits


def report(output_dir):
  """Redraws rate_distortion.png from sweep.csv; writes files.md.

  Returns the paths written.
  """
  written = []
  csv_path = os.path.join(output_dir, "sweep.csv")
  if os.path.isfile(csv_path):
    rows = read_table(csv_path)
    shared = {l: 8 * s["files"]["shared_file_bytes_per_digit"]
              for l, s in _evaluations(output_dir)}
    for row in rows:
      if row["lambda"] in shared:
        row["shared_file_bits_per_digit"] = shared[row["lambda"]]
    write_tables(rows, output_dir)
    png = os.path.join(output_dir, "rate_distortion.png")
    plots.rate_distortion(rows, png)
    written += [csv_path, png]
  lines, digits = files_table(output_dir)
  if len(lines) > 2:
    md = os.path.join(output_dir, "files.md")
    with open(md, "w") as f:
      f.write(f"Files of {digits} test digits.\n\n" + "\n".join(lines) + "\n")
    written.append(md)
  if not written:
    raise errors.InputError(f"{output_dir}: no sweep.csv and no lambda_*/"
                            "evaluation.json with file sizes")
  return written
