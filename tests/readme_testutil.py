"""The fenced code blocks of the top-level README, for the tests that run them."""

import dataclasses
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
_FENCE = re.compile(r"^( *)```(\w*)\s*$")


@dataclasses.dataclass
class Block:
  language: str   # "sh", "python", "" (output shown, not run), ...
  text: str       # without the fence's indentation
  line: int       # 1-based line of the opening fence
  section: str    # the last "## " heading above it

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


def blocks(path=README):
  """Every fenced block of `path`, indented ones (inside list items) too."""
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
        found.append(Block(language, "\n".join(body) + "\n", start, section))
        current = None
      else:
        body.append(line[indent:] if line[:indent].strip() == "" else line)
  if current is not None:
    raise ValueError(f"{path}:{current[2]}: a code block is never closed")
  return found


def block_with(text, language="sh", path=README):
  """The one block of `language` containing `text` (ValueError otherwise)."""
  matching = [b for b in blocks(path) if b.language == language and text in b.text]
  if len(matching) != 1:
    raise ValueError(f"{len(matching)} {language} blocks of {path} contain {text!r}")
  return matching[0]
