"""Full test-set evaluation with real range-coded strings.

For every test digit: compress (Encoder graph), decompress (Decoder graph,
separate session), and check that the decoded latent equals the quantized y
exactly. Reports:

  coded bits/digit      8 * len(string), averaged: the actual bitstream size
  estimated bits/digit  sum of -log2(likelihood) of the quantized y, the model's guess
  container overhead    bytes the .mnz file adds (header, CRC, length prefixes),
                        reported apart from the coded bits
  MAE, PSNR             on 8-bit reconstructions; PSNR in dB with peak 1.0,
                        computed from the mean squared error over the set
  per class             the same per digit label 0..9
"""

import json
import os
import time

import numpy as np

from compression.examples.mnist import codec
from compression.examples.mnist import container
from compression.examples.mnist import data
from compression.examples.mnist import errors
from compression.examples.mnist import metrics

EVALUATION_FILE = "evaluation.json"


def evaluate(model_dir, data_dir="", test_size=0, batch_size=1000):
  """Evaluates the model in model_dir on the test set.

  Returns:
    (summary dict, details dict). details holds per-digit arrays: strings,
    bits, coded_bits, mae, mse, labels, images (originals), reconstructions.
  """
  codec.check_model_dir(model_dir)
  test_images, test_labels = data.load("test", data_dir)
  if test_size:
    test_images, test_labels = test_images[:test_size], test_labels[:test_size]

  with codec.Encoder(model_dir) as encoder:
    t0 = time.time()
    encoded = encoder.compress(test_images, batch_size)
    encode_seconds = time.time() - t0
  latent_shape = [encoder.latent_dims]
  with codec.Decoder(model_dir) as decoder:
    t0 = time.time()
    reconstructions, latents = decoder.decompress(encoded["strings"],
                                                  batch_size)
    decode_seconds = time.time() - t0

  # The encoder's quantized latents, compared exactly (float ==, so -0.0 == 0.0).
  mismatched = np.flatnonzero((latents != encoded["latents"]).any(axis=1))
  if mismatched.size:
    raise errors.RoundTripError(
        f"{mismatched.size} of {len(latents)} digits decoded to a latent "
        f"different from the encoder's quantized latent (first: {mismatched[:10].tolist()})")

  strings = encoded["strings"]
  coded_bits = np.array([8 * len(s) for s in strings], np.float64)
  mae, mse = metrics.per_digit_errors(test_images, reconstructions)
  n = len(strings)
  overhead = container.overhead_bytes(strings, latent_shape)
  fixed = container.header_size(latent_shape) + container.CRC_SIZE

  def block(mask):
    result = metrics.summarize(mae[mask], mse[mask])
    result.update(
        count=int(mask.sum()),
        coded_bits_per_digit=float(coded_bits[mask].mean()),
        estimated_bits_per_digit=float(encoded["bits"][mask].mean()))
    return result

  summary = block(np.ones(n, bool))
  summary.update(
      model_dir=model_dir,
      checkpoint=encoder.checkpoint,
      latent_dims=encoder.latent_dims,
      latents_round_trip_exact=True,
      container_bytes=int(sum(len(s) for s in strings) + overhead),
      container_overhead_bytes=int(overhead),
      container_fixed_header_bytes=int(fixed),
      container_length_prefix_bytes_per_digit=float((overhead - fixed) / n),
      encode_digits_per_sec=n / encode_seconds,
      decode_digits_per_sec=n / decode_seconds,
      per_class={str(c): block(test_labels == c) for c in range(10)
                 if (test_labels == c).any()})
  details = {
      "strings": strings, "bits": encoded["bits"], "coded_bits": coded_bits,
      "mae": mae, "mse": mse, "labels": test_labels, "images": test_images,
      "reconstructions": reconstructions, "latents": latents,
  }
  return summary, details


def format_report(summary):
  """Human-readable lines for `summary`."""
  lines = [
      f"model {summary['model_dir']} ({summary['checkpoint']}), "
      f"{summary['count']} test digits, latent_dims={summary['latent_dims']}",
      f"  coded bits/digit      {summary['coded_bits_per_digit']:8.2f}  "
      "(actual range-coded strings)",
      f"  estimated bits/digit  {summary['estimated_bits_per_digit']:8.2f}  "
      "(-log2 likelihoods)",
      f"  MAE                   {summary['mae']:8.4f}",
      f"  PSNR                  {summary['psnr']:8.2f} dB",
      f"  container overhead    {summary['container_overhead_bytes']} bytes = "
      f"{summary['container_fixed_header_bytes']} header+CRC + "
      f"{summary['container_length_prefix_bytes_per_digit']:.2f}/digit "
      "length prefixes (not in coded bits)",
      "  latents round trip    exact (decompress(compress(y)) == quantize(y))",
      f"  speed                 encode {summary['encode_digits_per_sec']:.0f}, "
      f"decode {summary['decode_digits_per_sec']:.0f} digits/s",
      "",
      "  class  count  coded bits  est. bits     MAE   PSNR dB",
  ]
  for c, r in summary["per_class"].items():
    lines.append(
        f"  {c:>5}  {r['count']:5d}  {r['coded_bits_per_digit']:10.2f}  "
        f"{r['estimated_bits_per_digit']:9.2f}  {r['mae']:6.4f}  "
        f"{r['psnr']:8.2f}")
  return lines


def write_summary(summary, path):
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    json.dump(summary, f, indent=2)
