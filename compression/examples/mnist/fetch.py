"""Downloads the four MNIST files into a cache folder, checked by SHA-256.

  python -m compression.examples.mnist fetch_mnist [--data_dir=DIR]
  python3 compression/examples/mnist/fetch.py [--data_dir=DIR] [--check]

The files are the IDX files of LeCun, Cortes and Burges as distributed
(gzip-compressed), fetched from the public mirrors in `MIRRORS` (Google's CVDF
bucket, the one TensorFlow's tutorials used; PyTorch's S3 bucket, the one
torchvision uses), first that works. Each file is written as `NAME.part`, its
SHA-256 compared with `SHA256` and only then renamed to `NAME`: a cut-off download
leaves the `.part` file, and the next attempt (the next mirror, or the next run)
asks for the rest with an HTTP Range request. A complete file with another
checksum is never kept.

Folder: --data_dir, else $MNIST_DIR, else `cache_dir()`
(`$XDG_CACHE_HOME/compression/mnist`, by default `~/.cache/compression/mnist`), the
folder the MNIST commands read when neither is given.

Overrides, for a private mirror or a test server: $MNIST_MIRRORS (comma-separated
base URLs, each ending in the file names) and $MNIST_SHA256SUMS (a file of
`sha256sum` lines, `HEX  NAME`, replacing `SHA256`).

Only the standard library: `scripts/demo.sh` runs this file with the system's
python3 before it sets anything else up, so that a machine without the data (and
without a network) learns it in seconds, not after the set-up.
"""

import os
import sys

if __name__ == "__main__" and sys.path and os.path.abspath(
    sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
  # Run as a script: this folder's modules (data.py, ...) must not shadow others.
  del sys.path[0]

import hashlib  # pylint: disable=g-import-not-at-top,wrong-import-position
import shutil  # pylint: disable=g-import-not-at-top,wrong-import-position
import urllib.error  # pylint: disable=g-import-not-at-top,wrong-import-position
import urllib.request  # pylint: disable=g-import-not-at-top,wrong-import-position

FILE_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
SHA256 = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = ("https://storage.googleapis.com/cvdf-datasets/mnist/",
           "https://ossci-datasets.s3.amazonaws.com/mnist/")
DATA_ENV = "MNIST_DIR"
MIRRORS_ENV = "MNIST_MIRRORS"
SHA256SUMS_ENV = "MNIST_SHA256SUMS"
TIMEOUT = 30  # seconds without data before a mirror counts as failed
CHUNK = 1 << 16
# The largest file is 9.9 MB; a server sending more than this is not serving MNIST.
MAX_BYTES = 64 << 20


class FetchError(Exception):
  """The files could not be fetched (one line: every mirror's reason)."""


def cache_dir():
  """`$XDG_CACHE_HOME/compression/mnist`, by default `~/.cache/compression/mnist`."""
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
      os.path.expanduser("~"), ".cache")
  return os.path.join(base, "compression", "mnist")


def default_dir():
  """$MNIST_DIR when set, else `cache_dir()`."""
  return os.environ.get(DATA_ENV) or cache_dir()


def mirrors():
  """The base URLs to try, in order: $MNIST_MIRRORS or `MIRRORS`."""
  value = os.environ.get(MIRRORS_ENV, "")
  found = [m.strip() for m in value.split(",") if m.strip()]
  return tuple(found) or MIRRORS


def checksums():
  """{file name: SHA-256 hex}: `SHA256`, or the file $MNIST_SHA256SUMS names."""
  path = os.environ.get(SHA256SUMS_ENV, "")
  if not path:
    return dict(SHA256)
  found = {}
  try:
    with open(path) as f:
      for number, line in enumerate(f, 1):
        if not line.strip():
          continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
          raise FetchError(f"${SHA256SUMS_ENV}={path}, line {number}: expected "
                           f"`SHA256  NAME`, got {line.strip()!r}")
        found[parts[1].lstrip("*")] = parts[0].lower()
  except OSError as e:
    raise FetchError(f"${SHA256SUMS_ENV}={path}: {e.strerror}") from None
  missing = [n for n in FILE_NAMES if n not in found]
  if missing:
    raise FetchError(f"${SHA256SUMS_ENV}={path} has no line for "
                     f"{', '.join(missing)}")
  return found


def sha256(path):
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(CHUNK), b""):
      digest.update(block)
  return digest.hexdigest()


def missing(data_dir, expected=None):
  """The names of `FILE_NAMES` absent from `data_dir` or with another SHA-256."""
  expected = expected or checksums()
  absent = []
  for name in FILE_NAMES:
    path = os.path.join(data_dir, name)
    if not os.path.isfile(path) or sha256(path) != expected[name]:
      absent.append(name)
  return absent


def _reason(error):
  """A short reason for a failed request."""
  if isinstance(error, urllib.error.HTTPError):
    return f"HTTP {error.code} {error.reason}"
  if isinstance(error, urllib.error.URLError):
    reason = error.reason
    return getattr(reason, "strerror", None) or str(reason)
  return str(error) or type(error).__name__


def _download(url, part, timeout):
  """Appends the rest of `url` to `part` (resuming at its size); returns the bytes
  received. Raises OSError / urllib errors / http.client errors on failure, keeping
  what arrived."""
  offset = os.path.getsize(part) if os.path.exists(part) else 0
  request = urllib.request.Request(url, headers={"User-Agent": "compression-mnist"})
  if offset:
    request.add_header("Range", f"bytes={offset}-")
  try:
    response = urllib.request.urlopen(request, timeout=timeout)
  except urllib.error.HTTPError as e:
    if e.code == 416 and offset:  # Nothing after `offset`: the part is whole.
      return 0
    raise
  with response:
    if offset and response.status != 206:  # The server ignored the Range.
      offset = 0
    received = 0
    with open(part, "ab" if offset else "wb") as f:
      while True:
        block = response.read(CHUNK)
        if not block:
          break
        received += len(block)
        if offset + received > MAX_BYTES:
          raise OSError(f"more than {MAX_BYTES} bytes")
        f.write(block)
  length = response.headers.get("Content-Length")
  if length is not None and received < int(length):
    raise OSError(f"connection closed after {received} of {length} bytes")
  return received


def fetch_file(name, data_dir, sources, expected, timeout=TIMEOUT, log=print):
  """Downloads one file into `data_dir` from the first of `sources` that gives
  bytes with its SHA-256 `expected`; returns its path. FetchError otherwise."""
  path = os.path.join(data_dir, name)
  part = path + ".part"
  reasons = []
  for base in sources:
    url = base.rstrip("/") + "/" + name
    resumed = os.path.getsize(part) if os.path.exists(part) else 0
    try:
      _download(url, part, timeout)
    except Exception as e:  # pylint: disable=broad-except
      # Network errors of every kind (URLError, timeouts, http.client's cut-off
      # responses): keep the part, try the next mirror.
      reasons.append(f"{url}: {_reason(e)}")
      continue
    got = sha256(part)
    if got != expected:
      os.remove(part)  # Wrong bytes: never resumed from.
      reasons.append(f"{url}: SHA-256 {got[:12]}... is not the expected "
                     f"{expected[:12]}...")
      continue
    os.replace(part, path)
    note = f", resumed after {resumed} bytes" if resumed else ""
    log(f"  {name}: {os.path.getsize(path)} bytes from {url}{note}; SHA-256 ok")
    return path
  kept = (f"; {os.path.getsize(part)} bytes kept in {part}, the next run resumes"
          if os.path.exists(part) else "")
  raise FetchError(
      f"cannot download {name} ({'; '.join(reasons)}){kept}. Offline? Copy the "
      f"four MNIST files into {data_dir} by hand, or point ${DATA_ENV} at a folder "
      "that has them")


def fetch(data_dir=None, sources=None, expected=None, timeout=TIMEOUT, log=print):
  """Makes `data_dir` (default: `default_dir()`) hold the four MNIST files with
  their checksums; downloads what is absent or wrong. Returns the folder.

  Args:
    data_dir: target folder (created).
    sources: base URLs, tried in order for each file (default: `mirrors()`).
    expected: {name: SHA-256 hex} (default: `checksums()`).
    timeout: seconds without data before a mirror counts as failed.
    log: called with one line per file.

  Raises:
    FetchError: a file could not be fetched from any source (one line).
  """
  data_dir = data_dir or default_dir()
  sources = tuple(sources or mirrors())
  expected = expected or checksums()
  os.makedirs(data_dir, exist_ok=True)
  for name in FILE_NAMES:
    path = os.path.join(data_dir, name)
    if os.path.isfile(path):
      if sha256(path) == expected[name]:
        log(f"  {name}: already there, SHA-256 ok")
        continue
      # A whole file with other bytes: set aside, never resumed from.
      shutil.move(path, path + ".bad")
      log(f"  {name}: wrong SHA-256, moved to {name}.bad; downloading it again")
    fetch_file(name, data_dir, sources, expected[name], timeout, log)
  return data_dir


def main(argv=None):
  """`python3 fetch.py [--data_dir=DIR] [--check]`: fetches the files, or with
  --check only tests that the four are there (by name, as the commands do: a
  folder of other MNIST-format files passes); exit status 0 when they are, 1 with
  one line otherwise."""
  args = list(sys.argv[1:] if argv is None else argv)
  data_dir, check = None, False
  for arg in args:
    if arg.startswith("--data_dir="):
      data_dir = arg.split("=", 1)[1] or None
    elif arg == "--check":
      check = True
    else:
      print(f"usage: fetch.py [--data_dir=DIR] [--check]; unknown argument {arg!r}",
            file=sys.stderr)
      return 2
  data_dir = data_dir or default_dir()
  try:
    if check:
      absent = [n for n in FILE_NAMES
                if not os.path.isfile(os.path.join(data_dir, n))]
      if absent:
        print(f"error: {data_dir} lacks {', '.join(absent)}", file=sys.stderr)
        return 1
      return 0
    print(f"MNIST: the four IDX files into {data_dir}", flush=True)
    fetch(data_dir, log=lambda line: print(line, flush=True))
  except (FetchError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())
