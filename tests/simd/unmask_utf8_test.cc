// unmask_validate_utf8 (the server's masked Text payload in one pass) and
// utf8_text_kernel: every kernel against mask_scalar + validate_utf8_scalar,
// for the bytes left in the buffer and for the verdict.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/simd/isa.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"
#include "gtest/gtest.h"
#include "tests/simd/isa_param.h"
#include "tests/simd/utf8_cases.h"

namespace tern::simd {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testing::Case;
using testing::ExactBuffer;
using testing::invalid_cases;
using testing::IsaTest;
using testing::random_utf8;

constexpr std::uint32_t kKey = 0x3DA1C27Fu;  // bytes 7F C2 A1 3D: all lanes differ

// Masks `plain` at `phase` into an exact-size block at `offset`, runs the
// fused kernel, and checks it against the references: the block must hold
// `plain` again (whatever the verdict) and the verdict must be the scalar
// one. ASan reports any access outside the block.
void check_fused(const Bytes& plain, std::size_t phase, std::size_t offset,
                 std::uint32_t key, const std::string& what) {
  const std::size_t n = plain.size();
  Bytes wire = plain;
  mask_scalar(wire.data(), n, key, phase);
  Bytes ref = wire;
  const bool want = unmask_validate_utf8_scalar(ref.data(), n, key, phase);
  ASSERT_EQ(ref, plain) << what;
  ASSERT_EQ(want, validate_utf8_scalar(plain.data(), n)) << what;
  ExactBuffer buf(n, offset);
  if (n) std::memcpy(buf.data(), wire.data(), n);
  ASSERT_EQ(unmask_validate_utf8(buf.data(), n, key, phase), want)
      << what << " n=" << n << " phase=" << phase << " off=" << offset;
  ASSERT_TRUE(n == 0 || std::memcmp(buf.data(), plain.data(), n) == 0)
      << what << " bytes differ, n=" << n << " phase=" << phase << " off=" << offset;
}

TEST(UnmaskUtf8Scalar, Rfc6455Example) {
  // RFC 6455 §5.7: masked "Hello" with key 37 fa 21 3d.
  std::uint8_t data[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  const std::uint8_t key_bytes[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::uint32_t key;
  std::memcpy(&key, key_bytes, 4);
  EXPECT_TRUE(unmask_validate_utf8_scalar(data, 5, key));
  EXPECT_EQ(std::memcmp(data, "Hello", 5), 0);
}

TEST_P(IsaTest, Rfc6455Example) {
  std::uint8_t data[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  const std::uint8_t key_bytes[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::uint32_t key;
  std::memcpy(&key, key_bytes, 4);
  EXPECT_TRUE(unmask_validate_utf8(data, 5, key));
  EXPECT_EQ(std::memcmp(data, "Hello", 5), 0);
}

// Lengths 0..130 around every vector and 64-byte block boundary, every
// phase, alignments 0..63 (a sample per length to stay fast), valid text of
// several ASCII shares.
TEST_P(IsaTest, ValidTextAllLengthsPhasesAlignments) {
  std::mt19937_64 rng(11);
  for (int ascii : {100, 90, 50, 0}) {
    const Bytes text = random_utf8(rng, 300, ascii);
    for (std::size_t n = 0; n <= 130; ++n) {
      // Cut on a character boundary at or below n.
      std::size_t cut = n;
      while (cut > 0 && cut < text.size() && (text[cut] & 0xC0) == 0x80) --cut;
      const Bytes s(text.begin(), text.begin() + cut);
      for (std::size_t phase = 0; phase < 4; ++phase) {
        for (std::size_t off : {0u, 1u, 3u, 4u, 15u, 31u, 33u, 63u}) {
          check_fused(s, phase, off, kKey, "ascii=" + std::to_string(ascii));
        }
      }
    }
  }
}

// The same text cut at every length (so sequences are cut at the end too):
// the verdict comes from the scalar reference either way.
TEST_P(IsaTest, CutTextAllLengths) {
  std::mt19937_64 rng(12);
  const Bytes text = random_utf8(rng, 200, 40);
  for (std::size_t n = 0; n <= 200 && n <= text.size(); ++n) {
    const Bytes s(text.begin(), text.begin() + n);
    for (std::size_t phase = 0; phase < 4; ++phase) {
      check_fused(s, phase, (n * 7) % 64, kKey, "cut");
    }
  }
}

TEST_P(IsaTest, LargerLengths) {
  std::mt19937_64 rng(13);
  for (std::size_t n : {191u, 192u, 193u, 255u, 256u, 257u, 1000u, 4095u, 4096u, 4099u,
                        65537u}) {
    for (int ascii : {100, 60}) {
      Bytes s = random_utf8(rng, n, ascii);
      s.resize(n);  // may cut a sequence: then invalid
      for (std::size_t phase = 0; phase < 4; ++phase) {
        check_fused(s, phase, phase * 5, kKey, "large ascii=" + std::to_string(ascii));
      }
    }
  }
}

// Each invalid class at every position of ASCII and of mixed valid text,
// around every vector and block boundary, at two phases.
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
          ASSERT_FALSE(validate_utf8_scalar(s.data(), s.size())) << c.name;
          check_fused(s, pos & 3, pos % 64, kKey,
                      std::string(c.name) + " len=" + std::to_string(len) +
                          " pos=" + std::to_string(pos) + " filler=" + std::to_string(filler));
        }
      }
    }
  }
}

// Every two-byte pair straddling vector and block boundaries, and as the
// very end of the input.
TEST_P(IsaTest, AllBytePairsAtBoundaries) {
  for (std::size_t pos : {0u, 15u, 31u, 63u, 126u}) {
    Bytes s(130, 'a');
    for (int a = 0; a < 256; ++a) {
      for (int b = 0; b < 256; ++b) {
        s[pos] = static_cast<std::uint8_t>(a);
        s[pos + 1] = static_cast<std::uint8_t>(b);
        for (std::size_t n : {s.size(), pos + 2}) {
          Bytes wire(s.begin(), s.begin() + n);
          mask_scalar(wire.data(), n, kKey, pos);
          ASSERT_EQ(unmask_validate_utf8(wire.data(), n, kKey, pos),
                    validate_utf8_scalar(s.data(), n))
              << std::hex << a << " " << b << " at " << std::dec << pos << " n=" << n;
          ASSERT_EQ(std::memcmp(wire.data(), s.data(), n), 0);
        }
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
    if (!s.empty()) {
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) s[rng() % s.size()] = static_cast<std::uint8_t>(rng());
    }
    check_fused(s, rng() % 4, rng() % 64, static_cast<std::uint32_t>(rng()),
                "round " + std::to_string(round));
  }
}

// The kernel pointers handed to hot loops: the masked one is the fused
// kernel (phase 0), the unmasked one validates without writing.
TEST_P(IsaTest, TextKernelPointers) {
  const Utf8TextKernel masked = utf8_text_kernel(true);
  const Utf8TextKernel plain = utf8_text_kernel(false);
  ASSERT_NE(masked, nullptr);
  ASSERT_NE(plain, nullptr);
  std::mt19937_64 rng(5);
  for (std::size_t n = 0; n <= 130; ++n) {
    Bytes s = random_utf8(rng, n, 70);
    s.resize(n);
    if (n && n % 3 == 0) s[rng() % n] = 0xC0;
    const bool want = validate_utf8_scalar(s.data(), n);
    ExactBuffer buf(n, n % 64);
    if (n) std::memcpy(buf.data(), s.data(), n);
    ASSERT_EQ(plain(buf.data(), n, kKey), want) << n;
    ASSERT_TRUE(n == 0 || std::memcmp(buf.data(), s.data(), n) == 0) << "written, n=" << n;
    mask_scalar(buf.data(), n, kKey);
    ASSERT_EQ(masked(buf.data(), n, kKey), want) << n;
    ASSERT_TRUE(n == 0 || std::memcmp(buf.data(), s.data(), n) == 0) << "masked n=" << n;
  }
}

TERN_INSTANTIATE_ISA_TESTS(IsaTest);

}  // namespace
}  // namespace tern::simd
