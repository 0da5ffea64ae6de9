// Stand-alone test of the range coder and CDF searches (no TensorFlow), built with
// AddressSanitizer by Bazel: round trips over random CDFs and precisions, and decoding
// of random and damaged strings, which must never read outside the string.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cc/kernels/cdf_search.h"
#include "cc/kernels/range_coder.h"

namespace compression {
namespace {

int failures = 0;

void Expect(bool condition, const char* what, int trial) {
  if (!condition) {
    std::fprintf(stderr, "FAILED: %s (trial %d)\n", what, trial);
    ++failures;
  }
}

// A random CDF of m symbols at `precision`, some with zero width.
std::vector<int32_t> RandomCdf(int m, int precision, std::mt19937* rng) {
  const int32_t total = int32_t{1} << precision;
  std::vector<int32_t> cdf(m + 1, 0);
  for (int i = 1; i < m; ++i) cdf[i] = static_cast<int32_t>((*rng)() % (total + 1));
  cdf[m] = total;
  std::sort(cdf.begin(), cdf.end());
  return cdf;
}

// Symbols drawn in proportion to their widths (never a zero-width one).
std::vector<int32_t> RandomSymbols(const std::vector<int32_t>& cdf, int n,
                                   std::mt19937* rng) {
  std::vector<int32_t> symbols(n);
  const uint32_t total = cdf.back();
  for (int i = 0; i < n; ++i) {
    const uint32_t slot = (*rng)() % total;
    symbols[i] = BinarySearch().Find(cdf.data(), 0, static_cast<int32_t>(cdf.size()) - 1,
                                     slot);
  }
  return symbols;
}

std::string Encode(const std::vector<int32_t>& cdf, const std::vector<int32_t>& symbols,
                   int precision) {
  RangeEncoder encoder(precision);
  for (int32_t s : symbols) encoder.Encode(cdf[s], cdf[s + 1]);
  std::string out;
  encoder.Finish(&out);
  return out;
}

template <typename Search>
std::vector<int32_t> Decode(const Search& search, const std::vector<int32_t>& cdf,
                            const std::string& string, int n, int precision, bool* exact) {
  // A copy on the heap of exactly the string's size, so that ASan sees any overread.
  std::vector<char> bytes(string.begin(), string.end());
  RangeDecoder decoder(bytes.data(), bytes.size(), precision);
  const int32_t m = static_cast<int32_t>(cdf.size()) - 1;
  std::vector<int32_t> out(n);
  for (int i = 0; i < n; ++i) {
    const uint32_t q = decoder.Target(cdf[m]);
    const int32_t s = search.Find(cdf.data(), 0, m, q);
    decoder.Consume(cdf[s], cdf[s + 1]);
    out[i] = s;
  }
  *exact = decoder.Exact();
  return out;
}

void RoundTrips() {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 2000; ++trial) {
    const int precision = 1 + trial % 16;
    const int m = 1 + static_cast<int>(rng() % std::min(300, 1 << precision));
    const std::vector<int32_t> cdf = RandomCdf(m, precision, &rng);
    const int n = static_cast<int>(rng() % 400);
    const std::vector<int32_t> symbols = RandomSymbols(cdf, n, &rng);
    const std::string string = Encode(cdf, symbols, precision);
    bool exact = false;
    Expect(Decode(BinarySearch(), cdf, string, n, precision, &exact) == symbols,
           "binary search round trip", trial);
    Expect(exact, "exact after a round trip", trial);
    const int32_t symbol_count = m;
    const TableSearch table(cdf.data(), 1, m + 1, &symbol_count, precision);
    Expect(Decode(table, cdf, string, n, precision, &exact) == symbols,
           "table search round trip", trial);
  }
}

void DamagedStrings() {
  std::mt19937 rng(2);
  for (int trial = 0; trial < 3000; ++trial) {
    const int precision = 1 + trial % 16;
    const int m = 1 + static_cast<int>(rng() % std::min(64, 1 << precision));
    const std::vector<int32_t> cdf = RandomCdf(m, precision, &rng);
    const int n = 1 + static_cast<int>(rng() % 200);
    std::string string = Encode(cdf, RandomSymbols(cdf, n, &rng), precision);
    switch (trial % 3) {
      case 0:  // random bytes of a random length
        string.resize(rng() % 64);
        for (char& c : string) c = static_cast<char>(rng());
        break;
      case 1:  // truncated
        string.resize(string.empty() ? 0 : rng() % string.size());
        break;
      default:  // one bit flipped
        if (!string.empty()) string[rng() % string.size()] ^= 1 << (rng() % 8);
    }
    bool exact;
    const std::vector<int32_t> decoded =
        Decode(BinarySearch(), cdf, string, n, precision, &exact);
    bool in_range = true;
    for (int32_t s : decoded) in_range &= s >= 0 && s < m && cdf[s + 1] > cdf[s];
    Expect(in_range, "damaged strings decode to symbols of positive width", trial);
    if (exact) {
      Expect(Encode(cdf, decoded, precision) == string, "exact means re-encodable",
             trial);
    }
  }
}

}  // namespace
}  // namespace compression

int main() {
  compression::RoundTrips();
  compression::DamagedStrings();
  if (compression::failures == 0) std::printf("range_coder_test: all checks passed\n");
  return compression::failures == 0 ? 0 : 1;
}
