"""The API reference builds, and the documentation's links lead somewhere.

Runs scripts/build_docs.py (what the README's `scripts/build_docs.sh` runs after the
set-up) into a temporary folder: pdoc's warnings are errors, every name of
`compression.__all__` needs a docstring of its own and an entry on
compression.html, and every relative link of README.md and docs/*.md must lead to
a file, a heading's anchor or an entry of the reference. Also checks that the
checker catches what it should (a broken link, anchor, reference entry).
"""

import importlib.util
import inspect
import os
import re
import subprocess
import sys

import pytest

# realpath: under `bazel test` this file is a symlink into the source tree.
ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "build_docs.py")


def _build_docs_module():
  spec = importlib.util.spec_from_file_location("build_docs", SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
  """The reference built by the script, in a temporary folder; (folder, process)."""
  out = str(tmp_path_factory.mktemp("site"))
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  proc = subprocess.run([sys.executable, SCRIPT, out], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=600, check=False)
  return out, proc


def test_the_reference_builds_without_warnings_or_problems(site):
  out, proc = site
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert proc.returncode == 0 and not errors, "\n".join(errors) or proc.stderr[-3000:]
  assert "API reference:" in proc.stdout
  for page in ("index.html", "compression.html",
               "compression/python/layers/entropy_bottleneck.html",
               "compression/python/ops/range_coding_ops.html"):
    assert os.path.isfile(os.path.join(out, page)), page
  assert not os.path.exists(os.path.join(out, "compression", "python", "ops",
                                         "_library.html"))


def test_every_exported_name_has_an_entry_and_a_docstring(site):
  out, _ = site
  import compression  # pylint: disable=g-import-not-at-top
  with open(os.path.join(out, "compression.html"), encoding="utf-8") as f:
    html = f.read()
  ids = set(re.findall(r'\sid="([^"]+)"', html))
  for name in compression.__all__:
    assert name in ids, name
    obj = getattr(compression, name)
    if inspect.isclass(obj):
      assert "__doc__" in vars(obj) and obj.__doc__.strip(), name
    else:
      assert (inspect.getdoc(obj) or "").strip(), name


def test_every_relative_link_resolves(site):
  out, _ = site
  build_docs = _build_docs_module()
  pages = build_docs.pages()
  assert "README.md" in pages and "docs/index.md" in pages, pages
  assert sum(len(build_docs.links(os.path.join(ROOT, p))) for p in pages) > 50
  assert build_docs.check_links(out) == []


def test_the_link_checker_finds_broken_links(site, tmp_path):
  out, _ = site
  build_docs = _build_docs_module()
  root = tmp_path / "clone"
  (root / "docs").mkdir(parents=True)
  (root / "README.md").write_text("# Title\n\n## Two commands\n\n[ok](docs/a.md#a-b)\n")
  (root / "docs" / "a.md").write_text(
      "# A\n\n## A `b`\n\n"
      "[file](nowhere.md) [anchor](../README.md#three-commands) "
      "[good](../README.md#two-commands) [web](https://example.org/x)\n"
      "`[in a code span](gone.md)`\n\n```sh\n[in a block](gone.md)\n```\n"
      "[entry](../site/compression.html#NoSuchName) "
      "[page](../site/nothing.html) [fine](../site/compression.html#GDN)\n")
  problems = build_docs.check_links(out, root=str(root))
  assert problems == [
      "docs/a.md:5: nowhere.md: no such file",
      "docs/a.md:5: ../README.md#three-commands: no heading makes the anchor "
      "#three-commands",
      "docs/a.md:11: ../site/compression.html#NoSuchName: the reference has no "
      "entry 'NoSuchName'",
      "docs/a.md:11: ../site/nothing.html: the reference has no such page",
  ], problems


def test_github_anchors(tmp_path):
  build_docs = _build_docs_module()
  page = tmp_path / "p.md"
  page.write_text("# Speed and compactness\n## Public API (`import compression as tfc`)\n"
                  "## `range_decode` and what `return_exact` promises\n"
                  "## Notes\n## Notes\n```sh\n# not a heading\n```\n")
  assert build_docs.heading_anchors(str(page)) == {
      "speed-and-compactness", "public-api-import-compression-as-tfc",
      "range_decode-and-what-return_exact-promises", "notes", "notes-1"}


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
