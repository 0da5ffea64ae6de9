"""Child processes of the tests: interrupting a command as Ctrl-C would."""

import signal
import subprocess
import time


def interrupt_when(command, when, cwd, env, timeout=300, sig=signal.SIGINT):
  """Runs `command`, sends `sig` (default SIGINT, Ctrl-C) once a stdout line
  satisfies `when(line)`, waits for the exit; returns (exit status, stdout lines,
  stderr)."""
  child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
  lines = []
  deadline = time.time() + timeout
  while time.time() < deadline:
    line = child.stdout.readline()
    if not line:
      break
    lines.append(line)
    if when(line):
      child.send_signal(sig)
      break
  out, err = child.communicate(timeout=120)
  return child.returncode, lines + out.splitlines(), err
