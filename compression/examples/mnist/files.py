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


def compress_digits(model_dir, digits, output, latents_out=None):
  """Codes uint8 [N, 28, 28] digits into the container file `output`.

  Returns:
    dict with strings, bits (estimated), latents, file_size, latent_shape.
  """
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  with codec.Encoder(model_dir) as encoder:
    result = encoder.compress(digits)
    latent_shape = [encoder.latent_dims]
  out_dir = os.path.dirname(os.path.abspath(output))
  os.makedirs(out_dir, exist_ok=True)
  result["file_size"] = container.write(output, result["strings"],
                                        latent_shape)
  result["latent_shape"] = latent_shape
  if latents_out:
    np.save(latents_out, result["latents"])
  return result


def png_name(index):
  return f"digit_{index:04d}.png"


def decompress_file(model_dir, path, output_dir, grid=None, latents_out=None):
  """Decodes container `path` into PNGs in `output_dir`.

  The container is parsed (and rejected if damaged) before any model is
  loaded (or TensorFlow imported).

  Returns:
    dict with strings, images (float [N, 28, 28]), latents, paths.
  """
  strings, latent_shape = container.read(path)
  # TensorFlow is imported only once the file is known to be good.
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  codec.check_model_dir(model_dir)
  latent_dims = codec.load_latent_dims(model_dir)
  if latent_shape != [latent_dims]:
    raise container.ContainerError(
        f"{path}: latent shape {latent_shape} does not match the model in "
        f"{model_dir!r} (latent_dims={latent_dims}); it was made with another "
        "model")
  with codec.Decoder(model_dir) as decoder:
    digits, latents = decoder.decompress(strings)
  os.makedirs(output_dir, exist_ok=True)
  paths = []
  for i, digit in enumerate(digits):
    paths.append(os.path.join(output_dir, png_name(i)))
    images_lib.write_png(paths[-1], digit)
  if grid:
    images_lib.write_png(grid, images_lib.upscale(images_lib.grid(digits), 2))
  if latents_out:
    np.save(latents_out, latents)
  return {"strings": strings, "images": digits, "latents": latents,
          "paths": paths}
