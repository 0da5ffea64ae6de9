"""A TensorFlow Compression 1.3-era `bls2017.py`, run against this library.

Written for this project's tests from the public description of the 1.3 example
(Ballé, Laparra, Simoncelli, "End-to-end optimized image compression", ICLR 2017):
the transforms are `tf.keras.layers.Layer` subclasses that create their
SignalConv2D / GDN sublayers in `build` and keep them in `self._layers`; an
EntropyBottleneck is trained with its auxiliary loss and `updates[0]`; `compress`
writes the string and the shapes with `PackedTensors`, `decompress` unpacks them
into placeholders.

  python bls2017_v1_3.py [--verbose] [flags] train [--train_glob=...] ...
  python bls2017_v1_3.py [--verbose] [flags] compress IMAGE.png [FILE]
  python bls2017_v1_3.py [--verbose] [flags] decompress FILE [IMAGE.png]

`compress --verbose` prints the mean squared error, PSNR (and MS-SSIM for images of
at least 176 pixels a side) and bits per pixel of the image decoded in the same
process.

Against a script written for `tensorflow_compression` 1.3 (which already imported
`tensorflow.compat.v1`), only the lines marked `# 1.x:` differ. `self._layers` is a
reserved attribute of Keras 3 layers: run it with the `tf-keras` package and
`TF_USE_LEGACY_KERAS=1` (TensorFlow's documented way to run Keras 2 code).
"""

import glob

from absl import app
from absl.flags import argparse_flags
import numpy as np
import tensorflow.compat.v1 as tf

import compression as tfc  # 1.x: was `import tensorflow_compression as tfc`

tf.disable_v2_behavior()  # 1.x: added


def read_png(filename):
  """Graph op: PNG file -> float32 [H, W, 3] in [0, 1]."""
  pixels = tf.image.decode_png(tf.read_file(filename), channels=3)
  return tf.cast(pixels, tf.float32) / 255.


def quantize_image(image):
  """Float image in [0, 1] -> uint8 in [0, 255]."""
  return tf.cast(tf.round(tf.clip_by_value(image, 0., 1.) * 255.), tf.uint8)


def write_png(filename, image):
  """Graph op: float image in [0, 1] -> 8-bit PNG file."""
  return tf.write_file(filename, tf.image.encode_png(quantize_image(image)))


class _Stack(tf.keras.layers.Layer):
  """Applies the sublayers that `_make_layers()` returns, in order."""

  def __init__(self, num_filters, *args, **kwargs):
    self.num_filters = num_filters
    super(_Stack, self).__init__(*args, **kwargs)

  def build(self, input_shape):
    self._layers = self._make_layers()
    super(_Stack, self).build(input_shape)

  def call(self, tensor):
    for layer in self._layers:
      tensor = layer(tensor)
    return tensor


class AnalysisTransform(_Stack):
  """Image -> latents: 9x9 /4, 5x5 /2, 5x5 /2 correlations, GDN between them."""

  def _make_layers(self):
    n = self.num_filters
    return [
        tfc.SignalConv2D(n, (9, 9), name="layer_0", corr=True, strides_down=4,
                         padding="same_zeros", use_bias=True,
                         activation=tfc.GDN(name="gdn_0")),
        tfc.SignalConv2D(n, (5, 5), name="layer_1", corr=True, strides_down=2,
                         padding="same_zeros", use_bias=True,
                         activation=tfc.GDN(name="gdn_1")),
        tfc.SignalConv2D(n, (5, 5), name="layer_2", corr=True, strides_down=2,
                         padding="same_zeros", use_bias=False, activation=None),
    ]


class SynthesisTransform(_Stack):
  """Latents -> image: 5x5 x2, 5x5 x2, 9x9 x4 convolutions, IGDN between them."""

  def _make_layers(self):
    n = self.num_filters
    return [
        tfc.SignalConv2D(n, (5, 5), name="layer_0", corr=False, strides_up=2,
                         padding="same_zeros", use_bias=True,
                         activation=tfc.GDN(name="igdn_0", inverse=True)),
        tfc.SignalConv2D(n, (5, 5), name="layer_1", corr=False, strides_up=2,
                         padding="same_zeros", use_bias=True,
                         activation=tfc.GDN(name="igdn_1", inverse=True)),
        tfc.SignalConv2D(3, (9, 9), name="layer_2", corr=False, strides_up=4,
                         padding="same_zeros", use_bias=True, activation=None),
    ]


def train(args):
  files = sorted(glob.glob(args.train_glob))
  if not files:
    raise RuntimeError("no training images match {!r}".format(args.train_glob))
  with tf.device("/cpu:0"):
    dataset = tf.data.Dataset.from_tensor_slices(files)
    dataset = dataset.shuffle(buffer_size=len(files)).repeat()
    dataset = dataset.map(read_png, num_parallel_calls=args.preprocess_threads)
    dataset = dataset.map(
        lambda image: tf.random_crop(image, (args.patchsize, args.patchsize, 3)))
    dataset = dataset.batch(args.batchsize).prefetch(4)
  x = dataset.make_one_shot_iterator().get_next()
  pixels = args.batchsize * args.patchsize ** 2

  entropy_bottleneck = tfc.EntropyBottleneck()
  analysis_transform = AnalysisTransform(args.num_filters)
  synthesis_transform = SynthesisTransform(args.num_filters)

  y = analysis_transform(x)
  y_tilde, likelihoods = entropy_bottleneck(y, training=True)
  x_tilde = synthesis_transform(y_tilde)

  bpp = tf.reduce_sum(tf.log(likelihoods)) / (-np.log(2.) * pixels)
  mse = tf.reduce_mean(tf.squared_difference(x, x_tilde)) * 255. ** 2
  loss = args.lmbda * mse + bpp

  global_step = tf.train.create_global_step()
  main_step = tf.train.AdamOptimizer(1e-4).minimize(loss, global_step=global_step)
  aux_step = tf.train.AdamOptimizer(1e-3).minimize(entropy_bottleneck.losses[0])
  train_op = tf.group(main_step, aux_step, entropy_bottleneck.updates[0])

  tf.summary.scalar("loss", loss)
  tf.summary.scalar("bpp", bpp)
  tf.summary.scalar("mse", mse)
  tf.summary.image("original", quantize_image(x))
  tf.summary.image("reconstruction", quantize_image(x_tilde))

  hooks = [tf.train.StopAtStepHook(last_step=args.last_step),
           tf.train.NanTensorHook(loss)]
  with tf.train.MonitoredTrainingSession(
      hooks=hooks, checkpoint_dir=args.checkpoint_dir, save_checkpoint_secs=300,
      save_summaries_secs=60) as sess:
    while not sess.should_stop():
      sess.run(train_op)


def compress(args):
  x = tf.expand_dims(read_png(args.input_file), 0)
  x.set_shape([1, None, None, 3])
  x_shape = tf.shape(x)

  entropy_bottleneck = tfc.EntropyBottleneck()
  analysis_transform = AnalysisTransform(args.num_filters)
  synthesis_transform = SynthesisTransform(args.num_filters)

  y = analysis_transform(x)
  string = entropy_bottleneck.compress(y)

  # The decoder's image, rebuilt here for the statistics.
  y_hat, likelihoods = entropy_bottleneck(y, training=False)
  x_hat = synthesis_transform(y_hat)[:, :x_shape[1], :x_shape[2], :]

  pixels = tf.cast(tf.reduce_prod(x_shape[:-1]), tf.float32)
  information_bpp = tf.reduce_sum(tf.log(likelihoods)) / (-np.log(2.) * pixels)
  original = x * 255.
  decoded = tf.round(tf.clip_by_value(x_hat, 0., 1.) * 255.)
  mse = tf.reduce_mean(tf.squared_difference(original, decoded))
  psnr = tf.squeeze(tf.image.psnr(decoded, original, 255.))

  with tf.Session() as sess:
    tf.train.Saver().restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
    tensors = [string, tf.shape(x)[1:-1], tf.shape(y)[1:-1]]
    arrays = sess.run(tensors)
    packed = tfc.PackedTensors()
    packed.pack(tensors, arrays)
    with open(args.output_file, "wb") as f:
      f.write(packed.string)

    if args.verbose:
      mse_value, psnr_value, info_value, pixel_count = sess.run(
          [mse, psnr, information_bpp, pixels])
      print("Mean squared error: {:0.4f}".format(mse_value))
      print("PSNR (dB): {:0.2f}".format(psnr_value))
      if min(arrays[1]) >= 176:  # MS-SSIM's five scales need 176 pixels a side.
        msssim = tf.squeeze(tf.image.ssim_multiscale(decoded, original, 255.))
        print("Multiscale SSIM: {:0.4f}".format(sess.run(msssim)))
      print("Information content in bpp: {:0.4f}".format(info_value))
      print("Actual bits per pixel: {:0.4f}".format(
          8 * len(packed.string) / pixel_count))


def decompress(args):
  string = tf.placeholder(tf.string, [1])
  x_shape = tf.placeholder(tf.int32, [2])
  y_shape = tf.placeholder(tf.int32, [2])
  with open(args.input_file, "rb") as f:
    packed = tfc.PackedTensors(f.read())
  tensors = [string, x_shape, y_shape]
  arrays = packed.unpack(tensors)

  entropy_bottleneck = tfc.EntropyBottleneck(dtype=tf.float32)
  synthesis_transform = SynthesisTransform(args.num_filters)

  item_shape = tf.concat([y_shape, [args.num_filters]], axis=0)
  y_hat = entropy_bottleneck.decompress(string, item_shape,
                                        channels=args.num_filters)
  x_hat = synthesis_transform(y_hat)[0, :x_shape[0], :x_shape[1], :]
  write = write_png(args.output_file, x_hat)

  with tf.Session() as sess:
    tf.train.Saver().restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
    sess.run(write, feed_dict=dict(zip(tensors, arrays)))


def parse_args(argv):
  parser = argparse_flags.ArgumentParser()
  parser.add_argument("--verbose", "-V", action="store_true")
  parser.add_argument("--num_filters", type=int, default=128)
  parser.add_argument("--checkpoint_dir", default="train")
  commands = parser.add_subparsers(dest="command", required=True)
  train_cmd = commands.add_parser("train", help="Trains a model.")
  train_cmd.add_argument("--train_glob", default="images/*.png")
  train_cmd.add_argument("--batchsize", type=int, default=8)
  train_cmd.add_argument("--patchsize", type=int, default=256)
  train_cmd.add_argument("--lambda", type=float, default=0.01, dest="lmbda")
  train_cmd.add_argument("--last_step", type=int, default=1000000)
  train_cmd.add_argument("--preprocess_threads", type=int, default=16)
  for name, suffix in (("compress", ".tfci"), ("decompress", ".png")):
    cmd = commands.add_parser(name, help="{}es an image.".format(name.title()))
    cmd.add_argument("input_file")
    cmd.add_argument("output_file", nargs="?")
    cmd.set_defaults(suffix=suffix)
  args = parser.parse_args(argv[1:])
  if args.command != "train" and args.output_file is None:
    args.output_file = args.input_file + args.suffix
  return args


def main(args):
  {"train": train, "compress": compress, "decompress": decompress}[args.command](args)


if __name__ == "__main__":
  app.run(main, flags_parser=parse_args)
