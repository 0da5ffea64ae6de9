"""compression/examples/common: what both examples share (issue 15).

The image example imports nothing from the MNIST example; the shared error
types, Beam plumbing and model-fingerprint rule live in one place and keep the
values, messages and bytes the examples had before.
"""

import ast
import glob
import os
import struct
import sys

import pytest

from compression.examples import cli
from compression.examples.common import beam as common_beam
from compression.examples.common import errors
from compression.examples.common import fingerprint
from compression.examples.images import container as image_container
from compression.examples.mnist import container as mnist_container
from compression.examples.mnist import errors as mnist_errors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, "compression", "examples", "images")


def _imported_modules(path):
  """Every module name an `import` or `from ... import` of `path` names (for
  `from a import b`: both "a" and "a.b")."""
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  names = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names += [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module:
      names.append(node.module)
      names += [f"{node.module}.{alias.name}" for alias in node.names]
  return names


def test_images_imports_nothing_from_mnist():
  paths = sorted(glob.glob(os.path.join(IMAGES, "**", "*.py"), recursive=True))
  assert len(paths) > 10, paths  # The walk found the example.
  offenders = [
      (os.path.relpath(path, ROOT), name)
      for path in paths for name in _imported_modules(path)
      if name == "compression.examples.mnist"
      or name.startswith("compression.examples.mnist.")]
  assert not offenders, offenders


def test_the_import_walk_sees_both_import_forms(tmp_path):
  path = tmp_path / "x.py"
  path.write_text("from compression.examples import mnist\n"
                  "def f():\n  import compression.examples.mnist.codec\n")
  assert "compression.examples.mnist" in _imported_modules(str(path))
  assert "compression.examples.mnist.codec" in _imported_modules(str(path))


# The model fingerprint ------------------------------------------------------

TABLES = {"hyper_synthesis": 2 ** 62 + 12345,
          "entropy_bottleneck": -0x123456789ABCDEF,
          "gaussian_conditional": 7}


def test_named_tables_give_the_values_cim_files_hold():
  # Golden values of the rule .cim files have used since version 1.
  assert fingerprint.model_fingerprint(TABLES) == 0x946e13852b895401
  assert fingerprint.model_fingerprint({"entropy_bottleneck": 42}) == (
      0x0613a57e137359b1)


def test_named_tables_do_not_depend_on_order_but_on_names_and_values():
  reordered = dict(reversed(list(TABLES.items())))
  assert fingerprint.model_fingerprint(reordered) == (
      fingerprint.model_fingerprint(TABLES))
  renamed = dict(TABLES, entropy_bottleneck_2=TABLES["entropy_bottleneck"])
  del renamed["entropy_bottleneck"]
  changed = dict(TABLES, gaussian_conditional=8)
  values = {fingerprint.model_fingerprint(t) for t in (TABLES, renamed, changed)}
  assert len(values) == 3


def test_numpy_table_fingerprints_are_accepted():
  np = pytest.importorskip("numpy")
  tables = {name: np.int64(value) for name, value in TABLES.items()}
  assert fingerprint.model_fingerprint(tables) == 0x946e13852b895401


def test_one_unnamed_table_is_its_own_fingerprint():
  assert fingerprint.model_fingerprint(5) == 5
  assert fingerprint.model_fingerprint(-1) == 2 ** 64 - 1
  assert fingerprint.to_int64(fingerprint.model_fingerprint(-7)) == -7
  assert fingerprint.to_int64(2 ** 63) == -2 ** 63
  assert fingerprint.to_int64(2 ** 63 - 1) == 2 ** 63 - 1


def test_format_is_16_hex_digits_of_the_bits():
  assert fingerprint.format_fingerprint(-1) == "ffffffffffffffff"
  assert fingerprint.format_fingerprint(2 ** 64 - 1) == "ffffffffffffffff"
  assert fingerprint.format_fingerprint(42) == "000000000000002a"
  assert fingerprint.format_fingerprint(-0x123456789ABCDEF) == "fedcba9876543211"


@pytest.mark.parametrize("bad", [2 ** 64, -2 ** 63 - 1])
def test_values_beyond_64_bits_are_refused(bad):
  with pytest.raises(ValueError, match="64 bits"):
    fingerprint.model_fingerprint(bad)
  with pytest.raises(ValueError, match="64 bits"):
    fingerprint.model_fingerprint({"entropy_bottleneck": bad})


def test_no_tables_is_refused():
  with pytest.raises(ValueError, match="at least one table"):
    fingerprint.model_fingerprint({})


def test_mnz_v2_bytes_are_unchanged():
  # .mnz version 2, two strings (01 02, empty), latent shape [3], the int64
  # model fingerprint of one table: 8 big-endian two's-complement bytes.
  value = fingerprint.to_int64(fingerprint.model_fingerprint(-0x123456789ABCDEF))
  blob = mnist_container.pack([b"\x01\x02", b""], [3], fingerprint=value)
  assert blob.hex() == ("4d4e5a31" "02" "00000001" "fedcba9876543211" "01"
                        "00000003" "00000002" "02" "0102" "00" "f48a9e3b")
  contents = mnist_container.unpack(blob)
  assert fingerprint.format_fingerprint(contents.fingerprint) == (
      "fedcba9876543211")


def test_cim_header_holds_the_model_fingerprint_little_endian():
  value = fingerprint.model_fingerprint(TABLES)
  image = image_container.CompressedImage(
      "bls2017", value, 17, 33, (2, 3, 8), (0, 0, 0), b"yy", b"")
  blob = image_container.pack(image)
  assert struct.unpack_from("<Q", blob, 8)[0] == value
  assert image_container.unpack(blob).fingerprint == value


# Errors ---------------------------------------------------------------------


def test_mnist_errors_are_the_shared_ones():
  assert mnist_errors.InputError is errors.InputError
  assert mnist_errors.MissingDependencyError is errors.MissingDependencyError
  assert issubclass(errors.InputError, ValueError)
  assert issubclass(errors.MissingDependencyError, ImportError)


def test_require_installed_names_the_extra(monkeypatch):
  monkeypatch.setitem(sys.modules, "matplotlib", None)  # Blocked: missing.
  with pytest.raises(errors.MissingDependencyError) as info:
    errors.require_installed("sweep (figures)", ("json", "json"),
                             ("matplotlib", "matplotlib"))
  assert str(info.value) == (
      "sweep (figures) needs matplotlib (module 'matplotlib' not found): "
      "install the examples extra (`pip install learned-compression[examples]`)")
  errors.require_installed("x", ("json", "json"))  # Installed: no error.


def test_require_imports_or_names_the_extra(monkeypatch):
  assert errors.require("json", "json", "x").dumps([1]) == "[1]"
  monkeypatch.setitem(sys.modules, "PIL", None)
  with pytest.raises(errors.MissingDependencyError,
                     match=r"^reading PNG needs pillow \(module 'PIL' not found"
                     r"\): install the examples extra .*`pip install pillow "
                     r"matplotlib`\)$"):
    errors.require("PIL", "pillow", "reading PNG")


def test_cli_reports_the_shared_errors_as_one_line(capsys):
  def run(fv):  # pylint: disable=unused-argument
    cli.require_modules("thing", ("no_such_module_for_this_test", "nothing"))

  commands = {"go": cli.Command("go", "s", "d", [], run)}
  with pytest.raises(SystemExit) as info:
    cli.main("prog", "description", commands, tuple, ["prog", "go"])
  assert info.value.code == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert err == ["error: thing needs nothing (module "
                 "'no_such_module_for_this_test' not found): install the "
                 "examples extra (`pip install learned-compression[examples]`)"]


# Beam plumbing --------------------------------------------------------------


def test_worker_import_path_puts_the_source_root_first_once(monkeypatch):
  monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/elsewhere"]))
  common_beam.worker_import_path()
  common_beam.worker_import_path()
  paths = os.environ["PYTHONPATH"].split(os.pathsep)
  assert paths == [common_beam.source_root(), "/elsewhere"]
  assert os.path.isdir(os.path.join(paths[0], "compression", "examples",
                                    "common"))


def test_pipeline_options_refuse_unknown_flags():
  pytest.importorskip("apache_beam")
  options = common_beam.pipeline_options(["--direct_num_workers=3"])
  assert options.get_all_options()["direct_num_workers"] == 3
  assert options.get_all_options()["runner"] == "DirectRunner"
  with pytest.raises(errors.InputError, match=r"unknown flag\(s\) --no_such_flag"):
    common_beam.pipeline_options(["--no_such_flag=1"])


def test_missing_beam_names_the_beam_extra(monkeypatch):
  monkeypatch.setitem(sys.modules, "apache_beam", None)
  with pytest.raises(errors.MissingDependencyError,
                     match=r"need Apache Beam .*pip install "
                     r"learned-compression\[beam\]"):
    common_beam.beam_module()


# Convolution helpers --------------------------------------------------------


def test_conv_helpers_keep_their_variable_names_and_shapes():
  tf = pytest.importorskip("tensorflow")
  from compression.examples.common import layers  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  with tf.Graph().as_default():
    x = v1.placeholder(tf.float32, [None, 7, None, 3])
    y = layers.conv(x, 4, 5, 2, "a", activation=tf.nn.relu)
    z = layers.conv_transpose(y, 2, 3, 2, "b", rdft=True)
    assert y.shape.as_list() == [None, 4, None, 4]
    assert z.shape.as_list() == [None, 8, None, 2]
    names = {v.name: v.shape.as_list() for v in v1.global_variables()}
  # Checkpoints of both examples hold these names (kernel_rdft: the image codec).
  assert names["a/kernel:0"] == [5, 5, 3, 4] and names["a/bias:0"] == [4]
  assert "b/bias:0" in names and "b/kernel:0" not in names
  assert any(name.startswith("b/kernel_rdft") for name in names), names


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
