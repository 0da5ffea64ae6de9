"""Golden bytes of the .cim container (version 1): the format must not change silently.

If one of these fails, the file format changed: bump container.VERSION, keep a
reader for version 1, and document the change in the example's README.
"""

import unittest

from compression.examples.images import container

# bmshj2018, fingerprint 0x0123456789abcdef, a 451x300 image (y [20, 32, 64],
# z [5, 8, 48]), y string 01 02 03, z string ff.
GOLDEN_BMSHJ2018 = bytes.fromhex(
    "43494d47" "01" "02" "0000" "efcdab8967452301" "2c010000" "c3010000"
    "14000000" "20000000" "40000000" "05000000" "08000000" "30000000"
    "03000000" "01000000" "010203" "ff" "72489e3b")
# bls2017, fingerprint 42, a 33x17 image (y [2, 3, 8]), y string "yy".
GOLDEN_BLS2017 = bytes.fromhex(
    "43494d47" "01" "01" "0000" "2a00000000000000" "11000000" "21000000"
    "02000000" "03000000" "08000000" "00000000" "00000000" "00000000"
    "02000000" "00000000" "7979" "30cc25dc")

BMSHJ2018 = container.CompressedImage(
    "bmshj2018", 0x0123456789abcdef, 300, 451, (20, 32, 64), (5, 8, 48),
    b"\x01\x02\x03", b"\xff")
BLS2017 = container.CompressedImage(
    "bls2017", 42, 17, 33, (2, 3, 8), (0, 0, 0), b"yy", b"")


class GoldenTest(unittest.TestCase):

  def test_pack_gives_the_golden_bytes(self):
    self.assertEqual(container.pack(BMSHJ2018).hex(), GOLDEN_BMSHJ2018.hex())
    self.assertEqual(container.pack(BLS2017).hex(), GOLDEN_BLS2017.hex())

  def test_unpack_reads_the_golden_bytes(self):
    self.assertEqual(container.unpack(GOLDEN_BMSHJ2018), BMSHJ2018)
    self.assertEqual(container.unpack(GOLDEN_BLS2017), BLS2017)

  def test_header_size_and_version(self):
    self.assertEqual(container.HEADER_BYTES, 56)
    self.assertEqual(container.VERSION, 1)
    self.assertEqual(len(GOLDEN_BLS2017), 56 + 2 + 4)


if __name__ == "__main__":
  unittest.main()
