"""The install paths of the README's Build notes, run as its blocks are written.

tests/test_readme.py leaves these two blocks to this file: they install TensorFlow
into fresh virtual environments.

- `WheelTest`: the "Wheel" block (`. scripts/setup.sh`, scripts/build_wheel.sh,
  a fresh venv, `pip install` of the wheel; its `[examples]` line last), with a
  temporary folder for its `/tmp/env`. Then, in that environment and from a folder
  outside the source tree: graph-mode programs on the installed op library, the
  console scripts (their names in usage lines; an optional import missing is named
  before any long work; the MNIST demo without extras), the examples extra.
- `SourceInstallTest`: the "pip from source" block, `pip install .` from the clone
  into a plain venv that has TensorFlow, not activated, with no python3 with
  TensorFlow first on PATH, and the user's Bazel output root (the clone's, as for
  a user who built before: .bazelrc's fixed action PATH keeps its compiled actions
  valid for another virtual environment's TensorFlow of the same version); the
  clone's bazel-* links and no build/ or *.egg-info left in the clone; what is said
  when TensorFlow or Bazel is missing.

Slow (a few minutes: TensorFlow installs from pip's cache or the package index).
They run Bazel themselves, so they are pytest tests only: tests/BUILD leaves this
file out of the py_tests (a `bazel build` cannot run inside `bazel test`), and CI
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

import mnist_testutil
import readme_testutil
from compression.examples.mnist import data as mnist_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 1200  # seconds for any one step; a hung install fails instead of blocking CI
# Text that identifies each README block (tests/test_readme.py looks for these).
WHEEL_BLOCK = "/tmp/env/bin/pip install dist/"
SOURCE_BLOCK = "/tmp/env/bin/pip install ."
README_VENV = "/tmp/env"

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


def _run(command, env=None, cwd=None, fail=True):
  """Runs `command`; returns stdout (with fail=False, the completed process). A
  failure shows its stderr."""
  start = time.monotonic()
  result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
  shown = " ".join(command).replace("\n", " ")[:160]
  print(f"{time.monotonic() - start:6.1f} s  {shown}", file=sys.stderr)
  if not fail:
    return result
  if result.returncode:
    raise AssertionError(f"{shown} exited with {result.returncode}:\n"
                         f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
  return result.stdout


def _block_lines(marker, venv):
  """The command lines of the README block holding `marker`, its /tmp/env being
  `venv`."""
  block = readme_testutil.block_with(marker)
  return [line.replace(README_VENV, venv) for line in block.commands()]


def _bash(lines, env, cwd):
  return _run(["bash", "-c", "set -euo pipefail\n" + "\n".join(lines)], env=env,
              cwd=cwd)


def _venv_env(venv):
  """An environment whose only Python is `venv`'s (not activated)."""
  env = {k: v for k, v in os.environ.items()
         if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
  env["PATH"] = os.path.join(venv, "bin") + os.pathsep + "/usr/bin:/bin"
  env["TF_CPP_MIN_LOG_LEVEL"] = "2"
  return env


def _synthetic_mnist(folder):
  mnist_data.write_split(folder, "train", *mnist_testutil.synthetic_digits(256, 1))
  mnist_data.write_split(folder, "test", *mnist_testutil.synthetic_digits(64, 2))
  return folder


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
    build_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # The block sources scripts/setup.sh; this test's Python first on PATH.
    build_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + build_env["PATH"]
    cls.venv = os.path.join(cls.directory, "venv")
    lines = _block_lines(WHEEL_BLOCK, cls.venv)
    cls.examples_line = [l for l in lines if "[examples]" in l]
    assert len(cls.examples_line) == 1, lines
    out = _bash([l for l in lines if "[examples]" not in l], build_env, ROOT)
    # build_wheel.sh prints the wheel's absolute path (pip names other wheels).
    cls.wheel = [w for w in out.split() if os.path.isabs(w) and w.endswith(".whl")
                 and os.path.basename(w).startswith("learned_compression-")][-1]
    cls.env = _venv_env(cls.venv)
    cls.python = os.path.join(cls.venv, "bin", "python")
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
    # Pillow always (PNG and JPEG files of both console scripts); plots, the image
    # example's default photographs and TensorBoard with the `examples` extra.
    self.assertIn("pillow", requires)
    for package in ("matplotlib", "scikit-image", "tensorboard"):
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
    self.assertTrue(result["pil"], "pillow is a requirement")

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

  def test_console_scripts(self):
    bin_dir = os.path.join(self.venv, "bin")
    out = _run([os.path.join(bin_dir, "mnist-compression"), "--help"], env=self.env,
               cwd=self.work)
    self.assertTrue(out.startswith("usage: mnist-compression <command>"), out)
    out = _run([os.path.join(bin_dir, "image-compression"), "compress", "--help"],
               env=self.env, cwd=self.work)
    self.assertTrue(out.startswith("usage: image-compression compress "), out)
    mnist = _synthetic_mnist(os.path.join(self.directory, "mnist"))
    # Without the examples extra: sweep needs matplotlib and says so at once,
    # before reading data or training.
    start = time.monotonic()
    result = _run([os.path.join(bin_dir, "mnist-compression"), "sweep",
                   f"--data_dir={mnist}", "--output_dir=sweep"], env=self.env,
                  cwd=self.work, fail=False)
    self.assertEqual(result.returncode, 1)
    self.assertEqual(result.stderr.strip().splitlines(), [
        "error: sweep (figures) needs matplotlib (module 'matplotlib' not found): "
        "install the examples extra (`pip install learned-compression[examples]`)"])
    self.assertLess(time.monotonic() - start, 60)
    self.assertFalse(os.path.exists(os.path.join(self.work, "sweep", "lambda_2000")))
    # The demo needs no extra; its own lines only, its files under runs/.
    out = _run([os.path.join(bin_dir, "mnist-compression"), "demo", "--steps=3",
                "--count=2", f"--data_dir={mnist}"], env=self.env, cwd=self.work)
    self.assertIn("[4/4] results", out)
    self.assertTrue(os.path.isfile(os.path.join(self.work, "runs", "mnist_demo",
                                                "comparison.png")))

  def test_zz_examples_extra(self):
    """Last (unittest runs tests by name): the block's `[examples]` line."""
    _bash(self.examples_line, self.env, ROOT)
    _run([self.python, "-c", "import matplotlib, skimage, tensorboard"],
         env=self.env, cwd=self.work)
    mnist = _synthetic_mnist(os.path.join(self.directory, "mnist_extra"))
    out = _run([os.path.join(self.venv, "bin", "mnist-compression"), "sweep",
                "--lambdas=300", "--steps=2", f"--data_dir={mnist}",
                "--output_dir=sweep_extra"], env=self.env, cwd=self.work)
    self.assertIn("rate_distortion.png", out)

  def assertBetween(self, value, low, high):
    self.assertGreaterEqual(value, low)
    self.assertLessEqual(value, high)


class SourceInstallTest(unittest.TestCase):
  """The README's "pip from source" block in a plain venv (see the module doc)."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.directory = tempfile.mkdtemp(prefix="source_install_test_")
    cls.before = cls._build_folders()
    try:
      cls._install()
    except BaseException:
      cls._shutdown()
      raise

  @staticmethod
  def _build_folders():
    """What a build may leave in the clone: build/, *.egg-info, and where Bazel's
    bazel-* links point (setup.py's build must not move them)."""
    return sorted(n for n in os.listdir(ROOT)
                  if n == "build" or n.endswith(".egg-info")) + sorted(
                      (n, os.readlink(os.path.join(ROOT, n)))
                      for n in os.listdir(ROOT) if n.startswith("bazel-") and
                      os.path.islink(os.path.join(ROOT, n)))

  @classmethod
  def _install(cls):
    os.mkdir(os.path.join(cls.directory, "home"))  # a PATH without Bazel, below
    bazel = shutil.which("bazel")
    assert bazel, "no bazel on PATH"
    env = {k: v for k, v in os.environ.items()
           if k.startswith("PIP_") or k in ("LANG", "LC_ALL", "TMPDIR")}
    env.update(HOME=os.path.expanduser("~"),
               PIP_CACHE_DIR=(os.environ.get("PIP_CACHE_DIR") or
                              os.path.expanduser("~/.cache/pip")),
               PATH=os.path.dirname(bazel) + os.pathsep + "/usr/bin:/bin")
    cls.env = env
    cls.venv = os.path.join(cls.directory, "venv")
    cls.python = os.path.join(cls.venv, "bin", "python")
    _bash(_block_lines(SOURCE_BLOCK, cls.venv), env, ROOT)
    cls.work = os.path.join(cls.directory, "work")
    os.mkdir(cls.work)

  @classmethod
  def _shutdown(cls):
    shutil.rmtree(cls.directory, ignore_errors=True)

  @classmethod
  def tearDownClass(cls):
    cls._shutdown()
    super().tearDownClass()

  def test_installed_package_works_from_its_own_library(self):
    output = _run([self.python, "-c", ROUND_TRIP], env=_venv_env(self.venv),
                  cwd=self.work)
    result = json.loads(output.strip().splitlines()[-1])
    site = _run([self.python, "-c", "import sysconfig; "
                 "print(sysconfig.get_paths()['platlib'])"],
                env=_venv_env(self.venv), cwd=self.work).strip()
    package_dir = os.path.join(site, "compression")
    self.assertEqual(result["package"], os.path.join(package_dir, "__init__.py"))
    self.assertEqual([os.path.realpath(p) for p in result["libraries"]],
                     [os.path.realpath(os.path.join(package_dir,
                                                    "_compression_ops.so"))])
    self.assertEqual(result["decoded"], result["data"])
    self.assertEqual(result["y_hat"], result["rounded"])

  def test_no_build_folders_left_in_the_clone(self):
    self.assertEqual(self._build_folders(), self.before)

  def test_missing_bazel_is_named(self):
    env = dict(self.env, PATH=os.path.join(self.directory, "home"))  # no bazel
    result = _run([os.path.join(self.venv, "bin", "pip"), "install", "--no-deps",
                   "--force-reinstall", "--no-build-isolation", ROOT], env=env,
                  cwd=self.work, fail=False)
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("setup.py: `bazel` (4.2.3; Debian's bazel-bootstrap, "
                  "scripts/setup.sh installs it) is not on PATH",
                  result.stdout + result.stderr)

  def test_missing_tensorflow_is_named(self):
    venv = os.path.join(self.directory, "no_tensorflow")
    _run([sys.executable, "-m", "venv", venv], env=self.env)
    result = _run([os.path.join(venv, "bin", "pip"), "install", ROOT],
                  env=self.env, cwd=self.work, fail=False)
    self.assertNotEqual(result.returncode, 0)
    output = result.stdout + result.stderr
    self.assertIn("cannot import tensorflow (ModuleNotFoundError: No module named "
                  "'tensorflow')", output)
    self.assertRegex(output, re.escape(venv) + r"/bin/python3?(\.\d+)? -m pip install "
                     r'"tensorflow-cpu==2\.\d+\.\*"')


if __name__ == "__main__":
  unittest.main()
