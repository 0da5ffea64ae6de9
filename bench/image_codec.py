"""Time of compressing and decompressing one 768x512 photograph with an image model,
split into transforms and entropy coding.

Run from the repository root after `bazel build //compression:all`, with a trained
model directory (config.json and a checkpoint), e.g. one written by

  python -m compression.examples.images train --model_dir /tmp/bmshj2018
  python bench/image_codec.py --model_dir /tmp/bmshj2018 [--runs 10] [--image x.png]

(any number of training steps will do for timing: the work does not depend on the
weights, only the coded size does). bmshj2018 and bls2017 models both work.

Image: --image, or the embedded motorcycle_left.png (741x500) resized to 768 pixels
wide (bicubic) and centre-cropped to 768x512, the size of a Kodak photograph.

The model's pieces (model.py) are built into one graph per side and each part is
timed by feeding its inputs directly (intermediate tensors fed through the feed
dict, so the upstream ops do not run):

  compress     transforms:      analysis, hyper-analysis, z rounding, integer
                                hyper-synthesis (scale-table indexes)
               entropy coding:  range coding of z (EntropyBottleneck) and of y
                                (GaussianConditional, incl. its table index lookup)
  decompress   entropy coding:  range decoding of z, then of y given the indexes
               transforms:      integer hyper-synthesis, synthesis

For bls2017 there is no z and no hyper-transform. Also timed: the whole side in one
session call. Printed: the median of --runs runs after one warm-up, in seconds; the
parts are timed separately, so they need not add up exactly to the whole. The round
trip is checked (decoded y_hat == encoded y_hat) before timing.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from compression.examples.images import codec
from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
from compression.examples.images import data  # pylint: disable=g-import-not-at-top
from compression.examples.images import model as model_lib  # pylint: disable=g-import-not-at-top

v1 = tf.compat.v1
WIDTH, HEIGHT = 768, 512
DEFAULT_PHOTO = "motorcycle_left.png"

# pylint: disable=protected-access


def default_image():
  """uint8 [512, 768, 3]: the embedded photograph, resized and centre-cropped."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  path = os.path.join(data.skimage_data_dir(), DEFAULT_PHOTO)
  with Image.open(path) as photo:
    photo = photo.convert("RGB")
    height = max(HEIGHT, round(photo.height * WIDTH / photo.width))
    photo = photo.resize((WIDTH, height), Image.BICUBIC)
    top = (height - HEIGHT) // 2
    return np.asarray(photo.crop((0, top, WIDTH, top + HEIGHT)), np.uint8)


def median_time(session, fetches, feed, runs):
  """Median seconds of `runs` calls after one warm-up."""
  session.run(fetches, feed)
  times = []
  for _ in range(runs):
    start = time.perf_counter()
    session.run(fetches, feed)
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def _session(model_dir, threads):
  config = None
  if threads:
    config = v1.ConfigProto(intra_op_parallelism_threads=threads,
                            inter_op_parallelism_threads=threads)
  session = v1.Session(config=config)
  codec.restore(session, model_dir)  # a checkpoint or a shipped model
  return session


def encoder_parts(model, x):
  """Tensors of the encoder side: y, z, indexes (hyperprior) and the strings."""
  y = model._analysis(x)
  eb = model._entropy_bottleneck()
  if not model.hyperprior:
    y_hat, _ = eb(y, training=False)
    return {"y": y, "y_hat": y_hat, "y_string": eb.compress(y)[0]}
  z = model_lib.hyper_analysis_transform(y, model.num_filters)
  z_hat, _ = eb(z, training=False)
  gc = model._conditional(model._hyper_synthesis(), z_hat)  # integer indexes
  y_hat, _ = gc(y, training=False)
  return {"y": y, "z": z, "indexes": gc.indexes, "y_hat": y_hat,
          "y_string": gc.compress(y)[0], "z_string": eb.compress(z)[0]}


def decoder_parts(model, y_string, y_shape, z_string, z_shape):
  """Tensors of the decoder side: z_hat, indexes (hyperprior), y_hat, x_hat."""
  eb = model._entropy_bottleneck()
  out = {}
  if model.hyperprior:
    z_hat = eb.decompress(tf.reshape(z_string, [1]), z_shape,
                          channels=model.num_filters)
    z_hat = tf.reshape(z_hat, tf.concat([[1], z_shape], 0))
    z_hat.set_shape([1, None, None, model.num_filters])
    gc = model._conditional(model._hyper_synthesis(), z_hat)
    y_hat = gc.decompress(tf.reshape(y_string, [1]))
    out.update(z_hat=z_hat, indexes=gc.indexes)
  else:
    y_hat = eb.decompress(tf.reshape(y_string, [1]), y_shape,
                          channels=model.latent_filters)
    y_hat = tf.reshape(y_hat, tf.concat([[1], y_shape], 0))
  y_hat.set_shape([1, None, None, model.latent_filters])
  out["y_hat"] = y_hat
  out["x_hat"] = tf.clip_by_value(
      model._synthesis(y_hat), 0., 1.)
  return out


def time_compress(model, model_dir, image, runs, threads):
  """Seconds (transforms, entropy coding, whole) and the encoder's values."""
  with tf.Graph().as_default():
    x = v1.placeholder(tf.float32, [1, None, None, 3])
    parts = encoder_parts(model, x)
    session = _session(model_dir, threads)
    feed = {x: data.pad_to_multiple(image, model.total_stride)[None] / 255.}
    strings = [k for k in ("y_string", "z_string") if k in parts]
    latents = [k for k in ("y", "z", "indexes") if k in parts]
    values = session.run(parts, feed)
    transforms = median_time(session, [parts[k] for k in latents], feed, runs)
    coded = {parts[k]: values[k] for k in latents}
    coding = median_time(session, [parts[k] for k in strings], coded, runs)
    whole = median_time(session, [parts[k] for k in strings], feed, runs)
    session.close()
  return (transforms, coding, whole), values


def time_decompress(model, model_dir, values, runs, threads):
  """Seconds (entropy coding, transforms, whole) and the decoded y_hat."""
  with tf.Graph().as_default():
    y_string = v1.placeholder(tf.string, [])
    z_string = v1.placeholder(tf.string, [])
    y_shape = tf.constant(values["y"].shape[1:], tf.int32)
    z_shape = (tf.constant(values["z"].shape[1:], tf.int32)
               if model.hyperprior else None)
    parts = decoder_parts(model, y_string, y_shape, z_string, z_shape)
    session = _session(model_dir, threads)
    feed = {y_string: values["y_string"]}
    if model.hyperprior:
      feed[z_string] = values["z_string"]
    decoded = session.run(parts, feed)
    if model.hyperprior:
      # Entropy decoding of z; of y given the indexes. Transforms: z_hat -> indexes,
      # y_hat -> x_hat.
      coding = (median_time(session, parts["z_hat"], feed, runs) +
                median_time(session, parts["y_hat"],
                            {y_string: values["y_string"],
                             parts["indexes"]: decoded["indexes"]}, runs))
      transforms = (median_time(session, parts["indexes"],
                                {parts["z_hat"]: decoded["z_hat"]}, runs) +
                    median_time(session, parts["x_hat"],
                                {parts["y_hat"]: decoded["y_hat"]}, runs))
    else:
      coding = median_time(session, parts["y_hat"], feed, runs)
      transforms = median_time(session, parts["x_hat"],
                               {parts["y_hat"]: decoded["y_hat"]}, runs)
    whole = median_time(session, parts["x_hat"], feed, runs)
    session.close()
  return (transforms, coding, whole), decoded["y_hat"]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--model_dir", required=True,
                      help="a trained image model directory (see the module doc)")
  parser.add_argument("--image", default="",
                      help="a PNG/JPEG file instead of the embedded photograph")
  parser.add_argument("--runs", type=int, default=10,
                      help="timed runs per measurement (median), after a warm-up")
  parser.add_argument("--threads", type=int, default=0,
                      help="TensorFlow intra/inter-op threads; 0 = default")
  args = parser.parse_args()
  try:
    config = config_lib.require(args.model_dir)
    if (codec.latest_checkpoint(args.model_dir) is None
        and not shipped.is_shipped(args.model_dir)):
      raise config_lib.ConfigError(f"{args.model_dir} has no checkpoint")
    image = data.read_image(args.image) if args.image else default_image()
  except (config_lib.ConfigError, data.DataError) as error:
    parser.error(str(error))
  if args.runs < 1:
    parser.error("--runs must be at least 1")
  model = model_lib.ImageModel(config["architecture"], config["num_filters"],
                               config["latent_filters"])

  encode, values = time_compress(model, args.model_dir, image, args.runs,
                                 args.threads)
  decode, y_hat = time_decompress(model, args.model_dir, values, args.runs,
                                  args.threads)
  if not np.array_equal(values["y_hat"], y_hat):
    sys.exit("round trip failed: the decoded y_hat differs from the encoder's")
  height, width = image.shape[:2]
  size = len(values["y_string"]) + len(values.get("z_string", b""))
  print(f"{config['architecture']} N={config['num_filters']} "
        f"M={config['latent_filters']} ({args.model_dir}), {width}x{height} image, "
        f"strings {size:,} bytes ({8 * size / (width * height):.3f} bpp); "
        f"median of {args.runs} runs, seconds:")
  print(f"  {'':11s} {'transforms':>10s} {'entropy coding':>15s} {'whole':>8s}")
  print(f"  {'compress':11s} {encode[0]:10.4f} {encode[1]:15.4f} {encode[2]:8.4f}")
  print(f"  {'decompress':11s} {decode[0]:10.4f} {decode[1]:15.4f} {decode[2]:8.4f}")


if __name__ == "__main__":
  main()
