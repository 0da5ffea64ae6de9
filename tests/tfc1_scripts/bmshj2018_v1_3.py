"""A TensorFlow Compression 1.3-era `bmshj2018.py`, run against this library.

Written for this project's tests from the public description of the 1.3 example
(Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a scale
hyperprior", ICLR 2018): four `tf.keras.layers.Layer` transforms that keep their
SignalConv2D sublayers in `self._layers` (analysis and synthesis with GDN / IGDN,
hyper-analysis and hyper-synthesis with ReLUs, the latter with plain kernels); the
hyper-latents `z` pass an EntropyBottleneck, the latents `y` a GaussianConditional
whose scales the hyper-synthesis computes, coded with a table of 64 scales. Training
runs only `entropy_bottleneck.updates[0]`: the conditional model's tables exist from
the moment it is built. `compress` packs both strings and three shapes with
`PackedTensors`.

  python bmshj2018_v1_3.py [--verbose] [flags] train [--train_glob=...] ...
  python bmshj2018_v1_3.py [--verbose] [flags] compress IMAGE.png [FILE]
  python bmshj2018_v1_3.py [--verbose] [flags] decompress FILE [IMAGE.png]

`compress --verbose` prints the mean squared error, PSNR and bits per pixel of the
image decoded in the same process.

Against a script written for `tensorflow_compression` 1.3, only the lines marked
`# 1.x:` differ. Run it with the `tf-keras` package and `TF_USE_LEGACY_KERAS=1`
(`self._layers` is reserved in Keras 3 layers).
"""

import glob

from absl import app
from absl.flags import argparse_flags
import numpy as np
import tensorflow.compat.v1 as tf

import compression as tfc  # 1.x: was `import tensorflow_compression as tfc`

tf.disable_v2_behavior()  # 1.x: added

# The scales of the Gaussian coding tables: 64 of them, log-spaced.
SCALES_MIN = .11
SCALES_MAX = 256.
SCALES_LEVELS = 64


def scale_table():
  return np.exp(np.linspace(np.log(SCALES_MIN), np.log(SCALES_MAX), SCALES_LEVELS))


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


def conv(filters, size, name, down=1, up=1, bias=True, activation=None,
         plain=False):
  """One SignalConv2D stage ("same_zeros"); `plain`: a kernel without RDFT."""
  extra = {"kernel_parameterizer": None} if plain else {}
  return tfc.SignalConv2D(
      filters, (size, size), name=name, corr=up == 1, strides_down=down,
      strides_up=up, padding="same_zeros", use_bias=bias, activation=activation,
      **extra)


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
  """Image -> y: four 5x5 /2 correlations, GDN after the first three."""

  def _make_layers(self):
    n = self.num_filters
    return [conv(n, 5, "layer_{}".format(i), down=2, bias=i < 3,
                 activation=tfc.GDN(name="gdn_{}".format(i)) if i < 3 else None)
            for i in range(4)]


class SynthesisTransform(_Stack):
  """y -> image: four 5x5 x2 convolutions, IGDN after the first three."""

  def _make_layers(self):
    n = self.num_filters
    return [conv(n if i < 3 else 3, 5, "layer_{}".format(i), up=2,
                 activation=(tfc.GDN(name="igdn_{}".format(i), inverse=True)
                             if i < 3 else None))
            for i in range(4)]


class HyperAnalysisTransform(_Stack):
  """|y| -> z: 3x3 /1, 5x5 /2, 5x5 /2 correlations with ReLUs between them."""

  def _make_layers(self):
    n = self.num_filters
    return [conv(n, 3, "layer_0", activation=tf.nn.relu),
            conv(n, 5, "layer_1", down=2, activation=tf.nn.relu),
            conv(n, 5, "layer_2", down=2, bias=False)]


class HyperSynthesisTransform(_Stack):
  """z -> scales of y: 5x5 x2, 5x5 x2, 3x3 x1 convolutions, plain kernels."""

  def _make_layers(self):
    n = self.num_filters
    return [conv(n, 5, "layer_0", up=2, activation=tf.nn.relu, plain=True),
            conv(n, 5, "layer_1", up=2, activation=tf.nn.relu, plain=True),
            tfc.SignalConv2D(n, (3, 3), name="layer_2", corr=False, strides_up=1,
                             padding="same_zeros", use_bias=True,
                             kernel_parameterizer=None, activation=None)]


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

  analysis_transform = AnalysisTransform(args.num_filters)
  synthesis_transform = SynthesisTransform(args.num_filters)
  hyper_analysis_transform = HyperAnalysisTransform(args.num_filters)
  hyper_synthesis_transform = HyperSynthesisTransform(args.num_filters)
  entropy_bottleneck = tfc.EntropyBottleneck()

  y = analysis_transform(x)
  z = hyper_analysis_transform(abs(y))
  z_tilde, z_likelihoods = entropy_bottleneck(z, training=True)
  sigma = hyper_synthesis_transform(z_tilde)
  conditional_bottleneck = tfc.GaussianConditional(sigma, scale_table())
  y_tilde, y_likelihoods = conditional_bottleneck(y, training=True)
  x_tilde = synthesis_transform(y_tilde)

  bpp = (tf.reduce_sum(tf.log(y_likelihoods)) + tf.reduce_sum(tf.log(z_likelihoods))
         ) / (-np.log(2.) * pixels)
  mse = tf.reduce_mean(tf.squared_difference(x, x_tilde)) * 255. ** 2
  loss = args.lmbda * mse + bpp

  global_step = tf.train.create_global_step()
  main_step = tf.train.AdamOptimizer(1e-4).minimize(loss, global_step=global_step)
  aux_step = tf.train.AdamOptimizer(1e-3).minimize(entropy_bottleneck.losses[0])
  # Only the bottleneck's update op, as 1.3 does.
  train_op = tf.group(main_step, aux_step, entropy_bottleneck.updates[0])

  tf.summary.scalar("loss", loss)
  tf.summary.scalar("bpp", bpp)
  tf.summary.scalar("mse", mse)

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

  analysis_transform = AnalysisTransform(args.num_filters)
  synthesis_transform = SynthesisTransform(args.num_filters)
  hyper_analysis_transform = HyperAnalysisTransform(args.num_filters)
  hyper_synthesis_transform = HyperSynthesisTransform(args.num_filters)
  entropy_bottleneck = tfc.EntropyBottleneck()

  y = analysis_transform(x)
  y_shape = tf.shape(y)
  z = hyper_analysis_transform(abs(y))
  z_hat, z_likelihoods = entropy_bottleneck(z, training=False)
  sigma = hyper_synthesis_transform(z_hat)[:, :y_shape[1], :y_shape[2], :]
  conditional_bottleneck = tfc.GaussianConditional(sigma, scale_table())
  side_string = entropy_bottleneck.compress(z)
  string = conditional_bottleneck.compress(y)

  # The decoder's image, rebuilt here for the statistics.
  y_hat, y_likelihoods = conditional_bottleneck(y, training=False)
  x_hat = synthesis_transform(y_hat)[:, :x_shape[1], :x_shape[2], :]

  pixels = tf.cast(tf.reduce_prod(x_shape[:-1]), tf.float32)
  information_bpp = (tf.reduce_sum(tf.log(y_likelihoods))
                     + tf.reduce_sum(tf.log(z_likelihoods))) / (-np.log(2.) * pixels)
  original = x * 255.
  decoded = tf.round(tf.clip_by_value(x_hat, 0., 1.) * 255.)
  mse = tf.reduce_mean(tf.squared_difference(original, decoded))
  psnr = tf.squeeze(tf.image.psnr(decoded, original, 255.))

  with tf.Session() as sess:
    tf.train.Saver().restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
    tensors = [string, side_string, tf.shape(x)[1:-1], tf.shape(y)[1:-1],
               tf.shape(z)[1:-1]]
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
      print("Information content in bpp: {:0.4f}".format(info_value))
      print("Actual bits per pixel: {:0.4f}".format(
          8 * len(packed.string) / pixel_count))


def decompress(args):
  string = tf.placeholder(tf.string, [1])
  side_string = tf.placeholder(tf.string, [1])
  x_shape = tf.placeholder(tf.int32, [2])
  y_shape = tf.placeholder(tf.int32, [2])
  z_shape = tf.placeholder(tf.int32, [2])
  with open(args.input_file, "rb") as f:
    packed = tfc.PackedTensors(f.read())
  tensors = [string, side_string, x_shape, y_shape, z_shape]
  arrays = packed.unpack(tensors)

  synthesis_transform = SynthesisTransform(args.num_filters)
  hyper_synthesis_transform = HyperSynthesisTransform(args.num_filters)
  entropy_bottleneck = tfc.EntropyBottleneck(dtype=tf.float32)

  z_item_shape = tf.concat([z_shape, [args.num_filters]], axis=0)
  z_hat = entropy_bottleneck.decompress(side_string, z_item_shape,
                                        channels=args.num_filters)
  sigma = hyper_synthesis_transform(z_hat)[:, :y_shape[0], :y_shape[1], :]
  conditional_bottleneck = tfc.GaussianConditional(sigma, scale_table(),
                                                   dtype=tf.float32)
  y_hat = conditional_bottleneck.decompress(string)
  x_hat = synthesis_transform(y_hat)[0, :x_shape[0], :x_shape[1], :]
  write = write_png(args.output_file, x_hat)

  with tf.Session() as sess:
    tf.train.Saver().restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
    sess.run(write, feed_dict=dict(zip(tensors, arrays)))


def parse_args(argv):
  parser = argparse_flags.ArgumentParser()
  parser.add_argument("--verbose", "-V", action="store_true")
  parser.add_argument("--num_filters", type=int, default=192)
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
