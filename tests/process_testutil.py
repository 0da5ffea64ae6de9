"""Child processes of the tests: interrupting a command as Ctrl-C would."""

import signal
import subprocess
import time


def _as_from_a_terminal():
  # A command typed at a terminal gets Ctrl-C as SIGINT with the default action, so
  # Python turns it into KeyboardInterrupt. A test runner started in the background
  # of a non-interactive shell (Bazel's test wrapper is one) ignores SIGINT, and an
  # ignored signal stays ignored across exec: restore the terminal's default.
  signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_when(command, when, cwd, env, timeout=300, sig=signal.SIGINT):
  """Runs `command`, sends `sig` (default SIGINT, Ctrl-C) once a stdout line
  satisfies `when(line)`, waits for the exit; returns (exit status, stdout lines,
  stderr). A child still running 120 s after the signal is killed, then the
  subprocess.TimeoutExpired raised."""
  child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           preexec_fn=_as_from_a_terminal)
  lines = []
  deadline = time.time() + timeout
  try:
    while time.time() < deadline:
      line = child.stdout.readline()
      if not line:
        break
      lines.append(line)
      if when(line):
        child.send_signal(sig)
        break
    out, err = child.communicate(timeout=120)
  finally:
    if child.poll() is None:
      child.kill()
      child.communicate()
  return child.returncode, lines + out.splitlines(), err
