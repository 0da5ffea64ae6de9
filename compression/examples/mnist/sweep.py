"""Rate-distortion sweep: train and evaluate one model per lambda.

Writes into the output directory:
  lambda_<L>/                 model directory of each run (checkpoints,
                              config.json, metrics.json, evaluation.json)
  sweep.csv, sweep.md         one row per lambda: coded and estimated
                              bits/digit, MAE, PSNR, training steps and time
  rate_distortion.png         bits/digit vs MAE and vs PSNR
  examples_lambda_<L>.png     16 test digits: original, hex bitstring, bits,
                              reconstruction
"""

import csv
import dataclasses
import os

from compression.examples.mnist import errors
from compression.examples.mnist import evaluate
from compression.examples.mnist import plots
from compression.examples.mnist import train

COLUMNS = ("lambda", "coded_bits_per_digit", "estimated_bits_per_digit",
           "mae", "psnr", "steps", "train_seconds", "steps_per_sec")


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
      writer.writerow({k: row[k] for k in COLUMNS})
  md_path = os.path.join(output_dir, "sweep.md")
  with open(md_path, "w") as f:
    f.write("| lambda | coded bits/digit | estimated bits/digit | MAE | "
            "PSNR (dB) | steps | train time (s) |\n")
    f.write("|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in rows:
      f.write(f"| {r['lambda']:g} | {r['coded_bits_per_digit']:.2f} | "
              f"{r['estimated_bits_per_digit']:.2f} | {r['mae']:.4f} | "
              f"{r['psnr']:.2f} | {r['steps']} | {r['train_seconds']:.0f} |\n")
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
