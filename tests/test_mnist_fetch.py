"""fetch_mnist: downloads against a local HTTP server on 127.0.0.1 (never the
network) serving small IDX files; checksums, resumed downloads, mirrors in turn,
one error line when offline, the cache folder the commands read by default."""

import gzip
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import mnist_testutil
from compression.examples.mnist import commands
from compression.examples.mnist import data
from compression.examples.mnist import fetch

ROOT = mnist_testutil.ROOT
NAMES = fetch.FILE_NAMES


def fixture_files(train=96, test=32):
  """{name: gzipped IDX bytes} of a small synthetic MNIST."""
  files = {}
  for split, n, seed in (("train", train, 1), ("test", test, 2)):
    images, labels = mnist_testutil.synthetic_digits(n, seed)
    image_name, label_name = data.FILE_NAMES[split]
    # mtime=0: the same bytes every time.
    files[image_name] = gzip.compress(data.encode_idx(images, data.IMAGE_MAGIC),
                                      mtime=0)
    files[label_name] = gzip.compress(data.encode_idx(labels, data.LABEL_MAGIC),
                                      mtime=0)
  return files


FILES = fixture_files()
SUMS = {name: hashlib.sha256(raw).hexdigest() for name, raw in FILES.items()}


class Server:
  """A mirror on 127.0.0.1: serves FILES under /mnist/, honours Range requests
  (unless `ranges=False`), records (path, Range header) of every request, and
  can cut a file's response after some bytes (`cut[name] = n`, once) or serve
  other bytes (`corrupt`)."""

  def __init__(self, ranges=True, corrupt=False, files=None):
    files = FILES if files is None else files
    self.requests = []
    self.cut = {}
    server = self

    class Handler(http.server.BaseHTTPRequestHandler):

      def do_GET(self):  # pylint: disable=invalid-name
        name = self.path.rsplit("/", 1)[-1]
        server.requests.append((name, self.headers.get("Range")))
        raw = files.get(name) if self.path.startswith("/mnist/") else None
        if raw is None:
          self.send_error(404)
          return
        if corrupt:
          raw = bytes(b ^ 1 for b in raw)
        start = 0
        header = self.headers.get("Range")
        if ranges and header and header.startswith("bytes="):
          start = int(header[len("bytes="):].split("-")[0])
          if start >= len(raw):
            self.send_error(416)
            return
          self.send_response(206)
          self.send_header("Content-Range",
                           f"bytes {start}-{len(raw) - 1}/{len(raw)}")
        else:
          self.send_response(200)
        body = raw[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in server.cut:
          self.wfile.write(body[:server.cut.pop(name)])
          self.wfile.flush()
          self.close_connection = True
          return
        self.wfile.write(body)

      def log_message(self, *args):
        pass

    self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
    self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
    self.thread.start()

  def close(self):
    self.httpd.shutdown()
    self.httpd.server_close()


@pytest.fixture
def server():
  s = Server()
  yield s
  s.close()


def _closed_port_url():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  return f"http://127.0.0.1:{port}/mnist/"


def _fetch(directory, sources, lines=None):
  return fetch.fetch(str(directory), sources, SUMS, timeout=10,
                     log=(lines.append if lines is not None else lambda _: None))


def _contents(directory):
  return {n: open(os.path.join(directory, n), "rb").read() for n in NAMES}


def test_fetches_the_four_files_checked_and_not_twice(server, tmp_path):
  lines = []
  _fetch(tmp_path / "d", [server.url], lines)
  assert _contents(tmp_path / "d") == FILES
  assert sorted(n for n, _ in server.requests) == sorted(NAMES)
  assert all("SHA-256 ok" in line for line in lines) and len(lines) == 4
  images, labels = data.load("train", str(tmp_path / "d"))
  assert images.shape == (96, 28, 28) and labels.shape == (96,)
  # Everything there with the right checksums: no request at all.
  server.requests.clear()
  lines.clear()
  _fetch(tmp_path / "d", [server.url], lines)
  assert not server.requests
  assert all("already there" in line for line in lines)


def test_a_cut_download_resumes_with_a_range_request(server, tmp_path):
  name = "train-images-idx3-ubyte.gz"
  half = len(FILES[name]) // 2
  server.cut[name] = half
  with pytest.raises(fetch.FetchError) as e:
    _fetch(tmp_path, [server.url])
  message = str(e.value)
  assert "\n" not in message and name in message
  assert f"{half} bytes kept" in message and "next run resumes" in message
  assert os.path.getsize(tmp_path / (name + ".part")) == half
  assert not os.path.exists(tmp_path / name)
  # The next run asks for the rest only and ends with the whole file.
  server.requests.clear()
  lines = []
  _fetch(tmp_path, [server.url], lines)
  assert (name, f"bytes={half}-") in server.requests
  assert _contents(tmp_path) == FILES
  assert not os.path.exists(tmp_path / (name + ".part"))
  assert any(f"resumed after {half} bytes" in line for line in lines)


def test_a_server_ignoring_ranges_gives_the_whole_file_again(tmp_path):
  server = Server(ranges=False)
  try:
    name = "t10k-images-idx3-ubyte.gz"
    server.cut[name] = 100
    with pytest.raises(fetch.FetchError):
      _fetch(tmp_path, [server.url])
    _fetch(tmp_path, [server.url])
    assert _contents(tmp_path) == FILES
  finally:
    server.close()


def test_the_next_mirror_resumes_where_the_first_stopped(server, tmp_path):
  second = Server()
  try:
    name = "train-images-idx3-ubyte.gz"
    server.cut[name] = 1000
    _fetch(tmp_path, [server.url, second.url])
    assert (name, "bytes=1000-") in second.requests
    assert _contents(tmp_path) == FILES
  finally:
    second.close()


def test_wrong_bytes_are_never_kept(server, tmp_path):
  bad = Server(corrupt=True)
  try:
    with pytest.raises(fetch.FetchError) as e:
      _fetch(tmp_path, [bad.url])
    assert "SHA-256" in str(e.value) and "\n" not in str(e.value)
    assert not os.listdir(tmp_path)  # neither the file nor a .part
    # A good mirror after a bad one.
    _fetch(tmp_path, [bad.url, server.url])
    assert _contents(tmp_path) == FILES
  finally:
    bad.close()


def test_a_whole_file_with_other_bytes_is_set_aside_and_fetched(server, tmp_path):
  name = "t10k-labels-idx1-ubyte.gz"
  _fetch(tmp_path, [server.url])
  with open(tmp_path / name, "wb") as f:
    f.write(b"not mnist")
  server.requests.clear()
  lines = []
  _fetch(tmp_path, [server.url], lines)
  assert [n for n, _ in server.requests] == [name]
  assert open(tmp_path / (name + ".bad"), "rb").read() == b"not mnist"
  assert _contents(tmp_path) == FILES


def _env(tmp_path, **extra):
  """Environment of a command that reads and fetches through the test server:
  a cache folder of its own, no MNIST_DIR, the fixture's checksums."""
  sums = tmp_path / "SHA256SUMS"
  sums.write_text("".join(f"{SUMS[n]}  {n}\n" for n in NAMES))
  env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "MNIST_DIR": "",
         fetch.SHA256SUMS_ENV: str(sums)}
  env.update(extra)
  return env


def test_offline_is_one_error_line(tmp_path):
  proc = mnist_testutil.run_cli(
      "fetch_mnist", f"--data_dir={tmp_path}/d",
      f"--mirrors={_closed_port_url()},{_closed_port_url()}",
      env=_env(tmp_path))
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1, proc.stderr
  assert lines[0].startswith("error: cannot download train-images-idx3-ubyte.gz")
  assert "Connection refused" in lines[0] and "Offline?" in lines[0]
  assert not os.path.exists(f"{tmp_path}/d/train-images-idx3-ubyte.gz")


def test_fetch_command_fills_the_cache_the_commands_read(server, tmp_path,
                                                         monkeypatch):
  env = _env(tmp_path, **{fetch.MIRRORS_ENV: server.url})
  proc = mnist_testutil.run_cli("fetch_mnist", env=env)
  assert proc.returncode == 0, proc.stderr
  cache = tmp_path / "cache" / "compression" / "mnist"
  assert _contents(cache) == FILES
  assert f"done: {cache} holds the four MNIST files" in proc.stdout
  assert "read them from there by default" in proc.stdout
  assert proc.stderr == ""
  for key, value in env.items():
    monkeypatch.setenv(key, value)
  assert data.resolve_data_dir("") == str(cache)
  images, _ = data.load("test", "")
  assert images.shape == (32, 28, 28)


def test_missing_data_names_the_fetch_command(tmp_path, monkeypatch):
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  monkeypatch.delenv("MNIST_DIR", raising=False)
  with pytest.raises(data.MnistDataError) as e:
    data.resolve_data_dir("")
  assert "fetch_mnist" in str(e.value)
  assert os.path.join(str(tmp_path), "compression", "mnist") in str(e.value)


def test_train_download_fetches_before_training(server, tmp_path, monkeypatch,
                                                capsys):
  for key, value in _env(tmp_path, **{fetch.MIRRORS_ENV: server.url}).items():
    monkeypatch.setenv(key, value)
  data_dir = tmp_path / "data"
  with pytest.raises(SystemExit) as e:
    commands.main(["prog", "train", "--download", f"--data_dir={data_dir}",
                   f"--model_dir={tmp_path}/m", "--steps=1", "--batch_size=16",
                   "--latent_dims=4", "--test_size=16"])
  out, err = capsys.readouterr()
  assert e.value.code in (0, None), err
  assert _contents(data_dir) == FILES
  assert out.index("fetching the four MNIST files") < out.index("training on 96")


def test_the_script_checks_and_fetches_with_the_standard_library_only(
    server, tmp_path):
  """scripts/demo.sh runs fetch.py with the system's python3 before the set-up."""
  script = os.path.join(ROOT, "compression", "examples", "mnist", "fetch.py")
  env = dict(os.environ, **_env(tmp_path, **{fetch.MIRRORS_ENV: server.url}))
  env.pop("PYTHONPATH", None)
  check = [sys.executable, "-I", script, f"--data_dir={tmp_path}/d", "--check"]
  proc = subprocess.run(check, env=env, capture_output=True, text=True,
                        timeout=60, check=False)
  assert proc.returncode == 1 and proc.stderr.startswith("error: "), proc.stderr
  assert "lacks train-images-idx3-ubyte.gz" in proc.stderr
  # -I: no site-packages, so nothing but the standard library can be imported;
  # and $MNIST_SHA256SUMS is read from the environment (not ignored by -I).
  proc = subprocess.run(check[:-1], env=env, capture_output=True, text=True,
                        timeout=60, check=False)
  assert proc.returncode == 0, proc.stderr
  assert _contents(tmp_path / "d") == FILES
  proc = subprocess.run(check, env=env, capture_output=True, text=True,
                        timeout=60, check=False)
  assert proc.returncode == 0, proc.stderr


def test_demo_script_stops_before_the_set_up_when_the_data_cannot_come(tmp_path):
  """scripts/demo.sh looks for the data (and fetches it) first: offline and
  without the files it ends in seconds with one line, before setup.sh runs."""
  env = dict(os.environ, **_env(tmp_path, **{
      fetch.MIRRORS_ENV: _closed_port_url()}))
  start = time.time()
  # The clone's scripts/ (a Bazel py_test's runfiles hold only the package).
  source_root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
  proc = subprocess.run(["bash", os.path.join(source_root, "scripts", "demo.sh"),
                         f"--data_dir={tmp_path}/empty"], env=env,
                        capture_output=True, text=True, timeout=120, check=False)
  assert proc.returncode == 1
  assert time.time() - start < 60
  assert proc.stderr.strip().splitlines()[-1].startswith(
      "error: cannot download train-images-idx3-ubyte.gz")
  assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
  assert "==" not in proc.stdout  # setup.sh's steps never started

def test_bad_checksum_file_is_one_line(tmp_path):
  sums = tmp_path / "sums"
  sums.write_text("abc  train-images-idx3-ubyte.gz\n")
  proc = mnist_testutil.run_cli(
      "fetch_mnist", f"--data_dir={tmp_path}/d",
      env={fetch.SHA256SUMS_ENV: str(sums)})
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines() == [
      f"error: ${fetch.SHA256SUMS_ENV}={sums}, line 1: expected `SHA256  NAME`, "
      "got 'abc  train-images-idx3-ubyte.gz'"]


def test_pinned_checksums_are_those_of_the_published_files():
  """With the real files at hand ($MNIST_DIR, as CI has), they match every
  pinned SHA-256 (9912422, 28881, 1648877 and 4542 bytes as distributed)."""
  real = os.environ.get("MNIST_DIR", "")
  if not real:
    pytest.skip("no $MNIST_DIR with the real files")
  assert fetch.missing(real, fetch.SHA256) == []


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
