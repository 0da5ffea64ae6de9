"""The fenced code blocks of the documentation (README.md and docs/*.md), for the
tests that run them."""

import dataclasses
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
_FENCE = re.compile(r"^( *)```(\w*)\s*$")


def pages():
  """The documentation pages whose blocks run: README.md, then docs/*.md (not the
  result files under docs/images/ and docs/mnist/), as paths relative to ROOT."""
  return ["README.md"] + sorted(
      os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))


@dataclasses.dataclass
class Block:
  language: str   # "sh", "python", "" (output shown, not run), ...
  text: str       # without the fence's indentation
  line: int       # 1-based line of the opening fence
  section: str    # the last "## " heading above it
  page: str = "README.md"   # the file, relative to ROOT

  @property
  def key(self):
    """The section's name in the tests' tables: "PAGE: HEADING"."""
    return f"{self.page}: {self.section}"

  @property
  def where(self):
    return f"{self.page}:{self.line}"

  def commands(self):
    """The block's lines that are not comments or blank, with continuation lines
    (ending in a backslash) joined."""
    lines, pending = [], ""
    for line in self.text.splitlines():
      if not pending and (not line.strip() or line.lstrip().startswith("#")):
        continue
      if line.rstrip().endswith("\\"):
        pending += line.rstrip()[:-1] + " "
        continue
      lines.append(pending + line)
      pending = ""
    return lines


def _page_blocks(path):
  """Every fenced block of one file, indented ones (inside list items) too."""
  page = os.path.relpath(os.path.abspath(path), ROOT)
  found, section, current = [], "", None
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      line = line.rstrip("\n")
      if current is None:
        if line.startswith("## "):
          section = line[3:].strip()
        match = _FENCE.match(line)
        if match:
          current = (len(match.group(1)), match.group(2), number, [])
        continue
      indent, language, start, body = current
      if line.strip() == "```":
        found.append(Block(language, "\n".join(body) + "\n", start, section, page))
        current = None
      else:
        body.append(line[indent:] if line[:indent].strip() == "" else line)
  if current is not None:
    raise ValueError(f"{page}:{current[2]}: a code block is never closed")
  return found


def blocks(path=None):
  """Every fenced block of `path`, or of every page (`pages()`) when None."""
  paths = [path] if path else [os.path.join(ROOT, p) for p in pages()]
  return [b for p in paths for b in _page_blocks(p)]


def block_with(text, language="sh", path=None):
  """The one block of `language` containing `text`, in `path` or in any page
  (ValueError otherwise)."""
  matching = [b for b in blocks(path) if b.language == language and text in b.text]
  if len(matching) != 1:
    raise ValueError(f"{len(matching)} {language} blocks of "
                     f"{path or 'the documentation'} contain {text!r}")
  return matching[0]
