"""The wheel of scripts/build_wheel.sh installs and works with `pip install <wheel>` alone.

Builds the wheel once into a temporary directory, creates a fresh virtual environment
there, installs the wheel (TensorFlow and the rest come from the package index, or
pip's cache) and runs graph-mode programs in that environment from a directory outside
the source tree. Slow: about a minute and a half on 2 cores, mostly installing
TensorFlow. It runs Bazel itself, so it is a pytest test only: tests/BUILD leaves it
out of the py_tests (a `bazel build` cannot run inside `bazel test`), and CI
(scripts/test.sh) runs it once.
"""

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 1200  # seconds for any one step; a hung install fails instead of blocking CI

# Run by the virtual environment's python: range coding and an EntropyBottleneck
# compressed in one graph and decompressed in another from a checkpoint.
ROUND_TRIP = r"""
import importlib.util
import json
import numpy as np
import tensorflow as tf
import compression
from compression import EntropyBottleneck, range_decode, range_encode

rng = np.random.default_rng(0)
data = rng.integers(0, 4, size=(3, 50)).astype(np.int16)
cdf = np.array([[[0, 20000, 40000, 60000, 65536]]], np.int32)
with tf.Graph().as_default():
  encoded = range_encode(tf.constant(data), tf.constant(cdf), precision=16)
  decoded = range_decode(encoded, tf.shape(data), tf.constant(cdf), precision=16)
  with tf.compat.v1.Session() as session:
    encoded, decoded = session.run([encoded, decoded])

values = rng.laplace(0., 3., size=(4, 10, 2)).astype(np.float32)
with tf.Graph().as_default():
  y = tf.compat.v1.placeholder(tf.float32, [None, 10, 2])
  layer = EntropyBottleneck()
  rounded = layer(y, training=False)[0]
  strings = layer.compress(y)
  with tf.compat.v1.Session() as session:
    session.run(tf.compat.v1.global_variables_initializer())
    session.run(layer.updates[0])
    tf.compat.v1.train.Saver().save(session, "model/ckpt")
    packed, rounded = session.run([strings, rounded], {y: values})
with tf.Graph().as_default():
  placeholder = tf.compat.v1.placeholder(tf.string, [None])
  y_hat = EntropyBottleneck().decompress(placeholder, shape=[10, 2], channels=2)
  with tf.compat.v1.Session() as session:
    tf.compat.v1.train.Saver().restore(session, "model/ckpt")
    y_hat = session.run(y_hat, {placeholder: packed})

with open("/proc/self/maps") as f:
  libraries = sorted({line.split()[-1] for line in f if "_compression_ops" in line})
print(json.dumps({
    "package": compression.__file__,
    "libraries": libraries,
    "data": data.tolist(), "decoded": decoded.tolist(), "encoded_bytes": len(encoded),
    "rounded": rounded.tolist(), "y_hat": y_hat.tolist(),
    "string_bytes": [len(s) for s in packed],
    "pil": importlib.util.find_spec("PIL") is not None,
}))
"""


def _run(command, env=None, cwd=None):
  """Runs `command`; returns stdout. A failure shows its stderr."""
  start = time.monotonic()
  result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
  shown = " ".join(command).replace("\n", " ")[:160]
  print(f"{time.monotonic() - start:6.1f} s  {shown}", file=sys.stderr)
  if result.returncode:
    raise AssertionError(f"{shown} exited with {result.returncode}:\n{result.stderr[-4000:]}")
  return result.stdout


class WheelTest(unittest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.directory = tempfile.mkdtemp(prefix="wheel_test_")
    try:
      cls._install()
    except BaseException:
      shutil.rmtree(cls.directory)
      raise

  @classmethod
  def _install(cls):
    build_env = dict(os.environ)
    # Bazel compiles against the TensorFlow of the python3 first on PATH: this one.
    build_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + build_env["PATH"]
    cls.wheel = _run(["bash", os.path.join(ROOT, "scripts", "build_wheel.sh"),
                      os.path.join(cls.directory, "dist")], env=build_env).split()[-1]
    cls.venv = os.path.join(cls.directory, "venv")
    _run([sys.executable, "-m", "venv", cls.venv])
    cls.env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    cls.env["PATH"] = os.path.join(cls.venv, "bin") + os.pathsep + "/usr/bin:/bin"
    cls.env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    cls.python = os.path.join(cls.venv, "bin", "python")
    _run([cls.python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
          cls.wheel], env=cls.env)
    cls.work = os.path.join(cls.directory, "work")  # outside the source tree
    os.mkdir(cls.work)
    cls.site_packages = _run([cls.python, "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['platlib'])"],
                             env=cls.env, cwd=cls.work).strip()
    cls.tf_version = _run([cls.python, "-c", "import tensorflow as tf; print(tf.__version__)"],
                          env=cls.env, cwd=cls.work).strip()

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.directory)
    super().tearDownClass()

  def test_wheel_is_platform_tagged_and_pins_tensorflow(self):
    name = os.path.basename(self.wheel)
    self.assertRegex(name, r"^learned_compression-[\w.]+-cp3\d+-cp3\d+-linux_x86_64\.whl$")
    with zipfile.ZipFile(self.wheel) as wheel:
      names = wheel.namelist()
      built_for = wheel.read("compression/_compression_ops.tf_version").decode().strip()
      info = [n for n in names if n.endswith(".dist-info/METADATA")][0]
      metadata = email.parser.Parser().parsestr(wheel.read(info).decode())
      tags = wheel.read(info.replace("METADATA", "WHEEL")).decode()
    self.assertIn("compression/_compression_ops.so", names)
    self.assertIn("Root-Is-Purelib: false", tags)
    minor = ".".join(built_for.split(".")[:2])
    requires = metadata.get_all("Requires-Dist")
    self.assertIn(f"tensorflow-cpu=={minor}.*", requires)
    # Images and plots only with the `examples` extra.
    for package in ("pillow", "matplotlib"):
      self.assertIn(f'{package}; extra == "examples"', requires)
      self.assertNotIn(package, requires)
    # pip installed the TensorFlow the library was compiled against.
    self.assertEqual(".".join(self.tf_version.split(".")[:2]), minor)

  def test_round_trip_uses_the_installed_library(self):
    output = _run([self.python, "-c", ROUND_TRIP], env=self.env, cwd=self.work)
    result = json.loads(output.strip().splitlines()[-1])
    package_dir = os.path.join(self.site_packages, "compression")
    self.assertEqual(result["package"], os.path.join(package_dir, "__init__.py"))
    self.assertEqual(
        [os.path.realpath(p) for p in result["libraries"]],
        [os.path.realpath(os.path.join(package_dir, "_compression_ops.so"))])
    self.assertEqual(result["decoded"], result["data"])
    # 150 symbols of about 1.7 bits each.
    self.assertBetween(result["encoded_bytes"], 20, 50)
    self.assertEqual(result["y_hat"], result["rounded"])
    self.assertEqual(len(result["string_bytes"]), 4)
    self.assertTrue(all(n > 0 for n in result["string_bytes"]))
    self.assertFalse(result["pil"], "pillow is installed without the examples extra")

  def test_other_tensorflow_version_is_refused_at_import(self):
    # A copy of the installed package whose library claims another TensorFlow minor version.
    copy = os.path.join(self.directory, "other_version")
    shutil.copytree(os.path.join(self.site_packages, "compression"),
                    os.path.join(copy, "compression"))
    major, minor = self.tf_version.split(".")[:2]
    other = f"{major}.{int(minor) + 1}.0"
    with open(os.path.join(copy, "compression", "_compression_ops.tf_version"), "w") as f:
      f.write(other + "\n")
    env = dict(self.env, PYTHONPATH=copy)
    result = subprocess.run(
        [self.python, "-c", "from compression import range_encode"], env=env,
        cwd=self.work, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    self.assertNotEqual(result.returncode, 0)
    last = result.stderr.strip().splitlines()[-1]
    library = os.path.join(copy, "compression", "_compression_ops.so")
    self.assertRegex(last, "^ImportError: " + re.escape(
        f"{library} was compiled against TensorFlow {other}, but TensorFlow "
        f"{self.tf_version} is installed"))
    self.assertIn(f'pip install "tensorflow-cpu=={major}.{int(minor) + 1}.*"', last)
    self.assertIn("scripts/build_wheel.sh", last)

  def assertBetween(self, value, low, high):
    self.assertGreaterEqual(value, low)
    self.assertLessEqual(value, high)


if __name__ == "__main__":
  unittest.main()
