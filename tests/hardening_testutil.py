"""Child processes under a memory limit, for the hardening tests (issue 17).

A damaged or forged input that makes a reader allocate by a header's word would,
in the test process, take the machine down with it; in a child whose address
space is capped with `resource.setrlimit(RLIMIT_AS)` it only fails the test.
"""

import os
import resource
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TensorFlow maps about 1.4 GB of address space once imported; 3 GiB leaves room
# for a tiny model's work and none for a header-sized allocation.
DEFAULT_LIMIT = 3 << 30


def run_limited(args, limit=DEFAULT_LIMIT, env=None, timeout=600):
  """Runs `python ARGS` from the repository root with RLIMIT_AS = `limit` bytes.

  Returns the subprocess.CompletedProcess (text output).
  """
  def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

  full_env = dict(os.environ, **(env or {}))
  full_env["PYTHONPATH"] = os.pathsep.join(
      [ROOT] + [p for p in full_env.get("PYTHONPATH", "").split(os.pathsep) if p])
  full_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  return subprocess.run([sys.executable] + list(args), cwd=ROOT, env=full_env,
                        preexec_fn=cap, capture_output=True, text=True,
                        timeout=timeout, check=False)


def error_line(proc):
  """The one `error:` line of a command that failed as expected (status 1, no
  traceback); AssertionError with the output otherwise."""
  assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
  assert "Traceback" not in proc.stderr, proc.stderr
  lines = proc.stderr.strip().splitlines()
  assert lines and lines[-1].startswith("error: "), proc.stderr
  assert proc.stderr.count("error:") == 1, proc.stderr
  return lines[-1]
