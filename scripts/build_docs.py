"""Builds the API reference with pdoc and checks the documentation.

  python scripts/build_docs.py [OUTPUT_DIR]    # default: site/ of the clone

scripts/build_docs.sh runs this after the set-up (the README's command). pdoc
imports the package and writes one HTML page per module of `MODULES` into
OUTPUT_DIR (`compression.html` holds every name of `compression.__all__`). Then the
build fails (exit status 1, one line per problem) on:

- any warning pdoc itself gives (warnings are errors);
- a name of `compression.__all__` without a docstring of its own, or without an
  entry (an HTML id) on `compression.html`;
- a relative link of README.md or docs/*.md (Markdown links and images, outside
  code blocks) to a file that does not exist, to an anchor that no heading of the
  target page makes (GitHub's rule: lower case, punctuation dropped, spaces to
  hyphens), or into site/ (the reference) to a page or an id this build did not
  write.

tests/test_docs.py runs it into a temporary folder. Needs the op library built
(scripts/setup.sh) and pdoc (requirements.txt).
"""

import glob
import inspect
import os
import re
import sys
import warnings

# realpath: under `bazel test` the test's copy of the tree is made of symlinks.
ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
SITE = os.path.join(ROOT, "site")
# The package (its __all__ on compression.html) and the library's modules, whose
# docstrings explain what the classes refer to; not the examples (their READMEs)
# nor the private loader of the op library.
MODULES = ["compression", "compression.python", "!compression.python.ops._library"]
FOOTER = "learned compression for TensorFlow graphs: API reference (pdoc)"

_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]"
                   r"\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^ *```")
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def pages(root=ROOT):
  """README.md and docs/*.md, as paths relative to `root`."""
  return ["README.md"] + sorted(
      os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs", "*.md")))


def build(output_dir):
  """Runs pdoc into `output_dir`; returns its warnings as problem lines."""
  if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import pdoc  # pylint: disable=g-import-not-at-top
  import pdoc.render  # pylint: disable=g-import-not-at-top
  from pathlib import Path  # pylint: disable=g-import-not-at-top
  pdoc_dir = os.path.dirname(os.path.realpath(pdoc.__file__))
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    pdoc.render.configure(docformat="google", footer_text=FOOTER,
                          show_source=True)
    pdoc.pdoc(*MODULES, output_directory=Path(output_dir))
  return [f"pdoc: {w.category.__name__}: {w.message}" for w in caught
          if os.path.realpath(w.filename).startswith(pdoc_dir)]


def check_reference(output_dir):
  """Every name of compression.__all__ has a docstring and an entry on the page."""
  import compression  # pylint: disable=g-import-not-at-top
  page = os.path.join(output_dir, "compression.html")
  if not os.path.isfile(page):
    return [f"{page}: not written"]
  with open(page, encoding="utf-8") as f:
    ids = set(re.findall(r'\sid="([^"]+)"', f.read()))
  problems = []
  for name in compression.__all__:
    obj = getattr(compression, name)
    doc = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
    if inspect.isclass(obj) and "__doc__" not in vars(obj):
      doc = None  # inherited only
    if not doc or not doc.strip():
      problems.append(f"compression.{name}: no docstring")
    if name not in ids:
      problems.append(f"compression.{name}: no entry on compression.html")
  return problems


def heading_anchors(path):
  """The anchors GitHub makes for the headings of a Markdown file."""
  anchors, seen = set(), {}
  in_code = False
  with open(path, encoding="utf-8") as f:
    for line in f:
      if _FENCE.match(line):
        in_code = not in_code
        continue
      match = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
      if not match:
        continue
      text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))
      slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
      count = seen.get(slug, 0)
      seen[slug] = count + 1
      anchors.add(slug if count == 0 else f"{slug}-{count}")
  return anchors


def links(path):
  """(line number, target) of the Markdown links and images of a file, outside
  fenced blocks and code spans."""
  found, in_code = [], False
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      if _FENCE.match(line):
        in_code = not in_code
        continue
      if not in_code:
        found += [(number, m.group(1))
                  for m in _LINK.finditer(_CODE_SPAN.sub("", line))]
  return found


def check_links(site_dir, root=ROOT, page_list=None):
  """Problems of the relative links of README.md and docs/*.md (or `page_list`,
  paths relative to `root`); links into root/site/ are checked in `site_dir`."""
  problems = []
  site = os.path.join(root, "site")
  for page in page_list or pages(root):
    source = os.path.join(root, page)
    for number, target in links(source):
      if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
        continue  # https:, mailto:, ...
      path, _, anchor = target.partition("#")
      resolved = (os.path.normpath(os.path.join(os.path.dirname(source), path))
                  if path else source)
      where = f"{page}:{number}: {target}"
      if resolved == site or resolved.startswith(site + os.sep):
        built = os.path.join(site_dir, os.path.relpath(resolved, site))
        if os.path.isdir(built):
          built = os.path.join(built, "index.html")
        if not os.path.isfile(built):
          problems.append(f"{where}: the reference has no such page")
        elif anchor:
          with open(built, encoding="utf-8") as f:
            if f'id="{anchor}"' not in f.read():
              problems.append(f"{where}: the reference has no entry {anchor!r}")
        continue
      if not resolved.startswith(root + os.sep) and resolved != root:
        problems.append(f"{where}: leads out of the repository")
      elif not os.path.exists(resolved):
        problems.append(f"{where}: no such file")
      elif anchor and resolved.endswith(".md"):
        if anchor not in heading_anchors(resolved):
          problems.append(f"{where}: no heading makes the anchor #{anchor}")
  return problems


def main(argv):
  if len(argv) > 2 or any(a.startswith("-") for a in argv[1:]):
    print(__doc__.strip().splitlines()[2], file=sys.stderr)
    return 2
  output_dir = os.path.abspath(argv[1] if len(argv) == 2 else SITE)
  os.makedirs(output_dir, exist_ok=True)
  problems = build(output_dir)
  problems += check_reference(output_dir)
  problems += check_links(output_dir)
  for problem in problems:
    print(f"error: {problem}", file=sys.stderr)
  if problems:
    print(f"{len(problems)} problem(s); the reference in {output_dir} is incomplete",
          file=sys.stderr)
    return 1
  print(f"API reference: {os.path.join(output_dir, 'compression.html')}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
