"""A TensorFlow Compression 1.0-era `bls2017.py`, run against this library.

Written for this project's tests from the public description of the 1.0 example
(Ballé, Laparra, Simoncelli, "End-to-end optimized image compression", ICLR 2017):
functions that build the analysis and synthesis transforms (SignalConv2D with GDN /
IGDN) inside variable scopes, an EntropyBottleneck trained with its auxiliary loss
and `updates[0]`, and three commands:

  python bls2017_v1_0.py [--verbose] [flags] train
  python bls2017_v1_0.py [--verbose] [flags] compress IMAGE.png FILE
  python bls2017_v1_0.py [--verbose] [flags] decompress FILE IMAGE.png

The file is the two spatial sizes of the image, then of the latents (uint16 each),
then the range-coded string. `compress --verbose` prints the mean squared error, PSNR
and bits per pixel of the image decoded in the same process.

Against a script written for TensorFlow 1.x and `tensorflow_compression` 1.0, only
the lines marked `# 1.x:` differ: TensorFlow's own `tensorflow.compat.v1` import, the
`disable_v2_behavior()` call, and the import of this library as `tfc`.
"""

import argparse
import glob
import sys

import numpy as np
import tensorflow.compat.v1 as tf  # 1.x: was `import tensorflow as tf`

import compression as tfc  # 1.x: was `import tensorflow_compression as tfc`

tf.disable_v2_behavior()  # 1.x: added


def load_image(filename):
  """Graph op: PNG file -> float32 [H, W, 3] in [0, 1]."""
  pixels = tf.image.decode_png(tf.read_file(filename), channels=3)
  return tf.cast(pixels, tf.float32) / 255.


def save_image(filename, image):
  """Graph op: float image in [0, 1] -> 8-bit PNG file."""
  pixels = tf.cast(tf.round(tf.clip_by_value(image, 0., 1.) * 255.), tf.uint8)
  return tf.write_file(filename, tf.image.encode_png(pixels))


# (kernel size, resampling factor) of the three stages of each transform.
STAGES = ((9, 4), (5, 2), (5, 2))


def analysis_transform(tensor, num_filters):
  """Image [B, H, W, 3] -> latents [B, H/16, W/16, num_filters]."""
  with tf.variable_scope("analysis"):
    for index, (size, factor) in enumerate(STAGES):
      last = index == len(STAGES) - 1
      with tf.variable_scope("layer_{}".format(index)):
        conv = tfc.SignalConv2D(
            num_filters, (size, size), corr=True, strides_down=factor,
            padding="same_zeros", use_bias=not last,
            activation=None if last else tfc.GDN())
        tensor = conv(tensor)
  return tensor


def synthesis_transform(tensor, num_filters):
  """Latents -> image [B, 16 h, 16 w, 3] (to be cropped)."""
  with tf.variable_scope("synthesis"):
    for index, (size, factor) in enumerate(reversed(STAGES)):
      last = index == len(STAGES) - 1
      with tf.variable_scope("layer_{}".format(index)):
        conv = tfc.SignalConv2D(
            3 if last else num_filters, (size, size), corr=False, strides_up=factor,
            padding="same_zeros", use_bias=True,
            activation=None if last else tfc.GDN(inverse=True))
        tensor = conv(tensor)
  return tensor


def train(args):
  files = sorted(glob.glob(args.data_glob))
  if not files:
    raise RuntimeError("no training images match {!r}".format(args.data_glob))
  with tf.device("/cpu:0"):
    dataset = tf.data.Dataset.from_tensor_slices(files)
    dataset = dataset.shuffle(len(files)).repeat()
    dataset = dataset.map(load_image, num_parallel_calls=args.preprocess_threads)
    dataset = dataset.map(
        lambda image: tf.random_crop(image, (args.patchsize, args.patchsize, 3)))
    dataset = dataset.batch(args.batchsize).prefetch(4)
  x = dataset.make_one_shot_iterator().get_next()
  pixels = args.batchsize * args.patchsize ** 2

  y = analysis_transform(x, args.num_filters)
  entropy_bottleneck = tfc.EntropyBottleneck()
  y_tilde, likelihoods = entropy_bottleneck(y, training=True)
  x_tilde = synthesis_transform(y_tilde, args.num_filters)

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

  hooks = [tf.train.StopAtStepHook(last_step=args.last_step),
           tf.train.NanTensorHook(loss)]
  with tf.train.MonitoredTrainingSession(
      hooks=hooks, checkpoint_dir=args.checkpoint_dir, save_checkpoint_secs=300,
      save_summaries_secs=60) as sess:
    while not sess.should_stop():
      sess.run(train_op)


def compress(args):
  x = tf.expand_dims(load_image(args.input), 0)
  x.set_shape([1, None, None, 3])

  y = analysis_transform(x, args.num_filters)
  entropy_bottleneck = tfc.EntropyBottleneck()
  string = tf.squeeze(entropy_bottleneck.compress(y), axis=0)

  # The decoder's image, rebuilt here for the statistics.
  y_hat, likelihoods = entropy_bottleneck(y, training=False)
  x_hat = synthesis_transform(y_hat, args.num_filters)
  x_hat = x_hat[:, :tf.shape(x)[1], :tf.shape(x)[2], :]

  pixels = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
  information_bpp = tf.reduce_sum(tf.log(likelihoods)) / (-np.log(2.) * pixels)
  original = x * 255.
  decoded = tf.round(tf.clip_by_value(x_hat, 0., 1.) * 255.)
  mse = tf.reduce_mean(tf.squared_difference(original, decoded))

  with tf.Session() as sess:
    tf.train.Saver().restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
    string_value, x_shape, y_shape = sess.run([string, tf.shape(x), tf.shape(y)])
    with open(args.output, "wb") as f:
      f.write(np.array(x_shape[1:-1], dtype=np.uint16).tobytes())
      f.write(np.array(y_shape[1:-1], dtype=np.uint16).tobytes())
      f.write(string_value)

    if args.verbose:
      mse_value, info_value, pixel_count = sess.run([mse, information_bpp, pixels])
      file_bits = 8 * (8 + len(string_value))
      print("Mean squared error: {:0.4f}".format(mse_value))
      print("PSNR (dB): {:0.2f}".format(10 * np.log10(255. ** 2 / mse_value)))
      print("Information content in bpp: {:0.4f}".format(info_value))
      print("Actual bits per pixel: {:0.4f}".format(file_bits / pixel_count))


def decompress(args):
  with open(args.input, "rb") as f:
    x_shape = np.frombuffer(f.read(4), dtype=np.uint16)
    y_shape = np.frombuffer(f.read(4), dtype=np.uint16)
    string_value = f.read()

  entropy_bottleneck = tfc.EntropyBottleneck(dtype=tf.float32)
  y_hat = entropy_bottleneck.decompress(
      tf.constant([string_value]), [int(s) for s in y_shape] + [args.num_filters],
      channels=args.num_filters)
  x_hat = synthesis_transform(y_hat, args.num_filters)
  x_hat = x_hat[0, :int(x_shape[0]), :int(x_shape[1]), :]
  write = save_image(args.output, x_hat)

  with tf.Session() as sess:
    tf.train.Saver().restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
    sess.run(write)


def main(_):
  if args.command == "train":
    train(args)
  elif args.command == "compress":
    compress(args)
  else:
    decompress(args)


if __name__ == "__main__":
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument("command", choices=["train", "compress", "decompress"])
  parser.add_argument("input", nargs="?", help="compress: PNG; decompress: file")
  parser.add_argument("output", nargs="?", help="compress: file; decompress: PNG")
  parser.add_argument("--verbose", "-v", action="store_true")
  parser.add_argument("--num_filters", type=int, default=128)
  parser.add_argument("--checkpoint_dir", default="train")
  parser.add_argument("--data_glob", default="images/*.png")
  parser.add_argument("--batchsize", type=int, default=8)
  parser.add_argument("--patchsize", type=int, default=256)
  parser.add_argument("--lambda", type=float, default=0.1, dest="lmbda")
  parser.add_argument("--last_step", type=int, default=1000000)
  parser.add_argument("--preprocess_threads", type=int, default=16)
  args, unparsed = parser.parse_known_args()
  if args.command != "train" and not (args.input and args.output):
    parser.error("compress and decompress need an input and an output file")
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
