// A 64-bit range coder with 32-bit output words and an optimal byte flush.
//
// The bitstream format (version 1) is documented in README.md ("Bitstream format"):
//
//   * The coder keeps an interval [low, low + range) of 64-bit integers; `range` starts at
//     2^64 - 1 and is kept >= 2^32 between symbols.
//   * A symbol with cumulative counts [c_lo, c_hi) out of 2^precision narrows the
//     interval to  low += r * c_lo,  range = r * (c_hi - c_lo),  with r = range >> precision.
//   * A "raw" field of `bits` bits (1..16) is coded as a uniform symbol with precision `bits`.
//   * Whenever range < 2^32 the top 32 bits of `low` are written as one big-endian word
//     and low, range are shifted left by 32. A carry out of `low` is added to the words
//     already written.
//   * At the end, the coder writes the shortest big-endian prefix (0 to 8 bytes) of a
//     value v in [low, low + range) such that v, padded with zero bytes, is v. The
//     decoder reads zero bytes beyond the end of the string.
//
// Nothing here allocates per symbol; the encoder's output buffer grows geometrically.

#ifndef COMPRESSION_CC_KERNELS_RANGE_CODER_H_
#define COMPRESSION_CC_KERNELS_RANGE_CODER_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace compression {

// Appends range-coded symbols to a byte buffer.
class RangeEncoder {
 public:
  explicit RangeEncoder(int precision) : precision_(precision) {}

  // Codes the interval [c_lo, c_hi) out of 2^precision. Requires c_lo < c_hi <= 2^precision.
  inline void Encode(uint32_t c_lo, uint32_t c_hi) {
    const uint64_t r = range_ >> precision_;
    Narrow(r * c_lo, r * (c_hi - c_lo));
  }

  // Codes `value` (< 2^bits, bits in 1..16) with a uniform distribution.
  inline void EncodeRaw(uint32_t value, int bits) {
    const uint64_t r = range_ >> bits;
    Narrow(r * value, r);
  }

  // Flushes the coder and moves the finished string into `out`. The encoder is spent.
  void Finish(std::string* out);

  // Number of bytes written so far (without the final flush).
  size_t size() const { return size_; }

  // Makes room for `bytes` bytes of output up front (optional).
  void Reserve(size_t bytes) {
    if (bytes > bytes_.size()) bytes_.resize(bytes);
  }

 private:
  inline void Narrow(uint64_t start, uint64_t width) {
    const uint64_t new_low = low_ + start;
    if (new_low < low_) PropagateCarry();
    low_ = new_low;
    range_ = width;
    if (range_ < (uint64_t{1} << 32)) {
      if (size_ + 4 > bytes_.size()) bytes_.resize(2 * bytes_.size() + 64);
      const uint32_t word = static_cast<uint32_t>(low_ >> 32);
      uint8_t* p = reinterpret_cast<uint8_t*>(&bytes_[size_]);
      p[0] = static_cast<uint8_t>(word >> 24);
      p[1] = static_cast<uint8_t>(word >> 16);
      p[2] = static_cast<uint8_t>(word >> 8);
      p[3] = static_cast<uint8_t>(word);
      size_ += 4;
      low_ <<= 32;
      range_ <<= 32;
    }
  }

  // Adds one to the big-endian number formed by the bytes written so far.
  void PropagateCarry() {
    for (size_t i = size_; i-- > 0;) {
      uint8_t& b = reinterpret_cast<uint8_t&>(bytes_[i]);
      if (++b != 0) return;
    }
    // Unreachable for a valid coder: the coded interval never leaves [0, 1).
  }

  int precision_;
  uint64_t low_ = 0;
  uint64_t range_ = ~uint64_t{0};
  std::string bytes_;  // bytes_[0, size_) are written; the rest is spare capacity
  size_t size_ = 0;
};

// The final flush of a coder state: the value `window` that fills the last 64-bit
// window (carry already removed), how many of its bytes are written, and whether
// choosing it carried into the bytes before.
struct Flush {
  uint64_t window;
  int bytes;
  bool carry;
};

// Picks the value in [low, low + range) with the most trailing zero bytes.
inline Flush ChooseFlush(uint64_t low, uint64_t range) {
  const unsigned __int128 lo = low;
  const unsigned __int128 hi = lo + range;  // exclusive; may exceed 2^64
  for (int k = 0; k <= 8; ++k) {
    const int shift = 64 - 8 * k;
    const unsigned __int128 unit = static_cast<unsigned __int128>(1) << shift;
    const unsigned __int128 v = ((lo + unit - 1) >> shift) << shift;
    if (v < hi) {
      const bool carry = (v >> 64) != 0;
      return Flush{static_cast<uint64_t>(v), k, carry};
    }
  }
  return Flush{low, 8, false};  // Unreachable: k = 8 always succeeds.
}

inline void RangeEncoder::Finish(std::string* out) {
  const Flush flush = ChooseFlush(low_, range_);
  if (flush.carry) PropagateCarry();
  bytes_.resize(size_);
  for (int i = 0; i < flush.bytes; ++i) {
    bytes_.push_back(static_cast<char>(flush.window >> (56 - 8 * i)));
  }
  out->swap(bytes_);
  bytes_.clear();
  size_ = 0;
}

// Reads symbols back from a string written by RangeEncoder.
//
// Decoding never reads outside the string (it reads zeros past the end) and never
// fails: a corrupt string decodes to some values. `Exact()` tells whether the string
// is precisely the encoding of the values decoded so far (call it after the last one).
class RangeDecoder {
 public:
  RangeDecoder(const char* data, size_t size, int precision)
      : begin_(reinterpret_cast<const uint8_t*>(data)),
        end_(begin_ + size),
        next_(begin_),
        precision_(precision) {
    code_ = (static_cast<uint64_t>(ReadWord()) << 32) | ReadWord();
    offset_ = code_;
    valid_ = offset_ < range_;
  }

  // The slot in [0, 2^precision) the next symbol's cumulative interval must contain,
  // clamped to `limit - 1` (limit = the CDF's last entry, > 0).
  inline uint32_t Target(uint32_t limit) {
    r_ = range_ >> precision_;
    const uint64_t q = offset_ / r_;
    return q < limit ? static_cast<uint32_t>(q) : limit - 1;
  }

  // Consumes the symbol with interval [c_lo, c_hi); Target() must have been called and
  // c_lo <= Target() < c_hi must hold.
  inline void Consume(uint32_t c_lo, uint32_t c_hi) {
    offset_ -= r_ * c_lo;
    range_ = r_ * (c_hi - c_lo);
    Normalize();
  }

  // Decodes a raw field of `bits` bits (1..16) written by RangeEncoder::EncodeRaw.
  inline uint32_t DecodeRaw(int bits) {
    const uint64_t r = range_ >> bits;
    const uint64_t q = offset_ / r;
    const uint64_t max_value = (uint64_t{1} << bits) - 1;
    const uint32_t value = static_cast<uint32_t>(q < max_value ? q : max_value);
    offset_ -= r * value;
    range_ = r;
    Normalize();
    return value;
  }

  // True when the string is exactly what RangeEncoder writes for the symbols decoded.
  bool Exact() const {
    if (!valid_) return false;
    const Flush flush = ChooseFlush(code_ - offset_, range_);
    const size_t expected = static_cast<size_t>(words_read_) * 4 + flush.bytes;
    return expected == static_cast<size_t>(end_ - begin_) && code_ == flush.window;
  }

 private:
  inline void Normalize() {
    valid_ &= offset_ < range_;
    if (range_ < (uint64_t{1} << 32)) {
      const uint32_t word = ReadWord();
      offset_ = (offset_ << 32) | word;
      code_ = (code_ << 32) | word;
      range_ <<= 32;
      ++words_read_;
    }
  }

  inline uint32_t ReadWord() {
    if (end_ - next_ >= 4) {
      const uint8_t* p = next_;
      next_ += 4;
      return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
             (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
    }
    uint32_t word = 0;
    for (int i = 0; i < 4; ++i) {
      word <<= 8;
      if (next_ < end_) word |= *next_++;
    }
    return word;
  }

  const uint8_t* begin_;
  const uint8_t* end_;
  const uint8_t* next_;
  int precision_;
  uint64_t range_ = ~uint64_t{0};
  uint64_t offset_ = 0;  // code - low, modulo 2^64
  uint64_t code_ = 0;    // the 64-bit window of the string being decoded
  uint64_t r_ = 0;
  int64_t words_read_ = 0;  // words read after the first two
  bool valid_ = true;
};

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_RANGE_CODER_H_
