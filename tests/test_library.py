"""Tests of how the op library is found and checked when it loads."""

import os
import shutil
import tempfile

import tensorflow as tf

from compression.python.ops import _library


class LibraryTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    self.directory = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, self.directory)

  def write(self, name, text):
    with open(os.path.join(self.directory, name), "w") as f:
      f.write(text)

  def test_missing_library_says_how_to_rebuild(self):
    with self.assertRaisesRegex(ImportError, "was not found.*bazel build"):
      _library.load([self.directory])

  def test_other_tensorflow_version_is_refused(self):
    self.write(_library.LIBRARY, "not a library")
    self.write(_library.VERSION_FILE, "2.0.0\n")
    with self.assertRaisesRegex(
        ImportError, r"compiled against TensorFlow 2\.0\.0, but TensorFlow "
        + tf.__version__.replace(".", r"\.") + r" is installed.*bazel build"):
      _library.load([self.directory])

  def test_missing_version_file_is_refused(self):
    self.write(_library.LIBRARY, "not a library")
    with self.assertRaisesRegex(ImportError, "version .* is unknown"):
      _library.load([self.directory])

  def test_broken_library_is_reported(self):
    self.write(_library.LIBRARY, "not a library")
    self.write(_library.VERSION_FILE, tf.__version__)
    with self.assertRaisesRegex(ImportError, "(?s)Could not load.*Rebuild"):
      _library.load([self.directory])

  def test_the_built_library_matches_this_tensorflow(self):
    module = _library.load()
    self.assertTrue(hasattr(module, "range_encode"))


if __name__ == "__main__":
  tf.test.main()
