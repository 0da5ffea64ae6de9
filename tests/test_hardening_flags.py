"""Absurd flag values fail with one line before anything loads (issue 17, item 4).

`mnist train --batch_size=100000000` used to die with SIGABRT at 5 GB; it and
every other range is checked first. The crash case runs in a child process under
a memory limit (a regression fails the test, not the machine); the rest run the
commands in this process, where the checks come before TensorFlow loads.
"""

import os
import sys

import pytest

import hardening_testutil
from compression.examples.images import commands as image_commands
from compression.examples.mnist import commands as mnist_commands


def _error(capsys, main, *args):
  with pytest.raises(SystemExit) as e:
    main(["prog"] + list(args))
  _, err = capsys.readouterr()
  lines = err.strip().splitlines()
  assert e.value.code == 1 and len(lines) == 1, err
  assert lines[0].startswith("error: "), err
  return lines[0]


def test_huge_mnist_batch_is_refused_in_a_limited_child(tmp_path):
  proc = hardening_testutil.run_limited(
      ["-m", "compression.examples.mnist", "train", "--batch_size=100000000",
       f"--model_dir={tmp_path}/m", f"--data_dir={tmp_path}/no_data"])
  line = hardening_testutil.error_line(proc)
  assert "--batch_size must be in 1..4096, got 100000000" in line
  assert not os.path.exists(f"{tmp_path}/m")


@pytest.mark.parametrize("args,words", [
    (["--batch_size=0"], "--batch_size must be in 1..4096, got 0"),
    (["--steps=-3"], "--steps must be in 0..10000000 (0: use --epochs), got -3"),
    (["--epochs=-1"], "--epochs must be in 0..10000, got -1"),
    (["--epochs=0"], "give --epochs > 0 or --steps > 0"),
    (["--train_size=-5"], "--train_size must be in 0..1000000000 (0: all)"),
    (["--test_size=-5"], "--test_size must be in"),
    (["--seed=-1"], "--seed must be in 0..4294967295, got -1"),
    (["--log_every=0"], "--log_every must be in 1.."),
    (["--learning_rate=nan"], "--learning_rate must be a finite number > 0"),
    (["--aux_learning_rate=-1"], "--aux_learning_rate must be a finite number > 0"),
    (["--decay_last=1.5"], "--decay_last must be in [0, 1], got 1.5"),
    (["--clip_norm=-1"], "--clip_norm must be a finite number >= 0, got -1"),
    (["--lambda=inf"], "--lambda must be a finite number > 0, got inf"),
    (["--latent_dims=0"], "--latent_dims must be in 1..4096"),
])
def test_mnist_train_flag_ranges(capsys, tmp_path, args, words):
  line = _error(capsys, mnist_commands.main, "train", f"--model_dir={tmp_path}/m",
                *args)
  assert words in line
  assert not os.path.exists(f"{tmp_path}/m")


@pytest.mark.parametrize("args,words", [
    (["sweep", "--output_dir={tmp}/s", "--batch_size=100000000"], "--batch_size must be in 1..4096"),
    (["sweep", "--output_dir={tmp}/s", "--seed=-2"], "--seed must be in"),
    (["compress", "--output={tmp}/x.mnz", "--count=0"], "--count must be in 1.."),
    (["compress", "--output={tmp}/x.mnz", "--start=-1"], "--start must be in 0.."),
    (["evaluate", "--digits_per_file=0"], "--digits_per_file must be in 1.."),
    (["evaluate", "--test_size=-1"], "--test_size must be in 0.."),
    (["sample", "--seed=-1"], "--seed must be in"),
    (["sample", "--latent_clip=-1"], "--latent_clip must be a finite number >= 0"),
    (["demo", "--count=100000"], "--count must be in 1..1024"),
    (["demo", "--steps=0"], "--steps must be in 1.."),
    (["beam_compress", "--output={tmp}/o", "--max_batch_size=0"],
     "--max_batch_size must be in 1..10000"),
    (["beam_compress", "--output={tmp}/o", "--count=-1"], "--count must be in 0.."),
    (["beam_decompress", "--input=x", "--output={tmp}/o", "--num_shards=-1"],
     "--num_shards must be in 0..10000"),
])
def test_other_mnist_flag_ranges(capsys, tmp_path, args, words):
  args = [a.format(tmp=tmp_path) for a in args]
  if args[0] not in ("sweep", "demo"):
    args.append(f"--model_dir={tmp_path}/m")
  if args[0] not in ("sample", "beam_decompress"):
    args.append(f"--data_dir={tmp_path}/d")
  line = _error(capsys, mnist_commands.main, *args)
  assert words in line


@pytest.mark.parametrize("args,words", [
    (["--threads=-3"], "--threads must be in 0..1024 (0: TensorFlow's default), "
     "got -3"),
    (["--batch_size=100000000"], "--batch_size must be in 0..1024"),
    (["--batch_size=1024", "--patchsize=1024"],
     "are 1073741824 pixels a step, more than 4194304"),
    (["--final_batch_size=-1"], "--final_batch_size must be in 0..1024"),
    (["--final_steps=-2"], "--final_steps must be in -1.."),
    (["--patchsize=100000"], "--patchsize must be in 0..4096"),
    (["--num_steps=0"], "--num_steps must be in 1.."),
    (["--num_filters=5000"], "--num_filters must be in 1..1024"),
    (["--seed=-1"], "--seed must be in 0..4294967295"),
    (["--lambda=nan"], "--lambda must be a finite number > 0, got nan"),
    (["--learning_rate=0"], "--learning_rate must be a finite number > 0"),
    (["--clip_norm=-1"], "--clip_norm must be a finite number >= 0"),
    (["--decay_last=-0.5"], "--decay_last must be in [0, 1]"),
    (["--quantization=round"], "--quantization must be noise or mixed, got 'round'"),
    (["--quantization=mixed", "--architecture=bmshj2018"],
     "--quantization=mixed needs --architecture=mbt2018-mean or ms2020-cc (the "
     "means it rounds around), got 'bmshj2018'"),
])
def test_image_train_flag_ranges(capsys, tmp_path, args, words):
  line = _error(capsys, image_commands.main, "train", f"--model_dir={tmp_path}/m",
                *args)
  assert words in line
  assert not os.path.exists(f"{tmp_path}/m")


@pytest.mark.parametrize("command", ["compress", "decompress", "evaluate",
                                     "compare", "beam_compress",
                                     "beam_decompress"])
def test_image_threads_range(capsys, tmp_path, command):
  args = {"compress": ["a.png", f"{tmp_path}/b.cim"],
          "decompress": ["a.cim", f"{tmp_path}/b.png"],
          "beam_compress": ["--input_glob=x", f"--output_dir={tmp_path}/o"],
          "beam_decompress": ["--input_glob=x", f"--output_dir={tmp_path}/o"]}
  model = (f"--model_dirs={tmp_path}/m" if command == "compare"
           else f"--model_dir={tmp_path}/m")
  line = _error(capsys, image_commands.main, command, "--threads=-3", model,
                *args.get(command, []))
  assert "--threads must be in 0..1024" in line


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
