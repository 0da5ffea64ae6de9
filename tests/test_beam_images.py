"""beam_compress / beam_decompress of the image example on the DirectRunner.

Against the single-process codec with the same checkpoint: every image gets
exactly one output, the .cim bytes are those of `codec.Encoder`, the decoded PNGs
those of `codec.Decoder`, and bad inputs land in the dead letters with their keys
while the others are written.
"""

import glob
import os
import unittest

import numpy as np

import images_testutil
from compression.examples.images import beam_pipeline
from compression.examples.images import codec
from compression.examples.images import data

# In one process: the guarantees under test do not depend on the worker count
# (tests/test_beam_mnist.py covers 2 worker processes), and it is quick.
OPTIONS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]


def _dead_letters(folder):
  letters = {}
  for path in glob.glob(os.path.join(folder, "dead-letter*")):
    with open(path) as f:
      for line in f:
        key, message = line.rstrip("\n").split("\t", 1)
        letters[key] = message
  return letters


class BeamImagesTest(unittest.TestCase):

  @classmethod
  def setUpClass(cls):
    cls.model_dir = images_testutil.trained_model("bmshj2018")
    root = images_testutil.tmp_dir()
    cls.inputs = os.path.join(root, "inputs")
    cls.paths = images_testutil.write_pngs(cls.inputs, 3, 70, 45, seed=7)
    with open(os.path.join(cls.inputs, "broken.png"), "wb") as f:
      f.write(b"not a png at all")
    cls.compressed = os.path.join(root, "compressed")
    cls.decoded = os.path.join(root, "decoded")
    log = lambda *a: None
    cls.compress_counters = beam_pipeline.compress(
        cls.model_dir, os.path.join(cls.inputs, "*.png"), cls.compressed, OPTIONS,
        log=log)
    # A truncated copy of one file: refused, the others decoded.
    first = os.path.join(cls.compressed, "synthetic_0.cim")
    with open(first, "rb") as f:
      blob = f.read()
    with open(os.path.join(cls.compressed, "truncated.cim"), "wb") as f:
      f.write(blob[:-7])
    cls.decompress_counters = beam_pipeline.decompress(
        cls.model_dir, os.path.join(cls.compressed, "*.cim"), cls.decoded,
        OPTIONS, log=log)

  def test_compressed_files_are_the_encoders_bytes(self):
    encoder = codec.Encoder(self.model_dir)
    written = sorted(os.path.basename(p) for p in
                     glob.glob(os.path.join(self.compressed, "synthetic_*.cim")))
    self.assertEqual(written, [f"synthetic_{i}.cim" for i in range(3)])
    for path in self.paths:
      key = os.path.splitext(os.path.basename(path))[0]
      with open(os.path.join(self.compressed, key + ".cim"), "rb") as f:
        self.assertEqual(f.read(), encoder.compress(data.read_image(path)).blob)

  def test_decoded_images_are_the_decoders(self):
    decoder = codec.Decoder(self.model_dir)
    for i in range(3):
      with open(os.path.join(self.compressed, f"synthetic_{i}.cim"), "rb") as f:
        expected = decoder.decompress(f.read()).image
      decoded = data.read_image(os.path.join(self.decoded, f"synthetic_{i}.png"))
      self.assertEqual(decoded.shape, (70, 45, 3))
      np.testing.assert_array_equal(decoded, expected)
    self.assertFalse(os.path.exists(os.path.join(self.decoded, "truncated.png")))

  def test_bad_inputs_are_dead_letters_with_their_keys(self):
    compress_dead = _dead_letters(self.compressed)
    self.assertEqual(list(compress_dead), ["broken"])
    self.assertIn("not a readable image", compress_dead["broken"])
    decompress_dead = _dead_letters(self.decoded)
    self.assertEqual(list(decompress_dead), ["truncated"])
    self.assertIn("truncated", decompress_dead["truncated"])

  def test_counters(self):
    self.assertEqual(self.compress_counters["elements_in"], 4)
    self.assertEqual(self.compress_counters["elements_out"], 3)
    self.assertEqual(self.compress_counters["dead_letters"], 1)
    self.assertEqual(self.compress_counters["model_loads"], 1)
    self.assertEqual(self.decompress_counters["elements_out"], 3)
    self.assertEqual(self.decompress_counters["dead_letters"], 1)


if __name__ == "__main__":
  unittest.main()
