"""pytest configuration shared by all tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(items):
  # tf.test.TestCase defines a deprecated `test_session` helper that pytest would
  # collect (and report as skipped); it is not a test.
  items[:] = [item for item in items if item.name != "test_session"]
