"""Every code block of the documentation runs, as written: README.md and every
docs/*.md page (readme_testutil.pages()).

A section is a page and a "## " heading, named "PAGE: HEADING" in the tables below
(e.g. "docs/layers.md: GDN"). Python blocks: the blocks of one section run, in order,
as one program in a fresh process (graph-mode snippets continue one another: the
training snippet writes the checkpoint the compress snippet restores); in the
sections of `SEPARATE_PROCESSES` each block is a program of its own, run one after
the other in one folder (a decoder that shares nothing with the encoder but its
files). What a snippet leaves to the reader ("your encoder" `analysis_transform`,
`batches`, `lmbda`, ...) comes from a small prelude per section (`PRELUDES`); a
check after it (`CHECKS`) looks at what the snippets computed. A section without a
prelude must be self-contained. A key of these tables that names no section with
python blocks fails (sections move between pages).

Shell blocks run with bash (`set -e`), `python` being this test's interpreter, in
one scratch folder shared by all (the Beam block reads the model the MNIST block
trains), or in the clone when they use its scripts/. Sizes are small because of:

- the data: MNIST comes from a local HTTP server on 127.0.0.1 serving small
  synthetic IDX files ($MNIST_MIRRORS, $MNIST_SHA256SUMS; `fetch_mnist` downloads
  them into this test's own cache folder, $XDG_CACHE_HOME), scripts/demo.sh gets a
  synthetic $MNIST_DIR;
- flags appended to a command (its own flags, the last one wins: `SIZE_FLAGS`), for
  the image example's training, whose size does not depend on the data.

Blocks that cannot run here are listed in `ELSEWHERE` with the reason (and, for the
two install blocks, the test that runs them); an entry that no longer matches a
block fails, and so does any new block, on any page, that neither runs nor is
listed. Blocks of no language are program output, not code.

Slow (several minutes: trainings, a Beam pipeline, scripts/demo.sh and
scripts/build_docs.sh with the set-up's `bazel build`); pytest only, not a Bazel
py_test (the set-up runs Bazel).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import mnist_testutil
import readme_testutil
import test_mnist_fetch
from compression.examples.mnist import data

ROOT = readme_testutil.ROOT
# The MNIST the blocks fetch: 256 training digits (2 steps an epoch at batch 128),
# 128 test digits (the block compresses 100).
FILES = test_mnist_fetch.fixture_files(train=256, test=128)

# The shell blocks this file runs: {text only that block has: its test}.
SHELL_TESTS = {
    "./scripts/demo.sh": "test_top_block_demo",
    "compression.examples.images compress --quality": "test_photo_block",
    "scripts/build_docs.sh": "test_docs_block",
    "compression.examples.mnist fetch_mnist": "test_mnist_block",
    "compression.examples.images train": "test_image_block",
    "beam_compress --model_dir=runs/m": "test_beam_block",
    "--runner=DaskRunner": "test_dask_block",
}
# The blocks it does not run: {text only that block has: why}.
ELSEWHERE = {
    "--runner=DataflowRunner": "needs a Google Cloud project (Dataflow); not run here",
    "--runner=FlinkRunner": "needs a Flink cluster, Docker and Java (Beam's Flink job "
                            "server); not run here",
    "--runner=SparkRunner": "needs a Spark cluster, Docker and Java (Beam's Spark job "
                            "server); not run here",
    "TF_USE_LEGACY_KERAS=1 python bmshj2018.py": (
        "a pip install and the reader's own 1.x script; tests/test_tfc1_scripts.py "
        "runs 1.x scripts under tf-keras"),
    "/tmp/env/bin/pip install dist/": "tests/test_wheel.py runs it (installs TensorFlow)",
    "/tmp/env/bin/pip install .": "tests/test_wheel.py runs it (installs TensorFlow)",
}
# Lines not run in a block that runs: {text of the line: why}.
LINES_ELSEWHERE = {
    "./scripts/test.sh": "runs every test, this one included (CI runs it: .ci/run)",
}
SIZE_FLAGS = {
    "compression.examples.images train": (
        "--num_steps=2 --patchsize=64 --batch_size=1 --num_filters=4 "
        "--latent_filters=6 --warmup_steps=0 --threads=1"),
}

_PRELUDE_EB = """
import numpy as np
import tensorflow as tf
latent_dims = 8
lmbda = 100.
images = np.random.default_rng(0).uniform(0, 1, (4, 28, 28, 1)).astype(np.float32)
batches = [images] * 3

def _dense(name, x, units):
  with tf.compat.v1.variable_scope(name, reuse=tf.compat.v1.AUTO_REUSE):
    w = tf.compat.v1.get_variable("w", [x.shape[-1], units])
    b = tf.compat.v1.get_variable("b", [units],
                                  initializer=tf.compat.v1.zeros_initializer())
  return tf.matmul(x, w) + b

def analysis_transform(x):
  return 10. * _dense("analysis", tf.reshape(x, [-1, 784]), latent_dims)

def synthesis_transform(y):
  return tf.reshape(_dense("synthesis", y, 784), [-1, 28, 28, 1])

def distortion(x, x_hat):
  return tf.reduce_mean(tf.abs(x - x_hat))
original = images
"""

_PRELUDE_HYPERPRIOR = """
import numpy as np
import tensorflow as tf
lmbda = .01
images = np.random.default_rng(0).uniform(0, 1, (1, 256, 256, 3)).astype(np.float32)

def _conv(name, x, filters):
  with tf.compat.v1.variable_scope(name, reuse=tf.compat.v1.AUTO_REUSE):
    kernel = tf.compat.v1.get_variable("kernel", [1, 1, x.shape[-1], filters])
  return tf.nn.conv2d(x, kernel, 1, "SAME")

def analysis_transform(x):       # [B, 256, 256, 3] -> [B, 16, 16, 192]
  return 8. * _conv("analysis", tf.nn.avg_pool2d(x, 16, 16, "VALID"), 192)

def hyper_analysis(y):           # [B, 16, 16, 192] -> [B, 4, 4, 8]
  return _conv("hyper_analysis", tf.nn.avg_pool2d(y, 4, 4, "VALID"), 8)

def hyper_synthesis(z):          # [B, 4, 4, 8] -> positive [B, 16, 16, 192]
  up = tf.repeat(tf.repeat(z, 4, axis=1), 4, axis=2)
  return tf.exp(.1 * _conv("hyper_synthesis", up, 192))

def synthesis_transform(y):      # [B, 16, 16, 192] -> [B, 256, 256, 3]
  return tf.image.resize(_conv("synthesis", y, 3), [256, 256])

def distortion(x, x_hat):
  return tf.reduce_mean(tf.square(x - x_hat))
original = images
"""

_EB = "docs/entropy_bottleneck.md: In graph mode: train, compress, decompress"
_HYPERPRIOR = "docs/conditional_models.md: A tiny hyperprior (graph mode)"
_FIRST_MODEL = "README.md: Your first model: train, compress, decompress"
PRELUDES = {_EB: _PRELUDE_EB, _HYPERPRIOR: _PRELUDE_HYPERPRIOR}
# Sections whose blocks run as separate programs: {section: why}.
SEPARATE_PROCESSES = {
    _FIRST_MODEL: "the decoder runs in another process, from the files alone",
}
CHECKS = {
    # The decoded images of the last snippet, from strings of the first graph.
    _EB: """
assert images.shape == original.shape, images.shape
assert len(packed) == len(original) and all(len(s) > 0 for s in packed)
print("checked")
""",
    _HYPERPRIOR: """
assert images.shape == original.shape, images.shape
assert len(y_strings) == len(z_strings) == 1
print("checked")
""",
    _FIRST_MODEL: """
assert decoded.shape == (10, 16), decoded.shape
assert all(len(s) > 0 for s in packed)
print("checked")
""",
    "docs/layers.md: GDN": """
assert y.shape.as_list() == [None, None, None, 64]
assert x_back.shape.as_list() == [None, None, None, 64]
print("checked")
""",
}


def _runnable_lines(block):
  """The block's commands, without the lines LINES_ELSEWHERE lists."""
  return [c for c in block.commands()
          if not any(t in c for t in LINES_ELSEWHERE)]


def _marker(test_name):
  return next(m for m, t in SHELL_TESTS.items() if t == test_name)


def _with_size_flags(command):
  for pattern, extra in SIZE_FLAGS.items():
    if pattern in command:
      code, hash_, comment = command.partition(" #")
      return f"{code.rstrip()} {extra}" + (f" {hash_.strip()}{comment}"
                                           if hash_ else "")
  return command


def test_every_block_is_run_or_listed_with_a_reason():
  blocks = readme_testutil.blocks()
  assert blocks, "no code blocks found"
  for block in blocks:
    assert block.language in ("", "sh", "python"), (
        f"{block.where}: a {block.language!r} block; this test runs sh "
        "and python blocks")
  markers = dict(SHELL_TESTS, **ELSEWHERE)
  for block in blocks:
    if block.language == "sh":
      mine = [m for m in markers if m in block.text]
      assert len(mine) == 1, (
          f"{block.where}: a shell block that {'several' if mine else 'no'} "
          f"entries of SHELL_TESTS / ELSEWHERE name ({mine}): run it in a test, or "
          "list it in ELSEWHERE with the reason")
  for text in list(markers) + list(LINES_ELSEWHERE):
    assert sum(text in b.text for b in blocks if b.language == "sh") == 1, (
        f"{text!r} is in no shell block of the documentation, or in several")
  for text, name in SHELL_TESTS.items():
    assert callable(globals().get(name)), name
  with open(os.path.join(ROOT, "tests", "test_wheel.py")) as f:
    wheel_test = f.read()
  for text, reason in ELSEWHERE.items():
    if "test_wheel.py runs it" in reason:
      assert repr(text) in wheel_test or f'"{text}"' in wheel_test, text
  with open(os.path.join(ROOT, ".ci", "run")) as f:
    assert "scripts/test.sh" in f.read()
  sections = {b.key for b in blocks if b.language == "python"}
  for table in (PRELUDES, CHECKS, SEPARATE_PROCESSES):
    for key in table:
      assert key in sections, (
          f"{key!r} names no section with python blocks; sections: {sorted(sections)}")


def _python_programs():
  sections = {}
  for block in readme_testutil.blocks():
    if block.language == "python":
      sections.setdefault(block.key, []).append(block)
  return list(sections.items())


@pytest.mark.parametrize("section,blocks", _python_programs(),
                         ids=[s for s, _ in _python_programs()])
def test_python_blocks_run(section, blocks, tmp_path):
  prelude, check = PRELUDES.get(section, ""), CHECKS.get(section, "")
  if section in SEPARATE_PROCESSES:
    programs = [([b], "\n".join([prelude, b.text])) for b in blocks]
    programs[-1] = (programs[-1][0], programs[-1][1] + "\n" + check)
  else:
    programs = [(blocks, "\n".join([prelude] + [b.text for b in blocks] + [check]))]
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  for run_blocks, program in programs:
    proc = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    lines = ", ".join(b.where for b in run_blocks)
    assert proc.returncode == 0, f"{lines}:\n{proc.stderr[-3000:]}"
  if check:
    assert proc.stdout.strip().endswith("checked")


@pytest.fixture(scope="module")
def shell():
  """Runs a block in a scratch folder shared by the module's blocks, with the
  test's MNIST server and cache; returns the completed process."""
  scratch = tempfile.mkdtemp(prefix="readme_")
  server = test_mnist_fetch.Server(files=FILES)
  sums = os.path.join(scratch, "SHA256SUMS")
  with open(sums, "w") as f:
    f.write("".join(f"{hashlib.sha256(raw).hexdigest()}  {name}\n"
                    for name, raw in FILES.items()))
  # demo.sh: a synthetic MNIST folder of 1024 + 256 digits.
  demo_data = os.path.join(scratch, "demo_mnist")
  data.write_split(demo_data, "train", *mnist_testutil.synthetic_digits(1024, 1))
  data.write_split(demo_data, "test", *mnist_testutil.synthetic_digits(256, 2))
  env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
  env.update(
      PATH=os.path.dirname(sys.executable) + os.pathsep + env["PATH"],
      PYTHONPATH=ROOT, XDG_CACHE_HOME=os.path.join(scratch, "cache"),
      MNIST_MIRRORS=server.url, MNIST_SHA256SUMS=sums)

  def run(block, **extra):
    lines = [_with_size_flags(c) for c in _runnable_lines(block)]
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    cwd = ROOT if "scripts/" in block.text else scratch
    proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=dict(env, **extra),
                          capture_output=True, text=True, timeout=1800,
                          check=False)
    assert proc.returncode == 0, (f"{block.where} ({cwd}):\n"
                                  f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc, scratch

  done = {}

  def mnist_block():
    """Runs the MNIST block once; (process, scratch folder)."""
    if "mnist" not in done:
      done["mnist"] = run(readme_testutil.block_with(
          _marker("test_mnist_block")))
    return done["mnist"]

  run.scratch = scratch
  run.demo_data = demo_data
  run.mnist_block = mnist_block
  run.mnist_model = lambda: mnist_block()[1]
  yield run
  server.close()
  subprocess.run(["rm", "-rf", scratch], check=False)


def test_mnist_block(shell):
  proc, scratch = shell.mnist_block()
  cache = os.path.join(scratch, "cache", "compression", "mnist")
  for name, raw in FILES.items():
    with open(os.path.join(cache, name), "rb") as f:
      assert f.read() == raw, name
  for path in ("runs/m/metrics.json", "digits.mnz", "decoded/digit_0099.png",
               "grid.png", "runs/m/evaluation.json", "runs/sweep/sweep.md",
               "samples.png"):
    assert os.path.isfile(os.path.join(scratch, path)), path
  assert proc.stderr == ""


def test_beam_block(shell):
  scratch = shell.mnist_model()
  proc, _ = shell(readme_testutil.block_with(_marker("test_beam_block")))
  shards = [n for n in os.listdir(os.path.join(scratch, "out"))
            if n.startswith("train-") and n.endswith(".tfrecord")]
  assert shards, os.listdir(os.path.join(scratch, "out"))
  decoded = os.listdir(os.path.join(scratch, "out", "decoded"))
  assert len([n for n in decoded if n.endswith(".png")]) == 256, len(decoded)


def test_dask_block(shell):
  """docs/scaling.md's Dask cluster (a scheduler and two workers on 127.0.0.1:8786,
  stopped by the block's trap) and both MNIST pipelines on it."""
  scratch = shell.mnist_model()
  shell(readme_testutil.block_with(_marker("test_dask_block")))
  out = os.path.join(scratch, "out", "dask")
  assert sorted(os.listdir(out)) == [
      "decoded", "digits-00000-of-00002.tfrecord", "digits-00001-of-00002.tfrecord",
      "digits-dead-letter-00000-of-00001.txt"]
  decoded = os.listdir(os.path.join(out, "decoded"))
  assert len([n for n in decoded if n.endswith(".png")]) == 100, len(decoded)


def test_image_block(shell):
  proc, scratch = shell(readme_testutil.block_with(_marker("test_image_block")))
  for path in ("runs/bmshj/config.json", "cat.cim", "cat.png"):
    assert os.path.isfile(os.path.join(scratch, path)), path
  assert "mean of 4 images" in proc.stdout
  assert proc.stderr == ""


def test_photo_block(shell):
  """The shipped codec's three commands, on the bundled photograph as photo.png."""
  shutil.copyfile(
      os.path.join(ROOT, "compression", "examples", "images", "models", "sample.png"),
      os.path.join(shell.scratch, "photo.png"))
  proc, scratch = shell(readme_testutil.block_with(_marker("test_photo_block")))
  for path in ("photo.cim", "decoded.png", "runs/image_demo"):
    assert os.path.exists(os.path.join(scratch, path)), path
  assert "mean PSNR against JPEG at the same size" in proc.stdout


def test_docs_block(shell):
  """The README's documentation command builds the API reference into site/."""
  proc, _ = shell(readme_testutil.block_with(_marker("test_docs_block")))
  assert os.path.isfile(os.path.join(ROOT, "site", "compression.html")), proc.stdout


def test_top_block_demo(shell):
  proc, _ = shell(readme_testutil.block_with(_marker("test_top_block_demo")),
                  MNIST_DIR=shell.demo_data)
  assert "[4/4] results" in proc.stdout
  assert os.path.isfile(os.path.join(ROOT, "runs", "mnist_demo", "comparison.png"))


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
