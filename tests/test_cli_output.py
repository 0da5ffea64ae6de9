"""What the example programs print: a command's stderr holds its own lines only
(TensorFlow's start-up lines are hidden unless --verbose), and run as a console
script the usage lines name the script."""

import os
import subprocess
import sys

import pytest

import images_testutil
import mnist_testutil

ROOT = mnist_testutil.ROOT


def _env(**extra):
  """The test's environment without TF_CPP_MIN_LOG_LEVEL: the programs must keep
  quiet by themselves."""
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  env["PYTHONPATH"] = ROOT
  env.update(extra)
  return env


def _run(module, *args, **env):
  return subprocess.run([sys.executable, "-m", f"compression.examples.{module}"]
                        + list(args), cwd=ROOT, env=_env(**env),
                        capture_output=True, text=True, timeout=600, check=False)


def _tensorflow_start_up_lines():
  """What importing TensorFlow writes to stderr here (with the level the
  programs set), without timestamps: nothing on some machines."""
  proc = subprocess.run([sys.executable, "-c", "import tensorflow"],
                        env=_env(TF_CPP_MIN_LOG_LEVEL="2"), capture_output=True,
                        text=True, timeout=300, check=True)
  return [line.split("]")[-1].strip() for line in proc.stderr.splitlines()
          if line.strip()]


@pytest.fixture(scope="module")
def mnist_model():
  return mnist_testutil.trained_model()


def test_mnist_commands_write_only_their_own_lines(mnist_model, tmp_path):
  data_dir = mnist_testutil.data_dir()
  out = str(tmp_path / "d.mnz")
  proc = _run("mnist", "compress", f"--model_dir={mnist_model}",
              f"--data_dir={data_dir}", "--count=3", f"--output={out}")
  assert proc.returncode == 0, proc.stderr
  assert proc.stderr == ""
  assert f"wrote {out}: 3 digits" in proc.stdout
  # An error after TensorFlow has loaded: exactly one line.
  with open(out, "r+b") as f:
    f.seek(12)
    f.write(b"\xff\xff")
  proc = _run("mnist", "decompress", f"--model_dir={mnist_model}",
              f"--input={out}", f"--output_dir={tmp_path}/png")
  assert proc.returncode == 1
  assert len(proc.stderr.splitlines()) == 1, proc.stderr
  assert proc.stderr.startswith("error: ")


def test_verbose_shows_tensorflow_start_up(mnist_model, tmp_path):
  expected = _tensorflow_start_up_lines()
  if not expected:
    pytest.skip("TensorFlow writes nothing to stderr when it loads here")
  proc = _run("mnist", "compress", "--verbose", f"--model_dir={mnist_model}",
              f"--data_dir={mnist_testutil.data_dir()}", "--count=1",
              f"--output={tmp_path}/d.mnz")
  assert proc.returncode == 0, proc.stderr
  shown = [line.split("]")[-1].strip() for line in proc.stderr.splitlines()]
  for line in expected:
    assert line in shown, proc.stderr


def test_image_compress_and_decompress_write_only_their_own_lines(tmp_path):
  model = images_testutil.trained_model()
  image = images_testutil.write_pngs(str(tmp_path), 1, 64, 96)[0]
  cim, png = str(tmp_path / "x.cim"), str(tmp_path / "y.png")
  for args in (("compress", image, cim), ("decompress", cim, png)):
    proc = _run("images", args[0], f"--model_dir={model}", *args[1:])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith(args[2] + ": ")


def test_console_script_names_itself(tmp_path):
  """setup.py's console scripts call commands.main() with the script as
  sys.argv[0]: its name is the program's name in usage and error lines."""
  for module, script in (("mnist", "mnist-compression"),
                         ("images", "image-compression")):
    code = (f"import sys; sys.argv = ['{tmp_path}/bin/{script}'] + sys.argv[1:]; "
            f"from compression.examples.{module} import commands; commands.main()")
    proc = subprocess.run([sys.executable, "-c", code, "compress", "--help"],
                          cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: {script} compress "), proc.stdout
    proc = subprocess.run([sys.executable, "-c", code, "compress", "--nope=1"],
                          cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1
    assert f"see `{script} compress --help`" in proc.stderr
    assert "python -m" not in proc.stderr


def test_what_an_import_wrote_is_shown_only_when_it_fails():
  program = (
      "import os\n"
      "from compression.examples import quiet\n"
      "with quiet.stderr_to_file():\n"
      "  os.write(2, b'hidden: the block succeeded\\n')\n"
      "try:\n"
      "  with quiet.stderr_to_file():\n"
      "    os.write(2, b'shown: the block failed\\n')\n"
      "    raise ValueError('x')\n"
      "except ValueError:\n"
      "  os.write(2, b'after\\n')\n")
  proc = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=_env(),
                        capture_output=True, text=True, timeout=60, check=True)
  assert proc.stderr == "shown: the block failed\nafter\n"

@pytest.mark.parametrize("module,args,purpose", [
    ("mnist", ["sweep", "--lambdas=300", "--steps=1"], "sweep (figures)"),
    ("mnist", ["demo", "--steps=1"], "demo (PNG images)"),
    ("images", ["compare"], "compare (figures)"),
])
def test_missing_optional_package_is_named_before_any_work(
    module, args, purpose, monkeypatch, capsys, tmp_path):
  """Without matplotlib / Pillow (a wheel installed without the examples
  extra), the commands that need them say so first, in one line."""
  import importlib  # pylint: disable=g-import-not-at-top
  import importlib.util  # pylint: disable=g-import-not-at-top
  real = importlib.util.find_spec
  monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (
      None if name.split(".")[0] in ("matplotlib", "PIL") else real(name, *a)))
  monkeypatch.chdir(tmp_path)
  commands = importlib.import_module(f"compression.examples.{module}.commands")
  with pytest.raises(SystemExit) as e:
    commands.main(["prog"] + args + [f"--data_dir={mnist_testutil.data_dir()}"
                                     if module == "mnist" else "--folder="])
  _, err = capsys.readouterr()
  assert e.value.code == 1
  lines = err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith(f"error: {purpose} needs "), err
  assert "pip install learned-compression[examples]" in lines[0]
  assert not os.listdir(tmp_path)  # nothing written, nothing trained

if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
