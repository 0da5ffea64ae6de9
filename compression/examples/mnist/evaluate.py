"""Full test-set evaluation with real range-coded strings.

For every test digit: compress (Encoder graph), decompress (Decoder graph,
separate session), and check that the decoded latent equals the quantized y
exactly. Reports:

  coded bits/digit      8 * len(string), averaged, one string per digit: the
                        actual bitstream size
  shared-string bits    the same digits coded as files of `digits_per_file`
                        digits, one string per file (decoded and checked too)
  file bytes/digit      whole .mnz files of `digits_per_file` digits (header,
                        CRC, length prefixes included), both modes
  estimated bits/digit  sum of -log2(likelihood) of the quantized y, the model's guess
  container overhead    bytes a one-file .mnz of per-digit strings adds
                        (header, CRC, length prefixes), apart from the coded bits
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


def _file_sizes(encoder, decoder, y, y_hat, strings, fingerprint,
                digits_per_file):
  """Codes y [N, D] as files of `digits_per_file` digits in both modes.

  Decodes the shared strings and checks them against y_hat exactly.

  Returns:
    dict: digits_per_file, files, shared_coded_bits_per_digit,
    shared_file_bytes_per_digit, per_digit_file_bytes_per_digit.
  """
  shape = [encoder.latent_dims]
  shared_coded = shared_file = per_digit_file = files = 0
  for start in range(0, len(y), digits_per_file):
    n = min(digits_per_file, len(y) - start)
    k = min(n, container.DEFAULT_DIGITS_PER_STRING)
    shared = encoder.code(y[start:start + n], k)
    for first, latents in decoder.iter_latents(shared, n, k):
      if not np.array_equal(latents,
                            y_hat[start + first:start + first + len(latents)]):
        raise errors.RoundTripError(
            f"the shared string of digits {start + first}.. decoded to "
            "latents different from the encoder's quantized latents")
    shared_coded += sum(len(s) for s in shared)
    shared_file += len(container.pack(shared, shape, n, k, fingerprint))
    per_digit_file += len(container.pack(strings[start:start + n], shape, n, 1,
                                         fingerprint))
    files += 1
  n = max(len(y), 1)
  return {"digits_per_file": digits_per_file, "files": files,
          "shared_coded_bits_per_digit": 8 * shared_coded / n,
          "shared_file_bytes_per_digit": shared_file / n,
          "per_digit_file_bytes_per_digit": per_digit_file / n}


def evaluate(model_dir, data_dir="", test_size=0, batch_size=1000,
             digits_per_file=1000):
  """Evaluates the model in model_dir on the test set.

  Returns:
    (summary dict, details dict). details holds per-digit arrays: strings,
    bits, coded_bits, mae, mse, labels, images (originals), reconstructions.
  """
  codec.check_model_dir(model_dir)
  test_images, test_labels = data.load("test", data_dir)
  if test_size:
    test_images, test_labels = test_images[:test_size], test_labels[:test_size]

  with codec.Encoder(model_dir) as encoder, codec.Decoder(model_dir) as decoder:
    t0 = time.time()
    y, y_hat, bits = encoder.analyze(test_images, batch_size)
    strings = encoder.code(y, 1, batch_size)
    encode_seconds = time.time() - t0
    fingerprint = encoder.fingerprint()
    if fingerprint != decoder.fingerprint():
      raise errors.RoundTripError("encoder and decoder graphs disagree on the "
                                  "coding tables' fingerprint")
    t0 = time.time()
    reconstructions, latents = decoder.decompress(strings, len(strings), 1,
                                                  batch_size)
    decode_seconds = time.time() - t0
    file_sizes = _file_sizes(encoder, decoder, y, y_hat, strings, fingerprint,
                             digits_per_file)
  latent_shape = [encoder.latent_dims]

  # The encoder's quantized latents, compared exactly (float ==, so -0.0 == 0.0).
  mismatched = np.flatnonzero((latents != y_hat).any(axis=1))
  if mismatched.size:
    raise errors.RoundTripError(
        f"{mismatched.size} of {len(latents)} digits decoded to a latent "
        f"different from the encoder's quantized latent (first: {mismatched[:10].tolist()})")

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
        estimated_bits_per_digit=float(bits[mask].mean()))
    return result

  summary = block(np.ones(n, bool))
  summary.update(
      model_dir=model_dir,
      checkpoint=encoder.checkpoint,
      latent_dims=encoder.latent_dims,
      prior=encoder.prior_name,
      fingerprint=codec.format_fingerprint(fingerprint),
      latents_round_trip_exact=True,
      container_bytes=int(sum(len(s) for s in strings) + overhead),
      container_overhead_bytes=int(overhead),
      container_fixed_header_bytes=int(fixed),
      container_length_prefix_bytes_per_digit=float((overhead - fixed) / n),
      files=file_sizes,
      encode_digits_per_sec=n / encode_seconds,
      decode_digits_per_sec=n / decode_seconds,
      per_class={str(c): block(test_labels == c) for c in range(10)
                 if (test_labels == c).any()})
  details = {
      "strings": strings, "bits": bits, "coded_bits": coded_bits,
      "mae": mae, "mse": mse, "labels": test_labels, "images": test_images,
      "reconstructions": reconstructions, "latents": latents,
  }
  return summary, details


def format_report(summary):
  """Human-readable lines for `summary`."""
  lines = [
      f"model {summary['model_dir']} ({summary['checkpoint']}), "
      f"{summary['count']} test digits, latent_dims={summary['latent_dims']}, "
      f"prior={summary.get('prior', 'deep_factorized')}",
      f"  coded bits/digit      {summary['coded_bits_per_digit']:8.2f}  "
      "(actual range-coded strings)",
      f"  estimated bits/digit  {summary['estimated_bits_per_digit']:8.2f}  "
      "(-log2 likelihoods)",
      f"  files of {summary['files']['digits_per_file']} digits "
      f"({summary['files']['files']}): "
      f"{summary['files']['shared_file_bytes_per_digit']:.3f} bytes/digit "
      "with one shared string "
      f"({summary['files']['shared_coded_bits_per_digit']:.2f} coded "
      "bits/digit), "
      f"{summary['files']['per_digit_file_bytes_per_digit']:.3f} with "
      "per-digit strings",
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
