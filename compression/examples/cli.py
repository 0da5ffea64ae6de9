"""Shared command-line plumbing of the examples (`python -m compression.examples.X`).

A program is a dict of `Command`s, each with its own absl flags (declared as
specs, so `--help` needs no TensorFlow), run by `main`. Expected failures
(the program's known error types, file errors, TensorFlow op errors) print one
`error: ...` line on stderr and exit with status 1, without a traceback.
"""

import logging
import math
import os
import sys
import textwrap

from absl import app
from absl import flags
from absl import logging as absl_logging

from compression.examples import quiet
from compression.examples.common import errors

_DEFINE = {"string": flags.DEFINE_string, "integer": flags.DEFINE_integer,
           "float": flags.DEFINE_float, "bool": flags.DEFINE_bool,
           "list": flags.DEFINE_list}
_HELP_ARGS = ("-h", "--help", "-help", "--helpshort", "--helpfull")
# Flags every command has (see `main`).
COMMON_FLAGS = [("bool", "verbose", False,
                 "Also show what TensorFlow writes to stderr while it loads "
                 "(absl and oneDNN start-up lines; hidden by default).")]


class CommandError(Exception):
  """A user error the CLI reports as one line."""


class Command:
  """One command: its flags, help text and `run(flag_values)` function.

  flag_specs: (kind, name, default, help) tuples; kind is one of string,
    integer, float, bool, list (absl's DEFINE_*).
  required: names of flags that must be given (non-empty).
  positional: (flag name, METAVAR) pairs: positional arguments fill those of
    these flags not given as --flags, in order: `cmd A B` means
    `cmd --first=A --second=B`, `cmd --first=A B` means the same.
  passthrough: arguments that are not the command's flags are passed to
    `run(fv, rest)` (Beam pipeline options) instead of being refused.
  """

  def __init__(self, name, summary, description, flag_specs, run,
               required=(), passthrough=False, positional=()):
    self.name = name
    self.summary = summary
    self.description = description
    self.flag_specs = flag_specs
    self.run = run
    self.required = required
    self.passthrough = passthrough
    self.positional = tuple(positional)
    unknown = {n for n, _ in self.positional} - {s[1] for s in flag_specs}
    if unknown or passthrough and self.positional:
      raise ValueError(f"{name}: bad positional arguments {sorted(unknown)}")

  def make_flags(self):
    fv = flags.FlagValues()
    for kind, name, default, help_text in self.flag_specs + COMMON_FLAGS:
      _DEFINE[kind](name, default, help_text, flag_values=fv)
    return fv

  def usage_line(self, prog):
    line = f"usage: {prog} {self.name} [--flag=value ...]"
    return " ".join([line] + [metavar for _, metavar in self.positional])

  def help(self, prog):
    lines = [self.usage_line(prog), ""]
    lines += [textwrap.fill(p, 79) for p in self.description.split("\n\n")
              for p in (p, "")]
    metavars = dict(self.positional)
    lines.append("flags:")
    for kind, name, default, help_text in self.flag_specs + COMMON_FLAGS:
      if kind == "bool":
        head = f"  --[no]{name} (default: {default})"
      elif kind == "list":
        head = f"  --{name}=A,B,... (default: {','.join(default or [])!r})"
      elif name in self.required:
        head = f"  --{name}=VALUE (required)"
      else:
        head = f"  --{name}=VALUE (default: {default!r})"
      if name in metavars:
        head += f"; or the positional {metavars[name]}"
      lines.append(head)
      lines += textwrap.wrap(help_text, 79, initial_indent="      ",
                             subsequent_indent="      ")
    return "\n".join(lines)


def usage(prog, description, commands):
  """The top-level help: the commands with their one-line summaries."""
  width = max(len(n) for n in commands)
  lines = [f"usage: {prog} <command> [--flag=value ...]", "", description, "",
           "commands:"]
  lines += [f"  {n:<{width}}  {c.summary}" for n, c in commands.items()]
  lines += ["", f"`{prog} <command> --help` explains a command and its flags."]
  return "\n".join(lines)


# Upper bounds shared by the examples' flags (absurd values fail with one line
# instead of exhausting memory or time).
MAX_THREADS = 1024
MAX_SEED = 2 ** 32 - 1  # numpy's seeds are 32-bit
MAX_STEPS = 10 ** 7


def check_int(fv, name, low, high, note=""):
  """CommandError unless the integer flag --name lies in low..high."""
  value = fv[name].value
  if not low <= value <= high:
    raise CommandError(f"--{name} must be in {low}..{high}{note}, got {value}")


def check_float(fv, name, low, high=math.inf, low_open=False):
  """CommandError unless the float flag --name is finite and in its range:
  (low, high] with `low_open`, else [low, high]."""
  value = fv[name].value
  above = value > low if low_open else value >= low
  if not (math.isfinite(value) and above and value <= high):
    if high == math.inf:
      bounds = f"a finite number {'>' if low_open else '>='} {low:g}"
    else:
      bounds = f"in {'(' if low_open else '['}{low:g}, {high:g}]"
    raise CommandError(f"--{name} must be {bounds}, got {value}")


def require_modules(purpose, *modules):
  """MissingDependencyError naming the examples extra unless every (module, pip
  package) of `modules` is installed; looked up without importing, so a command
  checks before any long work (`common.errors.require_installed`)."""
  errors.require_installed(purpose, *modules)


def _quiet_tensorflow():
  # TensorFlow's Python logger (deprecation notices); no TF import needed.
  logging.getLogger("tensorflow").setLevel(logging.ERROR)


def log(*args):
  """print, flushed (progress lines appear at once when piped)."""
  print(*args, flush=True)


# Lines of a TensorFlow OpError message that are context, not the error:
# the "Graph execution error:" banner, "Detected at node ... defined at"
# headers with their indented Python traceback, "Node: '...'" and the
# "\t [[{{node ...}}]]" trailers.
_OP_ERROR_NOISE = ("Graph execution error:", "Detected at node",
                   "Node: ", "[[", "Traceback (most recent call last)")


def op_error_message(error):
  """The op's own words of a tf.errors.OpError, on one line.

  Keeps the message lines the kernel or the Assert wrote (naming the rule,
  index and value) and drops the graph-execution banner, node names and
  trace lines; falls back to the whole message when nothing else is left.
  """
  text = error.message or ""
  kept = []
  for line in text.splitlines():
    stripped = line.strip()
    if (not stripped or line[:1] in (" ", "\t") or
        stripped.startswith(_OP_ERROR_NOISE)):
      continue
    kept.append(stripped)
  if not kept:
    kept = [line.strip() for line in text.splitlines() if line.strip()]
  return " ".join(kept) or type(error).__name__


def format_duration(seconds):
  """Seconds -> "7s", "3m05s" or "1h02m" (progress lines, ETAs)."""
  seconds = int(round(seconds))
  if seconds >= 3600:
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
  if seconds >= 60:
    return f"{seconds // 60}m{seconds % 60:02d}s"
  return f"{seconds}s"


def error_line(error):
  """One line for an exception: its type and message, a TensorFlow op error in
  the op's own words (`op_error_message`)."""
  tf = sys.modules.get("tensorflow")
  if tf is not None and isinstance(error, tf.errors.OpError):
    text = f"TensorFlow {type(error).__name__}: {op_error_message(error)}"
  else:
    text = f"{type(error).__name__}: {error}"
  return " ".join(text.split())


def fail(message):
  """Prints `error: message` on stderr and exits with status 1."""
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(1)


def _fill_positional(fv, command, prog, args):
  """Moves positional `args`, in order, into the positional flags not given."""
  free = [name for name, _ in command.positional if not fv[name].present]
  if len(args) > len(free):
    fail(f"unexpected arguments {args[len(free):]} (flags are --name=value)"
         f"\nsee `{prog} {command.name} --help`")
  for name, value in zip(free, args):
    fv[name].parse(value)


def main(prog, description, commands, known_errors, argv=None):
  """Runs the command named by argv[1]; `argv` defaults to sys.argv.

  prog: the program's name in usage lines ("python -m ..."); run as a console
    script (`mnist-compression`), the script's name instead.
  description: one line under the top-level usage.
  commands: dict name -> Command.
  known_errors: a callable returning a tuple of exception types reported as
    one `error:` line, besides CommandError and the shared
    `common.errors.InputError` and `MissingDependencyError`. It is called only
    when a command fails, so it may import modules lazily.
  """
  program = argv is None  # A process of its own, not a call from Python code.
  argv = list(sys.argv if argv is None else argv)
  script = os.path.basename(argv[0])
  if program and script and not script.endswith(".py") and script[0] != "-":
    prog = script  # A console script: its own name in usage lines.
  argv[0] = prog
  if len(argv) < 2 or argv[1] in ("-h", "--help", "help", "--helpfull"):
    print(usage(prog, description, commands))
    sys.exit(0 if len(argv) >= 2 else 1)
  name = argv[1]
  if name not in commands:
    fail(f"unknown command {name!r}\n\n{usage(prog, description, commands)}")
  command = commands[name]
  if any(a in _HELP_ARGS for a in argv[2:]):
    print(command.help(prog))
    sys.exit(0)
  fv = command.make_flags()
  see = f"\nsee `{prog} {name} --help`"

  def parse(args):
    try:
      rest = fv([f"{prog} {name}"] + args[2:],
                known_only=command.passthrough)
    except flags.Error as e:
      fail(f"{e}{see}")
    if not command.passthrough:
      _fill_positional(fv, command, prog, rest[1:])
    for flag_name in command.required:
      if not fv[flag_name].value:
        metavar = dict(command.positional).get(flag_name)
        what = f"{metavar} (or --{flag_name})" if metavar else f"--{flag_name}"
        fail(f"{what} is required{see}")
    flags.FLAGS.mark_as_parsed()  # absl's own flags keep their defaults.
    return rest

  def run(rest):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _quiet_tensorflow()
    if not fv["verbose"].value:
      quiet.install()
      # Libraries' INFO log records (matplotlib building its font cache, ...).
      absl_logging.set_verbosity(absl_logging.WARNING)
    try:
      if command.passthrough:
        command.run(fv, list(rest[1:]))
      else:
        command.run(fv)
    except KeyboardInterrupt:
      # The command has said what it saved (train); no traceback.
      print(f"{prog} {name}: interrupted", file=sys.stderr)
      sys.exit(130)
    except Exception as e:  # pylint: disable=broad-except
      if isinstance(e, (CommandError, errors.InputError,
                        errors.MissingDependencyError) + tuple(known_errors())):
        fail(str(e))
      if isinstance(e, OSError):  # Files: permissions, full disk, paths.
        fail(f"{e.filename}: {e.strerror}" if e.filename else str(e))
      tf = sys.modules.get("tensorflow")
      if tf is not None and isinstance(e, tf.errors.OpError):
        fail(f"TensorFlow {type(e).__name__}: {op_error_message(e)}")
      raise

  try:
    app.run(run, argv=argv, flags_parser=parse)
  except SystemExit as e:
    if program:  # Done: skip the second of interpreter teardown TensorFlow costs.
      quiet.fast_exit(e.code)
    raise
