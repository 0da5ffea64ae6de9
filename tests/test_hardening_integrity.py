"""The containers' CRC is the integrity layer; `return_exact` is not (issue 17, 2).

A conditional-model string (bmshj2018's y in a `.cim`, the noisy-logistic prior's
strings in a `.mnz`) is damaged the way the issue counted: every truncation and
1,000 single-byte flips. Inside its container, every one of them must be refused
(lengths and CRC-32, before any decoding). The same damage with the container
rewritten around it (lengths and CRC recomputed) shows what the strings alone
detect; those counts are printed, not asserted, since `exact` is only "consumed
exactly" (README, Robustness). The decoding runs in a child under RLIMIT_AS.
"""

import json
import sys
import textwrap

import hardening_testutil
import images_testutil
import mnist_testutil

FLIPS = 1000

_CIM_CHILD = """
import json, struct, sys, zlib
import numpy as np
import tensorflow as tf
sys.path.insert(0, "tests")
import images_testutil
from compression.examples.images import codec, container

model_dir = sys.argv[1]
blob = codec.Encoder(model_dir).compress(
    images_testutil.synthetic_image(192, 256, 9)).blob
decoder = codec.Decoder(model_dir)
reference = decoder.decompress(blob).y_hat
c = container.unpack(blob)
refusals = (container.ContainerError, codec.DecodeError, tf.errors.OpError)


def strings_alone(y_string):
  # The damaged y string in a container rewritten around it (valid CRC).
  rewritten = container.pack(container.CompressedImage(
      c.architecture, c.fingerprint, c.height, c.width, c.y_shape, c.z_shape,
      y_string, c.z_string))
  try:
    out = decoder.decompress(rewritten)
  except refusals:
    return "refused"
  return "same" if np.array_equal(out.y_hat, reference) else "exact_but_other"


string, start = c.y_string, container.HEADER_BYTES
counts = {"y_bytes": len(string)}
"""

_MNZ_CHILD = """
import json, sys
import numpy as np
sys.path.insert(0, "tests")
import mnist_testutil
from compression.examples.mnist import codec, container, data, errors
import tensorflow as tf

model_dir = sys.argv[1]
digits = data.load("test", mnist_testutil.data_dir())[0][:64]
with codec.Encoder(model_dir) as encoder:
  result = encoder.compress(digits, 64)
blob = container.pack(result["strings"], [16], 64, 64, result["fingerprint"])
string = result["strings"][0]
decoder = codec.Decoder(model_dir)
reference = result["latents"]


def strings_alone(s):
  try:
    _, latents = decoder.decompress([s], 64, 64)
  except (errors.NotExactError, tf.errors.OpError):
    return "refused"
  return "same" if np.array_equal(latents, reference) else "exact_but_other"


counts = {"string_bytes": len(string)}
start = len(blob) - 4 - len(string)
"""


# Appended to each child: `blob` (the file), `string` (its conditional-model
# string, at offset `start`), `strings_alone` and the module `container` given.
_DAMAGE = """
def refused_in_container(damaged):
  try:
    container.unpack(bytes(damaged))
  except container.ContainerError:
    return True
  return False


truncations = [blob[:n] for n in range(len(blob))]
counts["file_truncations"] = len(truncations)
counts["file_truncations_refused"] = sum(map(refused_in_container, truncations))
rng = np.random.default_rng(17)
flips = [(int(rng.integers(0, len(string))), int(rng.integers(1, 256)))
         for _ in range({flips})]
counts["flips"] = len(flips)
counts["flips_refused"] = 0
alone = {"refused": 0, "same": 0, "exact_but_other": 0}
for i, mask in flips:
  damaged = bytearray(blob)
  damaged[start + i] ^= mask
  counts["flips_refused"] += refused_in_container(damaged)
  s = bytearray(string)
  s[i] ^= mask
  alone[strings_alone(bytes(s))] += 1
counts["flips_alone"] = alone
alone = {"refused": 0, "same": 0, "exact_but_other": 0}
for n in range(len(string)):
  alone[strings_alone(string[:n])] += 1
counts["string_truncations_alone"] = alone
print(json.dumps(counts))
"""


def _run_child(script, model_dir):
  proc = hardening_testutil.run_limited(
      ["-c", (textwrap.dedent(script) + _DAMAGE).replace("{flips}", str(FLIPS)),
       model_dir])
  assert proc.returncode == 0, proc.stderr[-3000:]
  counts = json.loads(proc.stdout.strip().splitlines()[-1])
  print(counts)
  return counts


def _check(counts):
  # Every damage inside the container is refused before decoding.
  assert counts["file_truncations_refused"] == counts["file_truncations"]
  assert counts["flips_refused"] == counts["flips"] == FLIPS
  # Without the CRC, a damaged string never decodes to the original values.
  for alone in (counts["flips_alone"], counts["string_truncations_alone"]):
    assert alone["same"] == 0, counts


def test_cim_damage_of_the_conditional_string_is_refused_by_the_crc():
  counts = _run_child(_CIM_CHILD, images_testutil.trained_model("bmshj2018"))
  assert counts["y_bytes"] >= 16
  _check(counts)


def test_mnz_damage_of_conditional_strings_is_refused_by_the_crc():
  counts = _run_child(_MNZ_CHILD,
                      mnist_testutil.trained_model(prior="noisy_logistic"))
  assert counts["string_bytes"] >= 16
  _check(counts)


if __name__ == "__main__":
  import pytest  # pylint: disable=g-import-not-at-top
  sys.exit(pytest.main([__file__, "-q", "-s", "-p", "no:cacheprovider"]))
