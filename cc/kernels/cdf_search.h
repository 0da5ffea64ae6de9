// Finding the symbol whose cumulative interval holds a slot, for the range decoder.
//
// For a CDF `cdf[0..m]` (cdf[0] = 0, non-decreasing) and a slot q < cdf[m], the symbol is
// the unique s in [0, m) with cdf[s] <= q < cdf[s + 1].

#ifndef COMPRESSION_CC_KERNELS_CDF_SEARCH_H_
#define COMPRESSION_CC_KERNELS_CDF_SEARCH_H_

#include <cstdint>
#include <vector>

namespace compression {

// Both searches answer Find(cdf, row, m, q): the symbol of slot q in the CDF `cdf` of m
// symbols, which is row `row` of the table the search was built for.

// Binary search: O(log m) per symbol, no set-up. Best when each CDF codes few symbols.
class BinarySearch {
 public:
  inline int32_t Find(const int32_t* cdf, int64_t /*row*/, int32_t m, uint32_t q) const {
    int32_t lo = 0, hi = m;  // invariant: cdf[lo] <= q, and the answer is < hi
    while (hi - lo > 1) {
      const int32_t mid = (lo + hi) >> 1;
      if (static_cast<uint32_t>(cdf[mid]) <= q) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
};

// A per-CDF table over the top `bits` bits of the slot gives a starting symbol that is
// never past the answer; a short forward scan finishes. The tables of all rows share
// a budget of kBudget 16-bit entries (64 KiB, so they stay in the L1/L2 caches): one row
// gets up to 2^12 buckets, 192 rows get 2^7 each. The set-up touches every entry, so it
// pays off when the rows code many symbols (see PreferTables).
class TableSearch {
 public:
  static constexpr int kMaxBits = 12;
  static constexpr int kMinBits = 6;
  static constexpr int64_t kBudget = int64_t{1} << 15;

  // Bucket bits for `rows` tables at `precision` (may be below kMinBits).
  static int Bits(int64_t rows, int precision) {
    int bits = precision < kMaxBits ? precision : kMaxBits;
    while (bits > 0 && rows > (kBudget >> bits)) --bits;  // rows << bits, overflow-safe
    return bits;
  }

  // Builds tables for `rows` CDFs, row i at cdf + i * stride with symbols[i] symbols
  // (each at most 65536).
  TableSearch(const int32_t* cdf, int64_t rows, int64_t stride, const int32_t* symbols,
              int precision)
      : bits_(Bits(rows, precision)),
        shift_(precision - bits_),
        table_(static_cast<size_t>(rows) << bits_) {
    const uint32_t buckets = uint32_t{1} << bits_;
    for (int64_t i = 0; i < rows; ++i) {
      const int32_t* row = cdf + i * stride;
      const int32_t m = symbols[i];
      uint16_t* out = &table_[static_cast<size_t>(i) << bits_];
      int32_t s = 0;
      for (uint32_t b = 0; b < buckets; ++b) {
        const uint32_t x = b << shift_;
        while (s + 1 < m && static_cast<uint32_t>(row[s + 1]) <= x) ++s;
        out[b] = static_cast<uint16_t>(s);
      }
    }
  }

  inline int32_t Find(const int32_t* cdf, int64_t row, int32_t /*m*/, uint32_t q) const {
    int32_t s = table_[(static_cast<size_t>(row) << bits_) + (q >> shift_)];
    while (static_cast<uint32_t>(cdf[s + 1]) <= q) ++s;
    return s;
  }

 private:
  int bits_;
  int shift_;
  std::vector<uint16_t> table_;
};

// Whether tables pay for themselves: enough buckets per row to land near the answer,
// symbols that fit 16 bits, and a set-up small against the binary searches it saves.
inline bool PreferTables(int64_t rows, int64_t symbols, int32_t max_symbols,
                         int precision) {
  const int bits = TableSearch::Bits(rows, precision);
  return bits >= TableSearch::kMinBits && max_symbols <= 65536 &&
         symbols >= (rows << bits) / 4;
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_CDF_SEARCH_H_
