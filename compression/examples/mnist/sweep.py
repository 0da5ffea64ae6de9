"""Rate-distortion sweep: train and evaluate one model per lambda.

Writes into the output directory:
  lambda_<L>/                 model directory of each deep_factorized run
  <prior>/lambda_<L>/         ... and of each run of another prior
                              (noisy_logistic/lambda_<L>); each holds
                              checkpoints, config.json, metrics.json and
                              evaluation.json
  sweep.csv, sweep.md         one row per (prior, lambda): coded and estimated
                              bits/digit, MAE, PSNR, training steps and time;
                              a sweep of one prior keeps the rows of the
                              others, so two sweeps into one directory
                              tabulate both priors side by side
  rate_distortion.png         bits/digit vs MAE and vs PSNR, one curve set per
                              prior
  examples_lambda_<L>.png     16 test digits: original, hex bitstring, bits,
  (<prior>_lambda_<L>.png)    reconstruction

`report` redraws rate_distortion.png from sweep.csv and writes files.md (file
bytes per digit in both container modes, from each model directory's
evaluation.json), without training. A model directory with evaluation.json
and metrics.json (trained with `train`, measured with `evaluate`) gives its
row too, replacing sweep.csv's row of the same prior and lambda.
"""

import csv
import dataclasses
import glob
import json
import os

from compression.examples.mnist import config as config_lib
from compression.examples.mnist import errors
from compression.examples.mnist import evaluate
from compression.examples.mnist import plots
from compression.examples.mnist import train

COLUMNS = ("lambda", "coded_bits_per_digit", "estimated_bits_per_digit",
           "mae", "psnr", "steps", "train_seconds", "steps_per_sec",
           "shared_file_bits_per_digit", "prior")
# Rows sort by prior in this order, then by decreasing lambda.
_PRIOR_ORDER = {p: i for i, p in enumerate(config_lib.PRIORS)}


def model_subdir(output_dir, prior, lmbda):
  """Model directory of one run: lambda_<L>, or <prior>/lambda_<L>."""
  name = f"lambda_{lmbda:g}"
  if prior == config_lib.DEFAULT_PRIOR:
    return os.path.join(output_dir, name)
  return os.path.join(output_dir, prior, name)


def _sorted(rows):
  return sorted(rows, key=lambda r: (_PRIOR_ORDER.get(r["prior"], 99),
                                     str(r["prior"]), -r["lambda"]))


def make_row(lmbda, prior, summary, trained):
  """A table row from an evaluation summary and a training metrics dict
  (train.train's result or metrics.json: steps, wall_seconds,
  steps_per_sec)."""
  return {
      "prior": prior,
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
  }


def _merge(old, new):
  """`new` rows plus the `old` ones of other (prior, lambda) pairs."""
  keys = {(r["prior"], r["lambda"]) for r in new}
  return _sorted([r for r in old if (r["prior"], r["lambda"]) not in keys]
                 + list(new))


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
  """Writes sweep.csv and sweep.md (rows without "prior": deep_factorized)."""
  rows = _sorted([dict({"prior": config_lib.DEFAULT_PRIOR}, **r)
                  for r in rows])
  csv_path = os.path.join(output_dir, "sweep.csv")
  with open(csv_path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
      writer.writerow({k: row.get(k, "") for k in COLUMNS})
  md_path = os.path.join(output_dir, "sweep.md")
  with open(md_path, "w") as f:
    f.write("| prior | lambda | coded bits/digit (one string per digit) | file "
            "bits/digit (one shared string, files of 1000) | estimated "
            "bits/digit | MAE | PSNR (dB) | steps | train time (s) |\n")
    f.write("|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in rows:
      shared = r.get("shared_file_bits_per_digit")
      f.write(f"| {r['prior']} | {r['lambda']:g} | {r['coded_bits_per_digit']:.2f} | "
              f"{'-' if shared is None else f'{shared:.2f}'} | "
              f"{r['estimated_bits_per_digit']:.2f} | {r['mae']:.4f} | "
              f"{r['psnr']:.2f} | {r['steps']:.0f} | "
              f"{r['train_seconds']:.0f} |\n")
  return csv_path, md_path


def sweep(base_config, lambdas, output_dir, log=print):
  """Trains/evaluates each lambda with base_config.prior; returns the rows
  written to the tables (with sweep.csv's rows of other runs)."""
  os.makedirs(output_dir, exist_ok=True)
  csv_path = os.path.join(output_dir, "sweep.csv")
  old = read_table(csv_path) if os.path.isfile(csv_path) else []
  prior = base_config.prior
  rows = []
  for lmbda in lambdas:
    model_dir = model_subdir(output_dir, prior, lmbda)
    log(f"=== {prior}, lambda {lmbda:g} -> {model_dir}")
    config = dataclasses.replace(base_config, lmbda=lmbda, model_dir=model_dir)
    trained = train.train(config, log=log)
    summary, details = evaluate.evaluate(
        model_dir, config.data_dir, config.test_size)
    evaluate.write_summary(
        summary, os.path.join(model_dir, evaluate.EVALUATION_FILE))
    for line in evaluate.format_report(summary)[:5]:
      log(line)
    rows.append(make_row(lmbda, prior, summary, trained))
    plots.examples(
        details["images"][:16], details["reconstructions"][:16],
        details["strings"][:16], details["bits"][:16],
        details["labels"][:16].astype(int),
        f"{prior}, λ = {lmbda:g}: {summary['coded_bits_per_digit']:.1f} bits/digit, "
        f"MAE {summary['mae']:.4f}, PSNR {summary['psnr']:.2f} dB",
        os.path.join(output_dir, ("examples" if prior == config_lib.DEFAULT_PRIOR
                                  else prior) + f"_lambda_{lmbda:g}.png"))
    # Rewrite the tables after every run, so a partial sweep leaves results.
    write_tables(_merge(old, rows), output_dir)
  rows = _merge(old, rows)
  plots.rate_distortion(rows, os.path.join(output_dir, "rate_distortion.png"))
  return rows


def read_table(csv_path):
  """Rows of sweep.csv as dicts of floats (empty cells left out), "prior" a
  string (deep_factorized when the column is absent: older tables)."""
  with open(csv_path, newline="") as f:
    return [dict({k: float(v) for k, v in row.items()
                  if k != "prior" and v not in ("", None)},
                 prior=row.get("prior") or config_lib.DEFAULT_PRIOR)
            for row in csv.DictReader(f)]


def _evaluations(output_dir):
  """(prior, lambda, evaluation summary, model dir) of each lambda_*/ and
  <prior>/lambda_*/evaluation.json that has file sizes. The prior is the
  model directory's config.json's (deep_factorized without one)."""
  rows = []
  paths = []
  for pattern in ("lambda_*", os.path.join("*", "lambda_*")):
    paths += glob.glob(os.path.join(output_dir, pattern,
                                    evaluate.EVALUATION_FILE))
  for path in sorted(paths):
    with open(path) as f:
      summary = json.load(f)
    if "files" in summary:
      model_dir = os.path.dirname(path)
      lmbda = float(os.path.basename(model_dir)[len("lambda_"):])
      values = config_lib.read(model_dir)
      prior = values["prior"] if values else config_lib.DEFAULT_PRIOR
      rows.append((prior, lmbda, summary, model_dir))
  return rows


def files_table(output_dir):
  """Markdown table of file sizes per lambda from lambda_*/evaluation.json."""
  rows = _evaluations(output_dir)
  lines = [
      "| prior | lambda | estimated bits/digit | one shared string: coded "
      "bits/digit | shared: file bytes/digit | per-digit strings: file "
      "bytes/digit | shared file vs estimate |",
      "|:---|---:|---:|---:|---:|---:|---:|"]
  for prior, lmbda, s, _ in sorted(
      rows, key=lambda r: (_PRIOR_ORDER.get(r[0], 99), r[0], -r[1])):
    f = s["files"]
    est = s["estimated_bits_per_digit"]
    lines.append(
        f"| {prior} | {lmbda:g} | {est:.2f} | {f['shared_coded_bits_per_digit']:.2f} | "
        f"{f['shared_file_bytes_per_digit']:.3f} | "
        f"{f['per_digit_file_bytes_per_digit']:.3f} | "
        f"{100 * (8 * f['shared_file_bytes_per_digit'] / est - 1):+.1f}% |")
  digits = rows[0][2]["files"]["digits_per_file"] if rows else 0
  return lines, digits


def report(output_dir):
  """Rewrites sweep.csv/sweep.md and redraws rate_distortion.png; writes
  files.md.

  Rows: sweep.csv's, replaced or joined by the row of each model directory
  with evaluation.json and metrics.json; a model directory with only
  evaluation.json sets its row's shared-string file bits.

  Returns the paths written.
  """
  written = []
  csv_path = os.path.join(output_dir, "sweep.csv")
  rows = read_table(csv_path) if os.path.isfile(csv_path) else []
  measured = []
  for prior, lmbda, summary, model_dir in _evaluations(output_dir):
    metrics_path = os.path.join(model_dir, train.METRICS_FILE)
    if os.path.isfile(metrics_path):
      with open(metrics_path) as f:
        measured.append(make_row(lmbda, prior, summary, json.load(f)))
    else:
      for row in rows:
        if (row["prior"], row["lambda"]) == (prior, lmbda):
          row["shared_file_bits_per_digit"] = (
              8 * summary["files"]["shared_file_bytes_per_digit"])
  rows = _merge(rows, measured)
  if rows:
    written += write_tables(rows, output_dir)
    png = os.path.join(output_dir, "rate_distortion.png")
    plots.rate_distortion(rows, png)
    written.append(png)
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
