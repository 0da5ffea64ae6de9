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
// never past the answer; a short forward scan finishes. The set-up costs 2^bits entries
// per CDF, so it pays off when each CDF codes many symbols.
class TableSearch {
 public:
  static constexpr int kMaxBits = 12;

  // Builds tables for `rows` CDFs, row i at cdf + i * stride with lengths[i] + 1 entries.
  TableSearch(const int32_t* cdf, int64_t rows, int64_t stride, const int32_t* symbols,
              int precision)
      : bits_(precision < kMaxBits ? precision : kMaxBits),
        shift_(precision - bits_),
        table_(static_cast<size_t>(rows) << bits_) {
    const uint32_t buckets = uint32_t{1} << bits_;
    for (int64_t i = 0; i < rows; ++i) {
      const int32_t* row = cdf + i * stride;
      const int32_t m = symbols[i];
      int32_t* out = &table_[static_cast<size_t>(i) << bits_];
      int32_t s = 0;
      for (uint32_t b = 0; b < buckets; ++b) {
        const uint32_t x = b << shift_;
        while (s + 1 < m && static_cast<uint32_t>(row[s + 1]) <= x) ++s;
        out[b] = s;
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
  std::vector<int32_t> table_;
};

// Whether tables pay for themselves: their set-up against the binary searches they save.
inline bool PreferTables(int64_t rows, int64_t symbols, int precision) {
  const int bits = precision < TableSearch::kMaxBits ? precision : TableSearch::kMaxBits;
  return symbols >= (rows << bits) / 4;
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_CDF_SEARCH_H_
