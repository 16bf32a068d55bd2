// classify_http_blocks: every kernel against the scalar reference, and the
// reference against the RFC character classes. Inputs are exact-size heap
// blocks: a kernel reads exactly 64 * blocks bytes, never more.
#include "core/simd/http_block_scan.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "core/simd/http_scan.h"
#include "gtest/gtest.h"
#include "tests/simd/isa_param.h"

namespace tern::simd {
namespace {

using testing::ExactBuffer;
using testing::IsaTest;

std::vector<HttpBlockMasks> scalar(const std::uint8_t* p, std::size_t blocks) {
  std::vector<HttpBlockMasks> m(blocks);
  classify_http_blocks_scalar(p, blocks, m.data());
  return m;
}

void expect_same(const std::vector<std::uint8_t>& s, std::size_t off, const char* what) {
  ASSERT_EQ(s.size() % kHttpBlock, 0u);
  const std::size_t blocks = s.size() / kHttpBlock;
  ExactBuffer buf(s.size(), off);
  if (!s.empty()) std::memcpy(buf.data(), s.data(), s.size());
  std::vector<HttpBlockMasks> got(blocks + 1, HttpBlockMasks{~0ull, ~0ull});
  classify_http_blocks(buf.data(), blocks, got.data());
  const std::vector<HttpBlockMasks> want = scalar(s.data(), blocks);
  for (std::size_t k = 0; k < blocks; ++k) {
    ASSERT_EQ(got[k].ctl, want[k].ctl) << what << " block " << k << " off=" << off;
    ASSERT_EQ(got[k].token, want[k].token) << what << " block " << k << " off=" << off;
  }
  // Nothing written past out[blocks - 1].
  ASSERT_EQ(got[blocks].ctl, ~0ull);
  ASSERT_EQ(got[blocks].token, ~0ull);
}

// RFC 9110 §5.5 (field values: HTAB, SP, VCHAR, obs-text; CR/LF end the line)
// and §5.6.2 (tchar), byte by byte, independently of the implementation.
TEST(HttpBlockScanScalar, Classes) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  for (int b = 0; b < 256; ++b) {
    std::uint8_t block[64];
    std::memset(block, 'a', sizeof block);
    block[17] = static_cast<std::uint8_t>(b);
    HttpBlockMasks m;
    classify_http_blocks_scalar(block, 1, &m);
    const bool ctl = (b < 0x20 && b != '\t') || b == 0x7F;
    const bool tchar = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
                       (b >= 'A' && b <= 'Z') ||
                       kSpecials.find(static_cast<char>(b)) != std::string_view::npos;
    EXPECT_EQ(m.ctl, ctl ? std::uint64_t{1} << 17 : 0u) << b;
    EXPECT_EQ(m.token, tchar ? ~0ull : ~(std::uint64_t{1} << 17)) << b;
    // The ctl class is exactly where find_line_end_or_ctl stops.
    EXPECT_EQ(find_line_end_or_ctl_scalar(block, 64), ctl ? 17u : 64u) << b;
  }
}

TEST_P(IsaTest, ZeroBlocksTouchesNothing) {
  HttpBlockMasks m{1, 2};
  classify_http_blocks(nullptr, 0, &m);
  EXPECT_EQ(m.ctl, 1u);
  EXPECT_EQ(m.token, 2u);
}

// Every byte value in every lane of one, two and three blocks.
TEST_P(IsaTest, AllBytesAllLanes) {
  for (std::size_t blocks = 1; blocks <= 3; ++blocks) {
    std::vector<std::uint8_t> s(blocks * kHttpBlock, 'a');
    for (std::size_t pos = 0; pos < s.size(); ++pos) {
      for (int v = 0; v < 256; ++v) {
        s[pos] = static_cast<std::uint8_t>(v);
        expect_same(s, 0, "one byte");
      }
      s[pos] = 'a';
    }
  }
}

// Every alignment, with all 256 values spread over the blocks.
TEST_P(IsaTest, EveryAlignment) {
  std::vector<std::uint8_t> s(4 * kHttpBlock);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (std::size_t off = 0; off < 64; ++off) expect_same(s, off, "all values");
}

// Random field-like bytes (seeded; the seed is printed on failure).
TEST_P(IsaTest, RandomHeads) {
  const std::uint32_t seed = 0x5eed1234u;
  std::mt19937 rng(seed);
  constexpr std::string_view kAlphabet =
      "Content-Length: 60\r\nX-Y:\t z\x01\x7f\x80\xff\"(),;=?@[]{}\\/";
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<std::uint8_t> s((1 + rng() % 5) * kHttpBlock);
    for (auto& b : s) {
      b = rng() % 4 == 0 ? static_cast<std::uint8_t>(rng())
                         : static_cast<std::uint8_t>(kAlphabet[rng() % kAlphabet.size()]);
    }
    SCOPED_TRACE(::testing::Message() << "seed=" << seed << " iter=" << iter);
    expect_same(s, rng() % 64, "random");
  }
}

// classify_http_blocks_isa reaches each kernel regardless of the active ISA.
TEST_P(IsaTest, ExplicitIsaMatchesEntryPoint) {
  std::vector<std::uint8_t> s(2 * kHttpBlock);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(255 - i);
  HttpBlockMasks a[2], b[2];
  classify_http_blocks(s.data(), 2, a);
  classify_http_blocks_isa(GetParam(), s.data(), 2, b);
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(a[k].ctl, b[k].ctl);
    EXPECT_EQ(a[k].token, b[k].token);
  }
}

TERN_INSTANTIATE_ISA_TESTS(IsaTest);

}  // namespace
}  // namespace tern::simd
