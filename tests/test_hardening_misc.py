"""The smaller items of issue 17 (item 5): thin images, the Beam CRC package, the
range coder wrappers' dtypes. (Other image formats: test_hardening_pixels.py.)"""

import os
import re
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import hardening_testutil
import images_testutil
from compression.examples.images import commands as image_commands
from compression.examples.images import config
from compression.examples.images import container
from compression.examples.images import data
from compression.python.ops import range_coding_ops


@pytest.mark.parametrize("height,width", [(40000, 1), (1, 40000)])
def test_images_beyond_a_side_limit_are_one_line(capsys, tmp_path, height, width):
  path = str(tmp_path / "thin.png")
  data.write_png(path, np.full([height, width, 3], 128, np.uint8))
  with pytest.raises(SystemExit) as e:
    image_commands.main(["prog", "compress", f"--model_dir={tmp_path}/none", path,
                         str(tmp_path / "thin.cim")])
  err = capsys.readouterr().err.strip()
  assert e.value.code == 1 and len(err.splitlines()) == 1, err
  assert err == (f"error: {path}: {width}x{height} does not fit a compressed image: "
                 "each side must be 1..32768 pixels and the whole at most 67108864 "
                 "pixels")
  with pytest.raises(container.ContainerError, match="each side must be 1..32768"):
    container.check_image_size(width, height)


def test_thin_images_within_the_limits_round_trip():
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  model_dir = images_testutil.trained_model("bls2017")
  encoder, decoder = codec.Encoder(model_dir), codec.Decoder(model_dir)
  for height, width in ((1, 3000), (3000, 1), (1, 1)):
    image = images_testutil.synthetic_image(max(height, 2), max(width, 2), 4)[
        :height, :width]
    decoded = decoder.decompress(encoder.compress(image).blob).image
    assert decoded.shape == (height, width, 3)


def test_mnist_beam_without_a_crc_package_names_the_extra(tmp_path):
  script = textwrap.dedent(f"""
      import sys
      for name in ("google_crc32c", "crcmod"):
        sys.modules[name] = None  # Not installed.
      from compression.examples.mnist import commands
      commands.main(["prog", "beam_compress", "--output={tmp_path}/out",
                     "--model_dir={tmp_path}/none"])
      """)
  proc = hardening_testutil.run_limited(["-c", script])
  line = hardening_testutil.error_line(proc)
  assert "CRC-32C needs google-crc32c" in line, line
  assert "pip install learned-compression[beam]" in line
  assert not os.path.exists(f"{tmp_path}/out")


CDF = np.array([[0, 10, 20, 65536]], np.int32)


@pytest.mark.parametrize("data,cdf,words", [
    (np.array([1., 2.], np.float32), CDF, "data must hold integers (int16), got "
     "float32"),
    (np.array([1.5, 2.]), CDF, "data must hold integers (int16), got float64"),
    (np.array([True, False]), CDF, "data must hold integers (int16), got bool"),
    (tf.constant([1., 2.]), CDF, "data must be a int16 tensor, got float32"),
    (tf.constant([1, 2]), CDF, "data must be a int16 tensor, got int32"),
    (np.array([1, 2], np.int16), CDF.astype(np.float32),
     "cdf must hold integers (int32), got float32"),
    (np.array([1, 2], np.int16), tf.constant(CDF, tf.float32),
     "cdf must be a int32 tensor, got float32"),
])
def test_range_encode_takes_its_documented_dtypes_only(data, cdf, words):
  with pytest.raises(TypeError, match=re.escape("range_encode: " + words)):
    range_coding_ops.range_encode(data, cdf, 16)


def test_integer_inputs_are_still_converted():
  expected = range_coding_ops.range_encode(np.array([1, 2], np.int16), CDF, 16)
  for data, cdf in (([1, 2], CDF), (np.array([1, 2]), CDF.astype(np.int64)),
                    (tf.constant([1, 2], tf.int16), tf.constant(CDF))):
    assert range_coding_ops.range_encode(data, cdf, 16).numpy() == expected.numpy()
  decoded = range_coding_ops.range_decode(expected, [2], CDF, 16)
  np.testing.assert_array_equal(decoded, [1, 2])
  with pytest.raises(TypeError, match="range_decode: cdf must hold integers"):
    range_coding_ops.range_decode(expected, [2], CDF.astype(np.float32), 16)
  with pytest.raises(TypeError, match="range_decode: shape must hold integers"):
    range_coding_ops.range_decode(expected, [2.], CDF, 16)


def test_indexed_ops_take_int32_only():
  cdf = np.array([[0, 30000, 65000, 65536]], np.int32)
  args = dict(index=np.zeros([3], np.int32), cdf=cdf, cdf_length=np.array([4], np.int32),
              offset=np.array([0], np.int32), precision=16)
  strings = range_coding_ops.indexed_range_encode(np.array([[0, 1, 0]], np.int32),
                                                  **args)
  with pytest.raises(TypeError, match="indexed_range_encode: data must hold "
                     "integers"):
    range_coding_ops.indexed_range_encode(np.array([[0., 1., 0.]]), **args)
  for name in ("index", "cdf", "cdf_length", "offset"):
    bad = dict(args, **{name: np.asarray(args[name], np.float32)})
    with pytest.raises(TypeError, match=f"indexed_range_decode: {name} must hold"):
      range_coding_ops.indexed_range_decode(strings, **bad)
  np.testing.assert_array_equal(
      range_coding_ops.indexed_range_decode(strings, **args), [[0, 1, 0]])


def test_forged_size_within_the_padding_decodes_cropped_as_documented():
  """Item 6: the CRC guards against accidents, not forgery. The same file with
  H and W changed inside the same padding and the CRC recomputed decodes, with
  no error, to the same padded image cropped to the forged size (README)."""
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  model_dir = images_testutil.trained_model("bls2017")
  blob = codec.Encoder(model_dir).compress(
      images_testutil.synthetic_image(40, 40, 6)).blob
  decoder = codec.Decoder(model_dir)
  original = decoder.decompress(blob).image
  c = container.unpack(blob)
  stride = config.TOTAL_STRIDE["bls2017"]
  padded = -(-40 // stride) * stride
  height, width = padded - 7, padded  # Another size of the same padded image.
  assert container.latent_shapes("bls2017", height, width, c.y_shape[2], 0)[0] == (
      c.y_shape)
  forged = container.pack(container.CompressedImage(
      c.architecture, c.fingerprint, height, width, c.y_shape, c.z_shape,
      c.y_string, c.z_string))
  with pytest.raises(container.ContainerError, match="CRC"):
    container.unpack(blob[:16] + forged[16:24] + blob[24:])  # CRC not redone
  decoded = decoder.decompress(forged).image
  assert decoded.shape == (height, width, 3)
  common = min(height, 40)
  np.testing.assert_array_equal(decoded[:common, :40], original[:common])

if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
