// UTF-8 validation (RFC 3629 §4, Table 3-7 of Unicode 15 §3.9): every kernel
// and the streaming validator against validate_utf8_scalar.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/simd/utf8.h"
#include "gtest/gtest.h"
#include "tests/simd/isa_param.h"
#include "tests/simd/utf8_cases.h"
#include "tests/support/split_feed.h"

namespace tern::simd {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testing::Case;
using testing::invalid_cases;
using testing::random_utf8;
using testing::ExactBuffer;
using testing::IsaTest;

bool simd_valid(const Bytes& b, std::size_t offset = 0) {
  ExactBuffer buf(b.size(), offset);
  if (!b.empty()) std::memcpy(buf.data(), b.data(), b.size());
  return validate_utf8(buf.data(), b.size());
}

// Reference for fail-fast: can s[0, k) be extended to valid UTF-8? A cut
// sequence is completed with every continuation class that any lead allows.
bool valid_prefix(const Bytes& s, std::size_t k) {
  if (validate_utf8_scalar(s.data(), k)) return true;
  static const std::uint8_t kConts[] = {0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF};
  Bytes t(s.begin(), s.begin() + k);
  for (std::uint8_t a : kConts) {
    t.push_back(a);
    if (validate_utf8_scalar(t.data(), t.size())) return true;
    for (std::uint8_t b : kConts) {
      t.push_back(b);
      if (validate_utf8_scalar(t.data(), t.size())) return true;
      for (std::uint8_t c : kConts) {
        t.push_back(c);
        if (validate_utf8_scalar(t.data(), t.size())) return true;
        t.pop_back();
      }
      t.pop_back();
    }
    t.pop_back();
  }
  return false;
}

// Length of the longest valid prefix (prefix validity is monotone).
std::size_t first_bad(const Bytes& s) {
  std::size_t lo = 0, hi = s.size();  // valid_prefix(lo) holds
  if (valid_prefix(s, hi)) return s.size() + 1;  // none
  while (hi - lo > 1) {
    const std::size_t mid = (lo + hi) / 2;
    (valid_prefix(s, mid) ? lo : hi) = mid;
  }
  return hi;  // s[0, hi) is the shortest invalid prefix
}

// Feeds s in the given pieces and checks fail-fast against the reference.
void check_stream(const Bytes& s, const std::vector<std::size_t>& pieces,
                  const std::string& what) {
  const std::size_t bad = first_bad(s);
  Utf8Validator v;
  std::size_t at = 0;
  bool failed = false;
  for (std::size_t len : pieces) {
    const bool ok = v.feed(s.data() + at, len);
    at += len;
    const bool expect_ok = !failed && at < bad;
    ASSERT_EQ(ok, expect_ok) << what << " piece ending at " << at << " first_bad=" << bad;
    failed = failed || !ok;
    ASSERT_EQ(v.failed(), failed) << what;
  }
  ASSERT_EQ(v.complete(), validate_utf8_scalar(s.data(), s.size())) << what;
}

TEST(Utf8Scalar, Table) {
  for (const Case& c : invalid_cases()) {
    EXPECT_FALSE(validate_utf8_scalar(c.bytes.data(), c.bytes.size())) << c.name;
  }
  const Bytes ok = {'a', 0xC2, 0x80, 0xE0, 0xA0, 0x80, 0xED, 0x9F, 0xBF,
                    0xEE, 0x80, 0x80, 0xF0, 0x90, 0x80, 0x80, 0xF4, 0x8F, 0xBF, 0xBF};
  EXPECT_TRUE(validate_utf8_scalar(ok.data(), ok.size()));
}

// Each invalid class at every position of ASCII and of mixed valid text, in
// buffers around every vector and block boundary, at two alignments.
TEST_P(IsaTest, InvalidClassesAtEveryPosition) {
  std::mt19937_64 rng(7);
  const Bytes mixed = random_utf8(rng, 400, 50);
  for (std::size_t len : {1u, 2u, 3u, 4u, 15u, 16u, 17u, 31u, 32u, 33u, 63u, 64u, 65u,
                          96u, 127u, 128u, 129u, 130u, 200u}) {
    for (const Case& c : invalid_cases()) {
      if (c.bytes.size() > len) continue;
      for (std::size_t pos = 0; pos + c.bytes.size() <= len; ++pos) {
        for (int filler = 0; filler < 2; ++filler) {
          Bytes s(len, 'x');
          if (filler == 1) {
            // Valid mixed text before pos, ASCII after: the prefix must be
            // cut on a character boundary.
            std::size_t k = 0;
            while (k < pos) {
              std::size_t l = 1;
              const std::uint8_t b = mixed[k];
              if (b >= 0xF0) l = 4; else if (b >= 0xE0) l = 3; else if (b >= 0xC0) l = 2;
              if (k + l > pos) break;
              std::copy(mixed.begin() + k, mixed.begin() + k + l, s.begin() + k);
              k += l;
            }
          }
          std::copy(c.bytes.begin(), c.bytes.end(), s.begin() + pos);
          const bool want = validate_utf8_scalar(s.data(), s.size());
          // Some rows become valid when the next byte completes them
          // (truncated E2 82 followed by ASCII stays invalid, always).
          ASSERT_FALSE(want) << c.name << " len=" << len << " pos=" << pos;
          ASSERT_EQ(simd_valid(s, pos % 64), want) << c.name << " len=" << len << " pos=" << pos
                                                 << " filler=" << filler;
        }
      }
    }
  }
}

// Every two-byte pair at offsets that straddle vector and block boundaries.
TEST_P(IsaTest, AllBytePairsAtBoundaries) {
  for (std::size_t pos : {0u, 15u, 31u, 63u, 126u}) {
    Bytes s(130, 'a');
    for (int a = 0; a < 256; ++a) {
      for (int b = 0; b < 256; ++b) {
        s[pos] = static_cast<std::uint8_t>(a);
        s[pos + 1] = static_cast<std::uint8_t>(b);
        ASSERT_EQ(validate_utf8(s.data(), s.size()), validate_utf8_scalar(s.data(), s.size()))
            << std::hex << a << " " << b << " at " << std::dec << pos;
        // Also as the very end of the input (truncation at the last bytes).
        ASSERT_EQ(validate_utf8(s.data(), pos + 2), validate_utf8_scalar(s.data(), pos + 2))
            << std::hex << a << " " << b << " ending at " << std::dec << pos + 2;
      }
    }
  }
}

// Every 3- and 4-byte sequence shape: lead E0..F4 with all second bytes and
// a spread of later bytes, at a block boundary.
TEST_P(IsaTest, LongSequencesAllSecondBytes) {
  const std::uint8_t later[] = {0x00, 0x80, 0x8F, 0x90, 0xBF, 0xC0};
  for (std::size_t pos : {1u, 62u}) {
    Bytes s(70, 'a');
    for (int lead = 0xC0; lead < 0x100; ++lead) {
      for (int second = 0; second < 256; ++second) {
        for (std::uint8_t third : later) {
          for (std::uint8_t fourth : later) {
            s[pos] = static_cast<std::uint8_t>(lead);
            s[pos + 1] = static_cast<std::uint8_t>(second);
            s[pos + 2] = third;
            s[pos + 3] = fourth;
            ASSERT_EQ(validate_utf8(s.data(), s.size()),
                      validate_utf8_scalar(s.data(), s.size()))
                << std::hex << lead << " " << second << " " << int{third} << " "
                << int{fourth};
          }
        }
      }
    }
  }
}

TEST_P(IsaTest, AllLengthsAndAlignmentsValidText) {
  std::mt19937_64 rng(11);
  for (int ascii : {100, 90, 50, 0}) {
    const Bytes text = random_utf8(rng, 300, ascii);
    for (std::size_t n = 0; n <= 130; ++n) {
      const Bytes s(text.begin(), text.begin() + n);
      const bool want = validate_utf8_scalar(s.data(), n);
      for (std::size_t off = 0; off < 64; ++off) {
        ASSERT_EQ(simd_valid(s, off), want) << "n=" << n << " off=" << off << " ascii=" << ascii;
      }
    }
  }
}

TEST_P(IsaTest, RandomMutationsMatchScalar) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 3000; ++round) {
    Bytes s = random_utf8(rng, rng() % 600, static_cast<int>(rng() % 101));
    ASSERT_TRUE(validate_utf8(s.data(), s.size()));
    if (!s.empty()) {
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) s[rng() % s.size()] = static_cast<std::uint8_t>(rng());
    }
    ASSERT_EQ(simd_valid(s, rng() % 64), validate_utf8_scalar(s.data(), s.size()))
        << "round " << round;
  }
}

TEST_P(IsaTest, LargeInputs) {
  std::mt19937_64 rng(3);
  for (int ascii : {100, 95, 30}) {
    Bytes s = random_utf8(rng, 200000, ascii);
    ASSERT_TRUE(validate_utf8(s.data(), s.size()));
    s[s.size() / 2] = 0xFF;
    ASSERT_FALSE(validate_utf8(s.data(), s.size()));
  }
}

// --- streaming

TEST_P(IsaTest, StreamFailFastTruncatedButInvalid) {
  // A piece ending in a sequence that can no longer be completed fails at
  // once (RFC 6455 §8.1); a valid open sequence waits for the next piece.
  const std::vector<std::pair<Bytes, bool>> rows = {
      {{'a', 0xE0, 0x80}, false}, {{'a', 0xED, 0xA0}, false}, {{'a', 0xF4, 0x90}, false},
      {{'a', 0xF5}, false},       {{'a', 0xC0}, false},       {{'a', 0xF0, 0x8F}, false},
      {{'a', 0xE2, 0x82}, true},  {{'a', 0xF0, 0x9F, 0x98}, true}, {{'a', 0xC2}, true},
      {{'a', 0xF4, 0x8F}, true},  {{'a', 0xED, 0x9F}, true},
  };
  for (const auto& [bytes, ok] : rows) {
    for (std::size_t pad : {0u, 70u}) {  // also behind a SIMD-sized prefix
      Bytes s(pad, 'y');
      s.insert(s.end(), bytes.begin(), bytes.end());
      Utf8Validator v;
      EXPECT_EQ(v.feed(s.data(), s.size()), ok) << std::hex << int{bytes[1]};
      EXPECT_FALSE(v.complete());
      EXPECT_EQ(v.failed(), !ok);
    }
  }
  Utf8Validator v;
  const std::uint8_t a[] = {0xE2, 0x82}, b[] = {0xAC, 'x'};
  ASSERT_TRUE(v.feed(a, 2));
  EXPECT_FALSE(v.complete());
  ASSERT_TRUE(v.feed(b, 2));
  EXPECT_TRUE(v.complete());
  // Sticky until reset.
  const std::uint8_t bad[] = {0xFF};
  EXPECT_FALSE(v.feed(bad, 1));
  EXPECT_FALSE(v.feed(b + 1, 1));
  EXPECT_TRUE(v.failed());
  v.reset();
  EXPECT_TRUE(v.feed(b + 1, 1));
  EXPECT_TRUE(v.complete());
}

TEST_P(IsaTest, StreamValidTextEverySplit) {
  const std::uint64_t seed = 20240501;
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    const Bytes s = random_utf8(rng, 20 + rng() % 60, static_cast<int>(rng() % 101));
    for (const auto& plan : tern::testing::split_plans(s.size(), seed + round)) {
      check_stream(s, plan.pieces, plan.name + " round " + std::to_string(round));
    }
  }
}

TEST_P(IsaTest, StreamMutatedTextEverySplit) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 60; ++round) {
    Bytes s = random_utf8(rng, 10 + rng() % 50, static_cast<int>(rng() % 101));
    s[rng() % s.size()] = static_cast<std::uint8_t>(rng());
    if (rng() % 2) s.resize(s.size() - rng() % 3);  // maybe cut a sequence
    for (const auto& plan : tern::testing::split_plans(s.size(), seed + round, 4)) {
      check_stream(s, plan.pieces, plan.name + " round " + std::to_string(round));
    }
  }
}

TEST_P(IsaTest, StreamInvalidClassesAcrossPieces) {
  for (const Case& c : invalid_cases()) {
    for (std::size_t pad : {1u, 63u, 100u}) {
      Bytes s(pad, 'q');
      s.insert(s.end(), c.bytes.begin(), c.bytes.end());
      s.insert(s.end(), {'z', 'z'});
      for (const auto& plan : tern::testing::split_plans(s.size(), pad, 4)) {
        check_stream(s, plan.pieces, std::string(c.name) + " " + plan.name);
      }
    }
  }
}

TERN_INSTANTIATE_ISA_TESTS(IsaTest);

}  // namespace
}  // namespace tern::simd
