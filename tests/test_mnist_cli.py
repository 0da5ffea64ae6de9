"""Command line of the MNIST example (help in fresh processes, errors in-process)."""

import sys

import pytest

import mnist_testutil
from compression.examples.mnist import commands

ALL = sorted(commands.COMMANDS)


def test_every_command_is_there():
  assert ALL == sorted(["fetch_mnist", "demo", "train", "compress", "decompress",
                        "evaluate", "sweep", "sample", "report",
                        "beam_compress", "beam_decompress"])


def test_top_level_help_lists_commands():
  proc = mnist_testutil.run_cli("--help")
  assert proc.returncode == 0, proc.stderr
  for name in ALL:
    assert f"  {name} " in proc.stdout


@pytest.mark.parametrize("name", ALL)
def test_command_help(name):
  proc = mnist_testutil.run_cli(name, "--help")
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.startswith(f"usage: python -m compression.examples.mnist "
                                f"{name}")
  for spec in commands.COMMANDS[name].flag_specs:
    assert f"--{spec[1]}" in proc.stdout or f"--[no]{spec[1]}" in proc.stdout


def test_flag_sets():
  train_flags = {s[1] for s in commands.COMMANDS["train"].flag_specs}
  assert {"model_dir", "data_dir", "latent_dims", "lambda", "epochs", "steps",
          "seed"} <= train_flags
  compress_flags = {s[1] for s in commands.COMMANDS["compress"].flag_specs}
  assert {"start", "count", "png", "output"} <= compress_flags
  assert "lambdas" in {s[1] for s in commands.COMMANDS["sweep"].flag_specs}


def _run_in_process(capsys, *args):
  """commands.main in this process: (exit code, stdout, stderr)."""
  with pytest.raises(SystemExit) as e:
    commands.main(["prog"] + list(args))
  out, err = capsys.readouterr()
  return e.value.code, out, err


@pytest.mark.parametrize("args,message", [
    (["nonsense"], "unknown command 'nonsense'"),
    (["train", "--no_such_flag=1"], "Unknown command line flag"),
    (["train", "--steps=abc"], "steps"),
    (["compress"], "--output is required"),
    (["decompress", "--input=x.mnz"], "--output_dir is required"),
    (["train", "stray"], "unexpected arguments"),
    (["sweep", "--lambdas=1,x"], "--lambdas must be comma-separated numbers"),
    (["sample", "--count=0"], "--count must be positive"),
])
def test_usage_errors(capsys, args, message):
  code, _, err = _run_in_process(capsys, *args)
  assert code == 1
  assert message in err
  assert err.startswith("error: ")


def test_missing_data_is_explained(capsys, tmp_path, monkeypatch):
  monkeypatch.delenv("MNIST_DIR", raising=False)
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no fetch_mnist cache
  code, _, err = _run_in_process(capsys, "train", "--steps=1",
                                 f"--model_dir={tmp_path}/m")
  assert code == 1
  assert "t10k-images-idx3-ubyte.gz" in err and "MNIST_DIR" in err
  code, _, err = _run_in_process(capsys, "demo", f"--data_dir={tmp_path}",
                                 f"--work_dir={tmp_path}/w")
  assert code == 1
  assert "missing train-images-idx3-ubyte.gz" in err


def test_missing_data_in_a_fresh_process(tmp_path):
  proc = mnist_testutil.run_cli("demo", f"--work_dir={tmp_path}/w",
                                env={"MNIST_DIR": "",
                                     "XDG_CACHE_HOME": str(tmp_path)})
  assert proc.returncode == 1
  assert "MNIST_DIR" in proc.stderr and "Traceback" not in proc.stderr

if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
