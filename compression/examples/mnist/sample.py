"""The decoder as a generative model: decode random bytes into digits.

A range decoder fed uniformly random bytes draws each latent symbol with the
probability the learned prior gives it, so random strings decode to samples
from the prior, pushed through the synthesis transform. The exactness check
is off (random bytes are not the exact encoding of anything).

Random bytes also hit the escape symbol as often as the prior puts mass
outside the coded range (a few percent per latent early in training); the
escaped value is then read from arbitrary bits and can be as large as 2**31.
Decoded latents are therefore clamped to [-latent_clip, latent_clip], well
beyond the values a trained analysis transform produces for real digits.
"""

import numpy as np

from compression.examples.mnist import codec
from compression.examples.mnist import errors


DEFAULT_LATENT_CLIP = 16.0
# Bounds of `count` and `num_bytes`: the strings and digits are held in memory.
MAX_COUNT = 4096
MAX_NUM_BYTES = 4096


def sample(model_dir, count=64, num_bytes=32, seed=0,
           latent_clip=DEFAULT_LATENT_CLIP):
  """Returns (float32 [count, 28, 28] in [0, 1], clamped latents, strings)."""
  if not (1 <= count <= MAX_COUNT and 1 <= num_bytes <= MAX_NUM_BYTES):
    raise errors.InputError(
        f"count must be in 1..{MAX_COUNT} and num_bytes in 1..{MAX_NUM_BYTES}"
        f", got {count} and {num_bytes}")
  rng = np.random.RandomState(seed)
  strings = [rng.bytes(num_bytes) for _ in range(count)]
  with codec.Decoder(model_dir, check_exact=False,
                     latent_clip=latent_clip) as decoder:
    digits, latents = decoder.decompress(strings)
  return digits, latents, strings
