"""pytest configuration shared by all tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# COMPRESSION_TF_BEHAVIOR=v1 runs the tests with v2 behaviour off, as a 1.x script
# does (`tf.compat.v1.disable_v2_behavior()`: TensorShape items are Dimensions, ref
# variables, v1 control flow). scripts/test.sh runs the layer tests, the modules
# marked `pytestmark = pytest.mark.both_tf_behaviors`, this way too.
TF_BEHAVIOR = os.environ.get("COMPRESSION_TF_BEHAVIOR", "v2")
if TF_BEHAVIOR == "v1":
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.compat.v1.disable_v2_behavior()
elif TF_BEHAVIOR != "v2":
  raise ValueError(f"COMPRESSION_TF_BEHAVIOR must be v1 or v2, got {TF_BEHAVIOR!r}")


def pytest_configure(config):
  config.addinivalue_line(
      "markers", "both_tf_behaviors: layer tests that CI also runs with "
      "COMPRESSION_TF_BEHAVIOR=v1 (v2 behaviour off)")


def pytest_collection_modifyitems(items):
  # tf.test.TestCase defines a deprecated `test_session` helper that pytest would
  # collect (and report as skipped); it is not a test.
  items[:] = [item for item in items if item.name != "test_session"]
