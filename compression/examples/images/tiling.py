"""Tiled analysis and synthesis: the transforms of a large image in bounded memory.

The analysis (x -> y) and the synthesis (y_hat -> x_hat) are convolutions with
"same" padding and GDN / IGDN (pointwise across channels), so each output depends
only on a window of the input around it. The codec runs them over a grid of tiles
of the padded image, each read with a margin of at least the transform's
receptive field on every side (clipped at the image's edges), and keeps each
tile's interior only; the stitched y (and x_hat) equal the whole-image ones up to
float rounding (the convolutions' summation order), since every kept output sees
exactly the inputs, and at the image's edges the same zero padding, that it sees
in the whole image. The hyper-analysis (z, at 1/4 of y's resolution), the
entropy coding and the file format are unchanged: y and z are coded whole, once.

Geometry (per axis; the same for rows and columns). `stride` T = the product of
the stages' strides (16: y has one position per T x T pixels). Tiles are cut in
y positions: a padded image of h = H'/T positions is split into
n = ceil(h / (tile_size / T)) near-equal runs [a, b) of positions. The analysis
of run [a, b) reads pixels [T (a - m), T (b + m)) and the synthesis of it reads y
[a - m, b + m) (both clipped to the image), with m = `margin(stages)` positions:
the receptive field (61 pixels for bmshj2018's 4 x conv 5x5 /2, 57 for
bls2017's 9x9 /4 + 2 x 5x5 /2) rounded up to whole positions, 4 (64 pixels) for
both. The exact reach is smaller (`analysis_reach`, `synthesis_reach`: y[i] reads
pixels T i - 15 .. T i + 45, x_hat's cell i reads y[i - 2 .. i + 1] for
bmshj2018), so the margin holds with room to spare. Tile boundaries at multiples
of T keep every layer's sizes even (multiples of its stride), so the padding that
"same" puts at an image edge is the same in a tile as in the whole image.

The hyper-synthesis' integer path (z_hat -> y's scale-table indexes, float64
activations at y's resolution: about 12 kB per y position, 2.3 GB for a
48-megapixel image) goes in tiles of z_hat the same way (`scale_indexes`; its
stages ((3, 1), (5, 2), (5, 2)), margin 4 z positions); it is exact in integers,
so its tiles give the whole z_hat's indexes bit for bit. The hyper-analysis (y ->
z, at y's resolution and below) stays whole: it is small.

Peak memory then grows with the tile (the transforms' activations, a few hundred
bytes per pixel of a tile with its margins) plus what stays whole (the uint8
image, y, z, the indexes and the entropy coding: about 20 bytes per pixel),
instead of about 300 bytes per pixel of the whole image.
"""

import math

import numpy as np

# Tile side in pixels of the padded image (a multiple of the stride), margins not
# counted: images up to this on both sides go the whole-image way (the same code
# as before tiling, where encoder-side refinement works: every held-out
# photograph, up to 4 Mpixels). A 48-megapixel photograph peaks at 1.9 GB to
# compress and 2.4 GB to decompress with it (1024: 1.7 and 1.6 GB, with a fifth
# more convolution work in the margins; whole: 13.6 and 14.5 GB; README.md).
DEFAULT_TILE_SIZE = 2048


def stride(stages):
  """Pixels per y position: the product of the stages' strides."""
  return math.prod(s for _, s in stages)


def _same_pad_before(kernel, step):
  # tf.nn.conv2d "SAME" on a size that is a multiple of the stride pads
  # kernel - stride in all, the smaller half before; conv2d_transpose is its adjoint.
  return max(kernel - step, 0) // 2


def analysis_reach(stages):
  """(before, after): y[i] depends on the padded image's pixels from T i - before
  to T i + after, both included (T = stride(stages))."""
  lo = hi = 0
  for kernel, step in reversed(stages):
    pad = _same_pad_before(kernel, step)
    lo, hi = lo * step - pad, hi * step - pad + kernel - 1
  return -lo, hi


def receptive_field(stages):
  """Pixels of the image one y position depends on (61 for 4 x conv 5x5 /2); the
  synthesis mirrors it: one y position touches as many pixels of x_hat."""
  before, after = analysis_reach(stages)
  return before + after + 1


def synthesis_reach(stages):
  """(before, after): x_hat's pixels T i .. T i + T - 1 depend on y[i - before]
  to y[i + after] (the transposed convolutions, the last one first)."""
  lo, hi = 0, stride(stages) - 1
  for kernel, step in stages:  # the synthesis' last layer mirrors stages[0]
    pad = _same_pad_before(kernel, step)
    # A transposed convolution's input j writes outputs [j s - pad, j s - pad + k - 1].
    lo = -((-(lo + pad - kernel + 1)) // step)
    hi = (hi + pad) // step
  return -lo, hi


def margin(stages):
  """The margin of every tile, in y positions on each side: the receptive field
  rounded up to whole positions (4 for the models here), which covers both
  transforms' exact reach."""
  t = stride(stages)
  m = -(-receptive_field(stages) // t)
  assert m * t >= max(analysis_reach(stages)) and m >= max(synthesis_reach(stages))
  return m


def check_tile_size(tile_size, stages):
  """None or 0 (never tile) or an int of at least the stride: returns the tile side
  in y positions (0: never tile)."""
  if tile_size is None or tile_size == 0:
    return 0
  t = stride(stages)
  if isinstance(tile_size, bool) or not isinstance(tile_size, (int, np.integer)) or (
      tile_size < t):
    raise ValueError(f"tile_size must be 0 (no tiles) or an int of at least {t} "
                     f"pixels, got {tile_size!r}")
  return int(tile_size) // t


def runs(positions, per_tile):
  """[(a, b), ...]: `positions` y positions split into near-equal runs of at most
  `per_tile` (ceil(positions / per_tile) runs)."""
  count = -(-positions // per_tile)
  cuts = [round(i * positions / count) for i in range(count + 1)]
  return list(zip(cuts[:-1], cuts[1:]))


class Grid:
  """The tiles of a latent grid of h x w y positions (the padded image's H' / T x
  W' / T), `per_tile` positions a side, `m` positions of margin."""

  def __init__(self, h, w, per_tile, m):
    self.h, self.w, self.m = h, w, m
    self.rows = runs(h, per_tile)
    self.cols = runs(w, per_tile)

  def __len__(self):
    return len(self.rows) * len(self.cols)

  def tiles(self):
    """Yields (inner, outer): latent boxes (r0, r1, c0, c1); outer is inner with
    the margin, clipped to the grid."""
    for r0, r1 in self.rows:
      for c0, c1 in self.cols:
        outer = (max(r0 - self.m, 0), min(r1 + self.m, self.h),
                 max(c0 - self.m, 0), min(c1 + self.m, self.w))
        yield (r0, r1, c0, c1), outer


def tiled(padded_height, padded_width, stages, per_tile):
  """Whether an image padded to H' x W' is transformed in tiles (`per_tile` from
  check_tile_size): not when tiling is off or the image fits in one tile."""
  t = stride(stages)
  return bool(per_tile) and (padded_height > per_tile * t or
                             padded_width > per_tile * t)


def edge_padded(image, r0, r1, c0, c1):
  """uint8 image[r0:r1, c0:c1] of the image padded by repeating its last row and
  column (data.pad_to_multiple) without padding the whole image: rows and columns
  past the edge repeat the last one."""
  height, width = image.shape[:2]
  if r1 <= height and c1 <= width:
    return image[r0:r1, c0:c1]
  rows = np.minimum(np.arange(r0, r1), height - 1)
  cols = np.minimum(np.arange(c0, c1), width - 1)
  return image[rows[:, None], cols[None, :]]


def analysis(run, image, padded_shape, stages, per_tile, m, latent_filters):
  """y float32 [1, H'/T, W'/T, M] of a uint8 image, tile by tile.

  run: function float32 [1, h, w, 3] in [0, 1] -> y float32 [1, h/T, w/T, M],
    the analysis of one tile (a session run).
  image: uint8 [H, W, 3], not padded; padded_shape: (H', W'), multiples of T
    (the rows and columns past H and W repeat the last one, as
    data.pad_to_multiple). Only one tile at a time is float32.
  """
  t = stride(stages)
  grid = Grid(padded_shape[0] // t, padded_shape[1] // t, per_tile, m)
  y = np.empty([1, grid.h, grid.w, latent_filters], np.float32)
  for (r0, r1, c0, c1), (o0, o1, p0, p1) in grid.tiles():
    pixels = edge_padded(image, o0 * t, o1 * t, p0 * t, p1 * t)
    # The whole-image path's conversion, element for element.
    out = run(pixels[None].astype(np.float32) / 255.)
    y[:, r0:r1, c0:c1] = out[:, r0 - o0:r1 - o0, c0 - p0:c1 - p0]
  return y


def _upsampled_tiles(run, inputs, t, per_tile, m, limit=None):
  """Yields ((R0, R1, C0, C1), out): for each tile of inputs [1, h, w, C] (a
  synthesis-like transform, `run`: [1, a, b, C] -> [1, t a, t b, ...]), the
  transform's output rows R0..R1 and columns C0..C1 (of [1, t h, t w, ...]) and
  their values, the tile's interior. limit: (rows, columns) of the output that
  are wanted; tiles wholly past them are not run."""
  grid = Grid(inputs.shape[1], inputs.shape[2], per_tile, m)
  for (r0, r1, c0, c1), (o0, o1, p0, p1) in grid.tiles():
    if limit is not None and (r0 * t >= limit[0] or c0 * t >= limit[1]):
      continue
    out = run(inputs[:, o0:o1, p0:p1])
    yield ((r0 * t, r1 * t, c0 * t, c1 * t),
           out[:, (r0 - o0) * t:(r1 - o0) * t, (c0 - p0) * t:(c1 - p0) * t])


def synthesis(run, y_hat, height, width, stages, per_tile, m):
  """uint8 [height, width, 3]: the decoded image of y_hat [1, h, w, M], tile by
  tile.

  run: function y_hat float32 [1, a, b, M] -> x_hat float32 [1, T a, T b, 3],
    clipped to [0, 1] (a session run). Each tile is rounded to uint8 as the
    whole-image path rounds x_hat and written into the result: the float32
    x_hat of the whole image is never held.
  """
  image = np.empty([height, width, 3], np.uint8)
  tiles = _upsampled_tiles(run, y_hat, stride(stages), per_tile, m,
                           limit=(height, width))
  for (r0, r1, c0, c1), x_hat in tiles:
    r1, c1 = min(r1, height), min(c1, width)
    image[r0:r1, c0:c1] = np.round(x_hat[0, :r1 - r0, :c1 - c0] * 255.).astype(
        np.uint8)
  return image


def hyper_stages(layers):
  """The (kernel size, stride) stages, in the analysis' order (the convention of
  model.STAGES), of a hyper-synthesis with `layers` (kernel size, stride, ReLU),
  e.g. model.HyperSynthesis.LAYERS: ((3, 1), (5, 2), (5, 2)), stride 4."""
  return tuple((kernel, step) for kernel, step, _ in reversed(layers))


def scale_indexes(run, z_hat, stages, per_tile, m, channels):
  """int32 [1, 4 h, 4 w, M]: the integer hyper-synthesis' scale-table indexes of
  z_hat [1, h, w, N], tile by tile (`stages`: hyper_stages, stride 4; `per_tile`
  and `m` in z positions). Integers, exact in any summation order: the same
  indexes as the whole z_hat's, bit for bit.

  run: function z_hat float32 [1, a, b, N] -> int32 [1, 4 a, 4 b, M].
  """
  t = stride(stages)
  indexes = np.empty([1, t * z_hat.shape[1], t * z_hat.shape[2], channels],
                     np.int32)
  for (r0, r1, c0, c1), out in _upsampled_tiles(run, z_hat, t, per_tile, m):
    indexes[:, r0:r1, c0:c1] = out
  return indexes
