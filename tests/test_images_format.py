"""Golden bytes of the .cim container (versions 1 to 3): the format must not change
silently.

If one of these fails, the file format changed: bump container.VERSION, keep a
reader for the older versions, and document the change in the example's README.
Version 2 only adds architecture code 3 (mbt2018-mean), version 3 only code 4
(ms2020-cc); files of the first two architectures are still written as version 1,
and mbt2018-mean's as version 2, byte for byte.
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

# mbt2018-mean (version 2), otherwise as GOLDEN_BMSHJ2018.
GOLDEN_MBT2018_MEAN = bytes.fromhex(
    "43494d47" "02" "03" "0000" "efcdab8967452301" "2c010000" "c3010000"
    "14000000" "20000000" "40000000" "05000000" "08000000" "30000000"
    "03000000" "01000000" "010203" "ff" "1bcf223f")

# ms2020-cc (version 3), otherwise as GOLDEN_BMSHJ2018.
GOLDEN_MS2020_CC = bytes.fromhex(
    "43494d47" "03" "04" "0000" "efcdab8967452301" "2c010000" "c3010000"
    "14000000" "20000000" "40000000" "05000000" "08000000" "30000000"
    "03000000" "01000000" "010203" "ff" "bcc5bdcc")

BMSHJ2018 = container.CompressedImage(
    "bmshj2018", 0x0123456789abcdef, 300, 451, (20, 32, 64), (5, 8, 48),
    b"\x01\x02\x03", b"\xff")
BLS2017 = container.CompressedImage(
    "bls2017", 42, 17, 33, (2, 3, 8), (0, 0, 0), b"yy", b"")
MBT2018_MEAN = container.CompressedImage(
    "mbt2018-mean", 0x0123456789abcdef, 300, 451, (20, 32, 64), (5, 8, 48),
    b"\x01\x02\x03", b"\xff")
MS2020_CC = container.CompressedImage(
    "ms2020-cc", 0x0123456789abcdef, 300, 451, (20, 32, 64), (5, 8, 48),
    b"\x01\x02\x03", b"\xff")


class GoldenTest(unittest.TestCase):

  def test_pack_gives_the_golden_bytes(self):
    self.assertEqual(container.pack(BMSHJ2018).hex(), GOLDEN_BMSHJ2018.hex())
    self.assertEqual(container.pack(BLS2017).hex(), GOLDEN_BLS2017.hex())
    self.assertEqual(container.pack(MBT2018_MEAN).hex(), GOLDEN_MBT2018_MEAN.hex())
    self.assertEqual(container.pack(MS2020_CC).hex(), GOLDEN_MS2020_CC.hex())

  def test_unpack_reads_the_golden_bytes(self):
    self.assertEqual(container.unpack(GOLDEN_BMSHJ2018), BMSHJ2018)
    self.assertEqual(container.unpack(GOLDEN_BLS2017), BLS2017)
    self.assertEqual(container.unpack(GOLDEN_MBT2018_MEAN), MBT2018_MEAN)
    self.assertEqual(container.unpack(GOLDEN_MS2020_CC), MS2020_CC)

  def test_code_4_needs_version_3(self):
    forged = bytearray(GOLDEN_MS2020_CC)
    forged[4] = 2
    with self.assertRaisesRegex(container.ContainerError,
                                "architecture code 4 in a version 2 file"):
      container.unpack(bytes(forged))

  def test_header_size_and_version(self):
    self.assertEqual(container.HEADER_BYTES, 56)
    self.assertEqual(container.VERSION, 3)
    self.assertEqual(container.FIRST_VERSION,
                     {"bls2017": 1, "bmshj2018": 1, "mbt2018-mean": 2,
                      "ms2020-cc": 3})
    self.assertEqual(len(GOLDEN_BLS2017), 56 + 2 + 4)


if __name__ == "__main__":
  unittest.main()
