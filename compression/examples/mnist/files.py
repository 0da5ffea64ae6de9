"""The compress and decompress commands: digits <-> one container file.

`compress_digits` reads digits (test-set index range or PNG files), codes
them with `codec.Encoder` and writes one `.mnz` container (see container.py).
`decompress_file` reads a container, decodes it with `codec.Decoder` (a graph
with no analysis transform) and writes one PNG per digit.
"""

import os

import numpy as np

from compression.examples.mnist import container
from compression.examples.mnist import data
from compression.examples.mnist import errors
from compression.examples.mnist import images as images_lib


def select_test_digits(data_dir, start, count):
  """Test digits [start, start + count): (uint8 [N, 28, 28], labels, names)."""
  test_images, test_labels = data.load("test", data_dir)
  if start < 0 or count < 1 or start + count > len(test_images):
    raise errors.InputError(
        f"--start={start} --count={count} is outside the test set "
        f"(0..{len(test_images) - 1})")
  sl = slice(start, start + count)
  names = [f"test[{i}]" for i in range(start, start + count)]
  return test_images[sl], test_labels[sl].astype(int), names


def read_pngs(paths):
  """PNG digits: (uint8 [N, 28, 28], labels all -1, names)."""
  digits = np.stack([images_lib.read_png(p) for p in paths])
  return digits, np.full(len(paths), -1), [os.path.basename(p) for p in paths]


def compress_digits(model_dir, digits, output, latents_out=None,
                    per_digit_strings=False):
  """Codes uint8 [N, 28, 28] digits into the container file `output`.

  By default the digits share strings of up to
  container.DEFAULT_DIGITS_PER_STRING digits (one string for a small file);
  `per_digit_strings` codes one string per digit.

  Returns:
    dict with strings, bits (estimated), latents, file_size, latent_shape,
    digits_per_string, fingerprint.
  """
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  count = len(digits)
  if count > container.MAX_COUNT:
    raise errors.InputError(f"{count} digits: a file holds at most "
                            f"{container.MAX_COUNT}")
  k = 1 if per_digit_strings else max(
      1, min(count, container.DEFAULT_DIGITS_PER_STRING))
  with codec.Encoder(model_dir) as encoder:
    result = encoder.compress(digits, k)
    latent_shape = [encoder.latent_dims]
  data_bytes = container.pack(result["strings"], latent_shape, count, k,
                              result["fingerprint"])
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  result["file_size"] = container.write(output, data_bytes)
  result["latent_shape"] = latent_shape
  if latents_out:
    np.save(latents_out, result["latents"])
  return result


def _check_string_lengths(decoder, contents, path):
  """ContainerError when a string is too short for the digits the header gives
  it at this model's cheapest symbols: a damaged or forged count, refused
  before anything is decoded."""
  if not contents.strings:
    return
  lengths = np.fromiter((len(s) for s in contents.strings), np.int64,
                        len(contents.strings))
  last = len(lengths) - 1
  needed = np.full(len(lengths), decoder.min_string_bytes(
      contents.digits_per_string))
  needed[last] = decoder.min_string_bytes(contents.digits_in_string(last))
  short = np.flatnonzero(lengths < needed)
  if len(short):
    i = int(short[0])
    raise container.ContainerError(
        f"{path}: string {i} has {lengths[i]} bytes, too few for its "
        f"{contents.digits_in_string(i)} digits under this model (at least "
        f"{needed[i]}); the header's count is damaged or forged")


def png_name(index):
  return f"digit_{index:04d}.png"


# Digits drawn into the --grid image at most (the grid is held in memory).
MAX_GRID_DIGITS = 1024


def decompress_file(model_dir, path, output_dir, grid=None, latents_out=None,
                    batch_size=1000):
  """Decodes container `path` into PNGs in `output_dir`, streaming.

  The container is parsed (and rejected if damaged) before any model is
  loaded (or TensorFlow imported). Decoding then runs in batches: at most one
  string's latents and `batch_size` images are in memory at a time; latents
  go to `latents_out` (.npy) through a memory map; the grid shows the first
  MAX_GRID_DIGITS digits.

  Returns:
    dict with contents (container.Contents) and count; the PNG of digit i
    is os.path.join(output_dir, png_name(i)).

  Raises:
    container.ContainerError: a damaged file, or one made with another model
      (latent shape or coding-table fingerprint differ).
  """
  contents = container.read(path)
  # TensorFlow is imported only once the file is known to be good.
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  codec.check_model_dir(model_dir)
  latent_dims = codec.load_latent_dims(model_dir)
  if contents.latent_shape != [latent_dims]:
    raise container.ContainerError(
        f"{path}: latent shape {contents.latent_shape} does not match the "
        f"model in {model_dir!r} (latent_dims={latent_dims}); it was made with "
        "another model")
  os.makedirs(output_dir, exist_ok=True)
  grid_digits = []
  latents_map = None
  with codec.Decoder(model_dir) as decoder:
    if contents.fingerprint is not None:
      expected = decoder.fingerprint()
      if contents.fingerprint != expected:
        raise container.ContainerError(
            f"{path}: made with coding tables of fingerprint "
            f"{codec.format_fingerprint(contents.fingerprint)}, but the model "
            f"in {model_dir!r} has {codec.format_fingerprint(expected)}; decode "
            "it with the model that compressed it")
    _check_string_lengths(decoder, contents, path)
    if latents_out:
      latents_map = np.lib.format.open_memmap(
          latents_out, mode="w+", dtype=np.float32,
          shape=(contents.count, latent_dims))
    for start, digits, latents in decoder.iter_decode(
        contents.strings, contents.count, contents.digits_per_string,
        batch_size):
      for i, digit in enumerate(digits):
        images_lib.write_png(os.path.join(output_dir, png_name(start + i)),
                             digit)
      if latents_map is not None:
        latents_map[start:start + len(latents)] = latents
      if grid and start < MAX_GRID_DIGITS:
        grid_digits.append(digits[:MAX_GRID_DIGITS - start])
  if latents_map is not None:
    latents_map.flush()
    del latents_map
  if grid:
    shown = (np.concatenate(grid_digits) if grid_digits
             else np.zeros([0, 28, 28], np.float32))
    images_lib.write_png(grid, images_lib.upscale(images_lib.grid(shown), 2))
  return {"contents": contents, "count": contents.count}
