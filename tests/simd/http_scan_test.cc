// HTTP byte scans: every kernel against the scalar references. Inputs are
// exact-size heap blocks: the kernels promise not to read past data + n.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/simd/http_scan.h"
#include "gtest/gtest.h"
#include "tests/simd/isa_param.h"

namespace tern::simd {
namespace {

using testing::ExactBuffer;
using testing::IsaTest;

void expect_same(const std::vector<std::uint8_t>& s, std::size_t off, std::uint8_t c,
                 const char* what) {
  ExactBuffer buf(s.size(), off);
  if (!s.empty()) std::memcpy(buf.data(), s.data(), s.size());
  ASSERT_EQ(find_line_end_or_ctl(buf.data(), s.size()),
            find_line_end_or_ctl_scalar(s.data(), s.size()))
      << what << " n=" << s.size() << " off=" << off;
  ASSERT_EQ(find_byte(buf.data(), s.size(), c), find_byte_scalar(s.data(), s.size(), c))
      << what << " n=" << s.size() << " off=" << off << " c=" << int{c};
}

// RFC 9110 §5.5: field values may hold HTAB, SP, VCHAR and obs-text; every
// other control byte (and CR/LF, which end the line) must stop the scan.
TEST(HttpScanScalar, Classes) {
  for (int b = 0; b < 256; ++b) {
    const std::uint8_t x = static_cast<std::uint8_t>(b);
    const bool ctl = (b < 0x20 && b != '\t') || b == 0x7F;
    EXPECT_EQ(find_line_end_or_ctl_scalar(&x, 1), ctl ? 0u : 1u) << b;
  }
}

// Every byte value at every position of every length 0..130.
TEST_P(IsaTest, AllBytesAllPositionsAllLengths) {
  for (std::size_t n = 0; n <= 130; ++n) {
    std::vector<std::uint8_t> s(n, 'a');
    expect_same(s, 0, 'x', "clean");
    for (std::size_t pos = 0; pos < n; ++pos) {
      for (int v = 0; v < 256; ++v) {
        s[pos] = static_cast<std::uint8_t>(v);
        ExactBuffer buf(n, 0);
        std::memcpy(buf.data(), s.data(), n);
        ASSERT_EQ(find_line_end_or_ctl(buf.data(), n), find_line_end_or_ctl_scalar(s.data(), n))
            << "n=" << n << " pos=" << pos << " v=" << v;
        ASSERT_EQ(find_byte(buf.data(), n, static_cast<std::uint8_t>(v)),
                  find_byte_scalar(s.data(), n, static_cast<std::uint8_t>(v)))
            << "n=" << n << " pos=" << pos << " v=" << v;
      }
      s[pos] = 'a';
    }
  }
}

// Every alignment, with a hit near each end and two hits (the first wins).
TEST_P(IsaTest, EveryAlignment) {
  const std::uint8_t probes[] = {'\r', '\n', 0x00, 0x09, 0x1F, 0x20, 0x7F, 0x80, 0xFF, ':'};
  for (std::size_t n = 0; n <= 130; ++n) {
    for (std::size_t off = 0; off < 64; ++off) {
      std::vector<std::uint8_t> s(n, 'b');
      expect_same(s, off, ':', "clean");
      for (std::uint8_t p : probes) {
        if (n == 0) break;
        s[n - 1] = p;
        expect_same(s, off, p, "last");
        s[n / 2] = p;
        expect_same(s, off, p, "two hits");
        s[n - 1] = 'b';
        s[n / 2] = 'b';
      }
    }
  }
}

TEST_P(IsaTest, RandomLarge) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 400; ++round) {
    const std::size_t n = rng() % 5000;
    std::vector<std::uint8_t> s(n);
    // Mostly header-like text, with rare stoppers so scans run long.
    for (auto& b : s) b = static_cast<std::uint8_t>(0x20 + rng() % 0x5F);
    for (int k = static_cast<int>(rng() % 3); k > 0 && n > 0; --k) {
      s[rng() % n] = static_cast<std::uint8_t>(rng());
    }
    expect_same(s, rng() % 64, static_cast<std::uint8_t>(rng()), "random");
  }
}

TERN_INSTANTIATE_ISA_TESTS(IsaTest);

}  // namespace
}  // namespace tern::simd
