"""Encoder and decoder sessions: uint8 images <-> compressed image files (bytes).

Each builds only its own graph (the decoder: entropy decoding, the integer
hyper-synthesis and the synthesis transform) and restores only those variables from
the newest checkpoint of the model directory. Construction is the slow part (graph,
restore, about a second); reuse one object for many images.

Images larger than `tile_size` (padded) on either side run the analysis, the
integer hyper-synthesis and the synthesis tile by tile (tiling.py): peak memory
stays bounded whatever the image size, the coded y and z (and so the file) are
those of the whole-image transforms up to float rounding, and smaller images take
the whole-image path unchanged.
"""

import dataclasses
import os
import time

import numpy as np
import tensorflow as tf

from compression.examples import inputs
from compression.examples.common import fingerprint as fingerprint_lib
from compression.examples.images import config as config_lib
from compression.examples.images import container
from compression.examples.images import data
from compression.examples.images import model as model_lib
from compression.examples.images import refine as refine_lib
from compression.examples.images import shipped
from compression.examples.images import tiling

v1 = tf.compat.v1


class CheckpointError(ValueError):
  """A model directory that cannot be used (one line)."""


class DecodeError(ValueError):
  """A file whose strings do not decode exactly with this model (one line)."""


class RefineSizeError(container.ContainerError):
  """Refinement (effort > 0) of an image above the tile size (one line): it needs
  the whole image's synthesis. An image-size limit, like ContainerError's, so the
  commands report it as one line and go on with the next file."""


def session_config(threads):
  if not threads:
    return None
  return v1.ConfigProto(intra_op_parallelism_threads=threads,
                        inter_op_parallelism_threads=threads)


def latest_checkpoint(model_dir):
  """The newest checkpoint prefix of `model_dir`, or None.

  Also when the folder was moved or copied to another machine: a `checkpoint`
  index that names another folder (older model directories hold absolute paths)
  is resolved by file name inside `model_dir`.
  """
  state = tf.train.get_checkpoint_state(model_dir)
  if state is None or not state.model_checkpoint_path:
    return None
  name = os.path.basename(state.model_checkpoint_path)
  for path in (state.model_checkpoint_path, os.path.join(model_dir, name)):
    if tf.io.gfile.exists(path + ".index"):
      return path
  return None


def restore(sess, model_dir):
  """Restores the graph's variables from the newest checkpoint of `model_dir`, or
  from a shipped model's weights (shipped.py); returns the checkpoint prefix or the
  shipped folder. Checkpoints with the variable names of the transforms before
  SignalConv2D load too (model.checkpoint_restorer)."""
  if shipped.is_shipped(model_dir):
    try:
      shipped.load(sess, model_dir)
    except shipped.ShippedModelError as error:
      raise CheckpointError(str(error)) from None
    return model_dir
  checkpoint = latest_checkpoint(model_dir)
  if checkpoint is None:
    raise CheckpointError(f"{model_dir} has no checkpoint; train a model first")
  try:
    if model_lib.is_legacy_checkpoint(checkpoint):  # names before SignalConv2D
      with sess.graph.as_default():
        run, missing = model_lib.checkpoint_restorer(checkpoint,
                                                     v1.global_variables())
      if missing:
        raise CheckpointError(f"{checkpoint} does not fit this model "
                              f"({missing[0].op.name} is not in it)")
      run(sess)
    else:
      v1.train.Saver().restore(sess, checkpoint)
  except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
          tf.errors.DataLossError) as error:
    first = (error.message or "").strip().splitlines()
    raise CheckpointError(
        f"{checkpoint} does not fit this model ({first[0] if first else error})"
    ) from None
  return checkpoint


def table_min_bits(checkpoint, layer):
  """float64 [rows]: the fewest bits a symbol of each CDF row of `layer`'s
  coding tables costs (inputs.min_bits_per_row), read from the checkpoint; None
  if it holds no such tables."""
  names = (f"{layer}/cdf", f"{layer}/cdf_length")
  if shipped.is_shipped(checkpoint):
    stored = shipped.values(checkpoint)
    if not all(n in stored for n in names):
      return None
    return inputs.min_bits_per_row(*(stored[n] for n in names))
  reader = tf.train.load_checkpoint(checkpoint)
  if not all(reader.has_tensor(n) for n in names):
    return None
  return inputs.min_bits_per_row(*(reader.get_tensor(n) for n in names))


def _channel_bits(bits, channels):
  """Fewest bits of one position of `channels` channels, one CDF row each (the
  EntropyBottleneck); any row when the rows do not match the channels."""
  if bits is None or not len(bits):
    return 0.
  if len(bits) == channels:
    return float(bits.sum())
  return channels * float(bits.min())


def load_model(model_dir):
  config = config_lib.require(model_dir)
  return config, model_lib.ImageModel(config["architecture"], config["num_filters"],
                                      config["latent_filters"],
                                      config_lib.hyper_width(config))


# The hyper-synthesis' tiles (of z_hat) are this many times the transforms'
# tiles a side: its activations per pixel are a fraction of theirs.
HYPER_TILE_FACTOR = 2


class _Tiled:
  """`tile_size` of an Encoder or Decoder (tiling.py): checked when set; may be
  changed between images."""

  @property
  def tile_size(self):
    return self._tile_size

  @tile_size.setter
  def tile_size(self, value):
    self._per_tile = tiling.check_tile_size(value, self.model.stages)
    self._margin = tiling.margin(self.model.stages)
    self._tile_size = value

  def _tiled(self, y_height, y_width):
    """Whether an image of y_height x y_width y positions goes in tiles."""
    t = tiling.stride(self.model.stages)
    return tiling.tiled(t * y_height, t * y_width, self.model.stages,
                        self._per_tile)

  def _scale_indexes(self, z_hat):
    """int32 [1, 4 h, 4 w, M]: the integer hyper-synthesis of z_hat [1, h, w, N]
    (the graph's "indexes"), in tiles of the tile size: whole, its float64
    activations at y's resolution take about 12 kB per y position."""
    stages = tiling.hyper_stages(model_lib.HyperSynthesis.LAYERS)
    per_tile = max(self._per_tile * HYPER_TILE_FACTOR // tiling.stride(stages), 1)
    return tiling.scale_indexes(
        lambda z: self.sess.run(self._out["indexes"], {self._out["z_hat"]: z}),
        z_hat, stages, per_tile, tiling.margin(stages), self.model.latent_filters)


@dataclasses.dataclass
class Encoded:
  """One compressed image: the file's bytes and what the encoder knows of it."""
  blob: bytes
  bits_estimate: float   # the entropy model's estimate of the two strings, bits
  y_hat: np.ndarray      # float32 [1, h, w, M], what the decoder will decode
  z_hat: np.ndarray      # float32 [1, h/4, w/4, N] (hyperprior models) or None
  seconds: float
  y_symbols: np.ndarray  # int32 [1, h, w, M], the integers coded in y

  def bpp(self, height, width):
    return 8. * len(self.blob) / (height * width)


class Encoder(_Tiled):
  """`Encoder(model_dir).compress(image)`: uint8 [H, W, 3] -> Encoded.

  refinable: also build the graph of encoder-side refinement (refine.py), which
  `compress(image, effort=N)` with N > 0 needs (it adds the synthesis transform).
  tile_size: images whose padded height or width exceeds it (pixels) run the
    analysis in tiles of about that side plus margins (tiling.py); 0 or None:
    always the whole image (memory grows with the image). Refinement needs the
    whole image: `effort` > 0 on an image above the tile size is refused.
    An attribute too (set it between images).
  """

  def __init__(self, model_dir, threads=0, refinable=False,
               tile_size=tiling.DEFAULT_TILE_SIZE):
    self.config, self.model = load_model(model_dir)
    # A decode-only shipped model (models/legacy/) has no analysis to restore.
    shipped.check_encodes(model_dir)
    if refinable and not self.model.refinable:
      raise config_lib.ConfigError(
          f"{model_dir}: encoder-side refinement (effort > 0) is not available for "
          f"{self.model.architecture} models; compress with effort 0")
    self.tile_size = tile_size
    self.graph = tf.Graph()
    with self.graph.as_default():
      self._x = v1.placeholder(tf.float32, [1, None, None, 3], "x")
      self._out = self.model.encoder_graph(
          self._x, lmbda=self.config["lambda"] if refinable else None)
      self._refine = self._out.pop("refine", None)
      self.sess = v1.Session(config=session_config(threads))
      self.checkpoint = restore(self.sess, model_dir)
      self.fingerprint = fingerprint_lib.model_fingerprint(
          self.sess.run(self._out["fingerprints"]))
    self.graph.finalize()

  def compress(self, image, effort=0, log=None):
    """uint8 [H, W, 3] -> Encoded; `effort` > 0 refines y first (refine.py's
    EFFORT_STEPS; the Encoder must be `refinable`)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
      raise ValueError(f"compress needs a uint8 [H, W, 3] image, got "
                       f"{image.dtype} {image.shape}")
    steps = refine_lib.check_effort(effort)
    if steps and self._refine is None:
      raise ValueError("effort > 0 needs an Encoder made with refinable=True")
    height, width = image.shape[:2]
    container.check_image_size(width, height)
    fetches = {k: v for k, v in self._out.items()
               if k not in ("fingerprints", "y", "z", "indexes")}
    stride = self.model.total_stride
    padded_shape = (-(-height // stride) * stride, -(-width // stride) * stride)
    t = tiling.stride(self.model.stages)
    if self._tiled(padded_shape[0] // t, padded_shape[1] // t):
      if steps:
        raise RefineSizeError(
            f"effort > 0 refines the whole image, and this {width}x{height} image "
            f"is above the tile size ({self.tile_size} pixels a side): compress it "
            "with effort 0, or from Python with codec.Encoder(tile_size=0) (the "
            "whole image at once, memory growing with it)")
      start = time.time()
      y = tiling.analysis(
          lambda x: self.sess.run(self._out["y"], {self._x: x}), image,
          padded_shape, self.model.stages, self._per_tile, self._margin,
          self.model.latent_filters)
      # The rest (hyper-analysis, quantization, entropy coding) on the whole y,
      # with the hyper-synthesis' scale indexes computed in tiles.
      feed = {self._out["y"]: y}
      if self.model.hyperprior:
        z, z_hat = self.sess.run([self._out["z"], self._out["z_hat"]], feed)
        feed.update({self._out["z"]: z,
                     self._out["indexes"]: self._scale_indexes(z_hat)})
        del z_hat
      out = self.sess.run(fetches, feed)
      return self._encoded(out, height, width, time.time() - start)
    padded = data.pad_to_multiple(image, stride)
    start = time.time()
    feed = {self._x: padded[None].astype(np.float32) / 255.}
    if steps:
      latents = self.sess.run({k: self._out[k] for k in ("y", "z") if k in self._out},
                              feed)
      feed.update({self._out[k]: v for k, v in latents.items()})
      feed[self._refine["size"]] = np.array([height, width], np.int32)
      refined = refine_lib.refine(self.sess, self._refine, feed, latents["y"],
                                  steps, z=latents.get("z"), log=log)
      # Code the refined latents (z's rounding gives y's scales, as it does to
      # the decoder).
      if "z" in latents:
        y, z = refined
        feed = {self._x: feed[self._x], self._out["y"]: y, self._out["z"]: z}
      else:
        feed = {self._x: feed[self._x], self._out["y"]: refined}
    out = self.sess.run(fetches, feed)
    return self._encoded(out, height, width, time.time() - start)

  def _encoded(self, out, height, width, seconds):
    compressed = container.CompressedImage(
        architecture=self.model.architecture, fingerprint=self.fingerprint,
        height=height, width=width, y_shape=tuple(int(s) for s in out["y_shape"]),
        z_shape=tuple(int(s) for s in out.get("z_shape", (0, 0, 0))),
        y_string=out["y_string"], z_string=out.get("z_string", b""))
    return Encoded(container.pack(compressed), float(out["bits_estimate"]),
                   out["y_hat"], out.get("z_hat"), seconds, out["y_symbols"])


@dataclasses.dataclass
class Decoded:
  image: np.ndarray      # uint8 [H, W, 3]
  y_hat: np.ndarray
  z_hat: np.ndarray
  seconds: float
  y_symbols: np.ndarray  # int32, the integers decoded from y's string


class Decoder(_Tiled):
  """`Decoder(model_dir).decompress(blob)`: file bytes -> Decoded.

  tile_size: images whose padded height or width exceeds it (pixels) run the
  synthesis in tiles of about that side plus margins, each rounded to uint8 as it
  comes (tiling.py); 0 or None: always the whole image. An attribute too.
  """

  def __init__(self, model_dir, threads=0, tile_size=tiling.DEFAULT_TILE_SIZE):
    self.config, self.model = load_model(model_dir)
    self.tile_size = tile_size
    self.graph = tf.Graph()
    with self.graph.as_default():
      self._y_string = v1.placeholder(tf.string, [], "y_string")
      self._z_string = v1.placeholder(tf.string, [], "z_string")
      self._y_shape = v1.placeholder(tf.int32, [3], "y_shape")
      self._z_shape = v1.placeholder(tf.int32, [3], "z_shape")
      if self.model.hyperprior:
        self._out = self.model.decoder_graph(self._y_string, self._y_shape,
                                             self._z_string, self._z_shape)
      else:
        self._out = self.model.decoder_graph(self._y_string, self._y_shape)
      self.sess = v1.Session(config=session_config(threads))
      self.checkpoint = restore(self.sess, model_dir)
      self.fingerprint = fingerprint_lib.model_fingerprint(
          self.sess.run(self._out["fingerprints"]))
    self.graph.finalize()
    self._min_bits = {layer: table_min_bits(self.checkpoint, layer) for layer in
                      ("entropy_bottleneck", "gaussian_conditional")}

  def check_string_lengths(self, compressed, where="file"):
    """ContainerError unless each string is long enough for the latents its
    header claims, at this model's cheapest symbols (a string of L bytes holds
    at most 8 L + 64 bits of symbols, inputs.STRING_SLACK_BITS): a forged or
    damaged image size is refused before anything is decoded or allocated."""
    eb = self._min_bits.get("entropy_bottleneck")
    yh, yw, yc = compressed.y_shape
    if self.model.hyperprior:
      zh, zw, zc = compressed.z_shape
      gc = self._min_bits.get("gaussian_conditional")
      gc_bits = float(gc.min()) if gc is not None and len(gc) else 0.
      claims = [("z", compressed.z_string, compressed.z_shape,
                 zh * zw * _channel_bits(eb, zc)),
                ("y", compressed.y_string, compressed.y_shape,
                 yh * yw * yc * gc_bits)]
    else:
      claims = [("y", compressed.y_string, compressed.y_shape,
                 yh * yw * _channel_bits(eb, yc))]
    for name, string, shape, bits in claims:
      needed = inputs.string_bytes_needed(bits)
      if len(string) < needed:
        raise container.ContainerError(
            f"{where}: its {name} string has {len(string)} bytes, but {name} "
            f"latents of shape {tuple(shape)} take at least {needed} with this "
            f"model; the header's size {compressed.width}x{compressed.height} "
            "is damaged or forged")

  def decompress(self, blob, where="file"):
    compressed = container.unpack(blob, where)
    if compressed.architecture != self.model.architecture:
      raise container.ContainerError(
          f"{where} was made by a {compressed.architecture} model, this model is "
          f"{self.model.architecture}")
    if compressed.fingerprint != self.fingerprint:
      raise container.ContainerError(
          f"{where} was made with other coding tables (fingerprint "
          f"{fingerprint_lib.format_fingerprint(compressed.fingerprint)}, this model's "
          f"is {fingerprint_lib.format_fingerprint(self.fingerprint)}); "
          "decode it with the model that wrote it")
    if (compressed.y_shape[2] != self.model.latent_filters or
        self.model.hyperprior and compressed.z_shape[2] != self.model.hyper_filters):
      raise container.ContainerError(f"{where}: latent channels do not fit this model")
    self.check_string_lengths(compressed, where)
    feed = {self._y_string: compressed.y_string, self._y_shape: compressed.y_shape}
    if self.model.hyperprior:
      feed.update({self._z_string: compressed.z_string,
                   self._z_shape: compressed.z_shape})
    start = time.time()
    tiled = self._tiled(*compressed.y_shape[:2])
    if tiled and self.model.hyperprior:
      # y's scale indexes from z_hat in tiles (z decodes again below, cheaply).
      z_hat = self.sess.run(self._out["z_hat"], feed)
      indexes = self._scale_indexes(z_hat)
      if indexes.shape[1:] != tuple(compressed.y_shape):
        raise container.ContainerError(
            f"{where}: the y shape {tuple(compressed.y_shape)} does not match its z "
            f"shape {tuple(compressed.z_shape)}")
      feed.update({self._out["z_hat"]: z_hat, self._out["indexes"]: indexes})
    # Entropy decoding first; the synthesis (the memory of the whole image) runs
    # only on strings that decoded exactly, from the decoded y_hat.
    latents = [k for k in ("exact", "y_hat", "z_hat", "y_symbols") if k in self._out]
    out = self.sess.run({k: self._out[k] for k in latents}, feed)
    feed = None
    if not out["exact"]:
      raise DecodeError(f"{where}: the strings do not decode exactly (corrupt file "
                        "or another model's file)")
    if tiled:
      image = tiling.synthesis(
          lambda y_hat: self.sess.run(self._out["x_hat"], {self._out["y_hat"]: y_hat}),
          out["y_hat"], compressed.height, compressed.width, self.model.stages,
          self._per_tile, self._margin)
    else:
      x_hat = self.sess.run(self._out["x_hat"], {self._out["y_hat"]: out["y_hat"]})
      image = np.round(x_hat[0] * 255.).astype(np.uint8)
      image = image[:compressed.height, :compressed.width]
      del x_hat
    seconds = time.time() - start
    return Decoded(image, out["y_hat"], out.get("z_hat"), seconds, out["y_symbols"])
