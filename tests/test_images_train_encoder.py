"""`train --trainable=encoder`: only the analysis and hyper-analysis learn; the
exported model keeps its source's decoder, entropy models and coding tables bit for
bit (the same fingerprint), so files of the source decode with it, and it decodes
its own; runs that could not keep the decoder are refused in one line."""

import os
import sys

import numpy as np
import pytest

import images_testutil as util
from compression.examples.images import codec
from compression.examples.images import commands
from compression.examples.images import config as config_lib
from compression.examples.images import shipped
from compression.examples.images import train


@pytest.fixture(scope="module")
def source():
  """A tiny mbt2018-mean model in the shipped format (the folder train starts from)."""
  folder = util.tmp_dir()
  shipped.export(util.trained_model("mbt2018-mean"), folder, log=lambda *a: None)
  return folder


@pytest.fixture(scope="module")
def retrained(source):
  """`source` with its encoder trained 3 steps (mixed quantization; a large step,
  so that the tiny model's symbols change), exported."""
  run = util.tmp_dir()
  lines = []
  train.train(util.tiny_config(run, "mbt2018-mean", num_steps=3, log_every=3,
                               checkpoint_every=3, final_steps=0, init_from=source,
                               trainable="encoder", quantization="mixed",
                               learning_rate=.3, warmup_steps=0),
              log=lines.append)
  assert any("the encoder only (the decoder kept)" in line for line in lines), lines
  folder = util.tmp_dir()
  shipped.export(run, folder, log=lambda *a: None)
  return folder


def test_only_the_encoder_changes(source, retrained):
  before = np.load(os.path.join(source, shipped.WEIGHTS_FILE))
  after = np.load(os.path.join(retrained, shipped.WEIGHTS_FILE))
  assert sorted(before.files) == sorted(after.files)
  changed = {name for name in before.files
             if not (before[name].dtype == after[name].dtype
                     and np.array_equal(before[name], after[name]))}
  encoder = {name for name in before.files
             if name.startswith(config_lib.ENCODER_SCOPES)}
  assert changed, "training moved nothing"
  assert changed <= encoder, sorted(changed - encoder)
  # Both transforms learned, GDN included.
  assert any(name.startswith("analysis/gdn") for name in changed)
  assert any(name.startswith("hyper_analysis/") for name in changed)
  assert (shipped.record(retrained)["fingerprint"] ==
          shipped.record(source)["fingerprint"])


def test_the_source_files_decode_with_the_retrained_model(source, retrained):
  image = util.synthetic_image(70, 90, seed=5)
  old = codec.Encoder(source).compress(image)
  new = codec.Encoder(retrained).compress(image)
  assert old.blob != new.blob  # another encoder ...
  for blob in (old.blob, new.blob):  # ... and one decoder for both
    a = codec.Decoder(source).decompress(blob)
    b = codec.Decoder(retrained).decompress(blob)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.y_hat, b.y_hat)


def test_runs_that_cannot_keep_the_decoder_are_refused(source, capsys):
  checkpoint_dir = util.trained_model("mbt2018-mean")
  with pytest.raises(ValueError, match="needs init_from a shipped model folder"):
    train.train(util.tiny_config(util.tmp_dir(), "mbt2018-mean",
                                 init_from=checkpoint_dir, trainable="encoder"))
  with pytest.raises(ValueError, match=r"must have its architecture and sizes "
                     r"\('mbt2018-mean', 4, 6, 4\)"):
    train.train(util.tiny_config(util.tmp_dir(), "mbt2018-mean", latent_filters=8,
                                 init_from=source, trainable="encoder"))
  with pytest.raises(ValueError, match="trainable must be one of"):
    train.train(util.tiny_config(util.tmp_dir(), "mbt2018-mean",
                                 init_from=source, trainable="decoder"))
  for flags, message in (
      (["--trainable=encoder"], "--trainable=encoder needs --init_from"),
      (["--trainable=synthesis", f"--init_from={source}"],
       "--trainable must be all or encoder, got 'synthesis'")):
    with pytest.raises(SystemExit) as exit_:
      commands.main(["prog", "train", "--architecture=mbt2018-mean",
                     f"--model_dir={util.tmp_dir()}",
                     f"--train_glob={util.training_glob()}", "--num_steps=1",
                     *flags])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 1 and "Traceback" not in err
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert message in err, err


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
