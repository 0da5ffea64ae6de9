"""Evaluation of one trained model on image files: real file sizes and quality.

Each image goes through the whole codec: `codec.Encoder.compress` writes the .cim
bytes, `codec.Decoder.decompress` reads them back (container checks included), and
the quantized latents of both sides must be identical. Reported per image:

  bytes          size of the .cim file (header, strings and CRC)
  bpp            8 * bytes / (H * W), the original (unpadded) pixels
  bpp_estimate   the entropy model's estimate of the strings, bits / (H * W)
  psnr, ms_ssim  of the decoded uint8 image against the original (metrics.py)
  seconds        {"encode", "decode"}: wall time of the compress / decompress
                 calls (the first image also warms the sessions up)

and their means over the images. With `effort` > 0 the encoder refines y for each
image first (`compress --effort`, refine.py); the decoder is the same.
"""

import hashlib
import os
import time

import numpy as np
import tensorflow as tf

from compression.examples.images import codec
from compression.examples.images import config as config_lib
from compression.examples.images import data
from compression.examples.images import metrics
from compression.examples.images import refine
from compression.examples.images import shipped

MEAN_KEYS = ("bpp", "bpp_estimate", "psnr", "ms_ssim")


def _same(a, b):
  if a is None or b is None:
    return a is None and b is None
  return a.shape == b.shape and np.array_equal(a, b)


def evaluate_image(encoder, decoder, image, name, effort=0):
  """One uint8 [H, W, 3] image through `encoder` (refining at `effort` > 0) and
  `decoder` -> dict (see doc)."""
  height, width = image.shape[:2]
  start = time.perf_counter()
  encoded = encoder.compress(image, effort=effort)
  encode_seconds = time.perf_counter() - start
  start = time.perf_counter()
  decoded = decoder.decompress(encoded.blob, where=name)
  decode_seconds = time.perf_counter() - start
  for latent in ("y_hat", "z_hat"):
    if not _same(getattr(encoded, latent), getattr(decoded, latent)):
      raise codec.DecodeError(
          f"{name}: the decoder's {latent} differs from the encoder's")
  pixels = height * width
  return {
      "name": name, "height": height, "width": width,
      "bytes": len(encoded.blob),
      "bpp": 8. * len(encoded.blob) / pixels,
      "bpp_estimate": encoded.bits_estimate / pixels,
      "psnr": metrics.psnr(image, decoded.image),
      "ms_ssim": metrics.ms_ssim(image, decoded.image),
      "seconds": {"encode": encode_seconds, "decode": decode_seconds},
  }


def means(rows, keys=MEAN_KEYS):
  """Means over the images (rows: dicts) of `keys`."""
  return {key: float(np.mean([row[key] for row in rows])) for key in keys}


def check_effort(model_dir, effort):
  """Before any work: ValueError unless `effort` is in refine.EFFORT_STEPS,
  config.ConfigError if it is > 0 and the model in `model_dir` cannot refine."""
  if refine.check_effort(effort) and not codec.load_model(model_dir)[1].refinable:
    raise config_lib.ConfigError(
        f"{model_dir}: encoder-side refinement (effort {effort}) is not available "
        f"for its architecture; evaluate it at effort 0")


def weights_digest(model_dir):
  """SHA-256 (hex) of the weights `evaluate` would load from `model_dir`: a
  shipped model's weights file, else the newest checkpoint's data and index files.
  codec.CheckpointError when there are none."""
  if shipped.is_shipped(model_dir):
    files = [os.path.join(model_dir, shipped.WEIGHTS_FILE)]
  else:
    prefix = codec.latest_checkpoint(model_dir)
    if prefix is None:
      raise codec.CheckpointError(f"{model_dir} has no checkpoint; train a model "
                                  "first")
    files = sorted(tf.io.gfile.glob(prefix + ".data-*")) + [prefix + ".index"]
  return files_sha256(files)


def files_sha256(paths):
  """SHA-256 (hex) of the files' contents, one after the other."""
  digest = hashlib.sha256()
  for path in paths:
    with tf.io.gfile.GFile(path, "rb") as f:
      for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
  return digest.hexdigest()


def evaluate(model_dir, paths, threads=0, log=print, effort=0):
  """Compresses and decompresses every image file of `paths` with one model.

  Args:
    model_dir: a trained model directory (config.json and a checkpoint).
    paths: PNG / JPEG files (a list of str).
    threads: TensorFlow intra/inter-op threads; 0 = TensorFlow's default.
    log: called with one line per image.
    effort: encoder-side refinement, as `compress --effort` (refine.EFFORT_STEPS;
      0: none).

  Returns:
    {"model_dir", "architecture", "lambda", "num_filters", "latent_filters",
     "hyper_filters", "checkpoint", "effort", "images": [per-image dicts, see the
     module doc], "mean": {"bpp", "bpp_estimate", "psnr", "ms_ssim",
     "encode_seconds", "decode_seconds" (means per image),
     "encode_seconds_per_megapixel", "decode_seconds_per_megapixel" (totals over
     the images' pixels)}}.

  Raises:
    data.DataError (an unreadable image), config.ConfigError / codec.CheckpointError
    (an unusable model, or effort > 0 with a model that cannot refine),
    codec.DecodeError (a round trip that is not exact), ValueError (an effort
    not in refine.EFFORT_STEPS).
  """
  paths = list(paths)
  if not paths:
    raise data.DataError("evaluate: no images")
  check_effort(model_dir, effort)
  encoder = codec.Encoder(model_dir, threads=threads, refinable=effort > 0)
  decoder = codec.Decoder(model_dir, threads=threads)
  rows = []
  try:
    for path in paths:
      name = os.path.basename(path)
      row = evaluate_image(encoder, decoder, data.read_image(path), name, effort)
      rows.append(row)
      log(f"{name}: {row['width']}x{row['height']}, {row['bytes']} bytes, "
          f"{row['bpp']:.4f} bpp (est. {row['bpp_estimate']:.4f}), "
          f"PSNR {row['psnr']:.2f} dB, MS-SSIM {row['ms_ssim']:.4f}, "
          f"encode {row['seconds']['encode']:.2f} s, "
          f"decode {row['seconds']['decode']:.2f} s")
  finally:
    encoder.sess.close()
    decoder.sess.close()
  mean = means(rows)
  mean["encode_seconds"] = float(np.mean([r["seconds"]["encode"] for r in rows]))
  mean["decode_seconds"] = float(np.mean([r["seconds"]["decode"] for r in rows]))
  megapixels = sum(r["height"] * r["width"] for r in rows) / 1e6
  for side in ("encode", "decode"):
    mean[f"{side}_seconds_per_megapixel"] = float(
        sum(r["seconds"][side] for r in rows) / megapixels)
  config = encoder.config
  return {
      "model_dir": model_dir, "architecture": config["architecture"],
      "lambda": config["lambda"], "num_filters": config["num_filters"],
      "latent_filters": config["latent_filters"],
      "hyper_filters": config_lib.hyper_width(config),
      "checkpoint": encoder.checkpoint, "effort": effort, "images": rows,
      "mean": mean,
  }
