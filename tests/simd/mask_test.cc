// RFC 6455 §5.3 masking: every kernel against mask_scalar.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/simd/mask.h"
#include "gtest/gtest.h"
#include "tests/simd/isa_param.h"

namespace tern::simd {
namespace {

using testing::ExactBuffer;
using testing::IsaTest;

constexpr std::uint32_t kKey = 0x3DA1C27Fu;  // bytes 7F C2 A1 3D: all lanes differ

std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + seed);
  return v;
}

TEST(MaskScalar, Rfc6455Example) {
  // RFC 6455 §5.7: masked "Hello" with key 37 fa 21 3d.
  std::uint8_t data[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  const std::uint8_t key_bytes[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::uint32_t key;
  std::memcpy(&key, key_bytes, 4);
  mask_scalar(data, 5, key);
  EXPECT_EQ(std::memcmp(data, "Hello", 5), 0);
}

TEST_P(IsaTest, Rfc6455ExampleInPieces) {
  std::uint8_t data[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  const std::uint8_t key_bytes[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::uint32_t key;
  std::memcpy(&key, key_bytes, 4);
  mask(data, 3, key, 0);
  mask(data + 3, 2, key, 3);
  EXPECT_EQ(std::memcmp(data, "Hello", 5), 0);
}

// Every length 0..130, every alignment 0..63, every phase, in place and copy;
// exact-size heap blocks so ASan sees any access outside [data, data + n).
TEST_P(IsaTest, MaskMatchesScalarAllLengthsAlignmentsPhases) {
  for (std::size_t n = 0; n <= 130; ++n) {
    const std::vector<std::uint8_t> input = pattern(n, static_cast<unsigned>(n));
    for (std::size_t phase = 0; phase < 4; ++phase) {
      std::vector<std::uint8_t> want = input;
      mask_scalar(want.data(), n, kKey, phase);
      for (std::size_t off = 0; off < 64; ++off) {
        ExactBuffer buf(n, off);
        if (n) std::memcpy(buf.data(), input.data(), n);
        mask(buf.data(), n, kKey, phase);
        ASSERT_TRUE(n == 0 || std::memcmp(buf.data(), want.data(), n) == 0)
            << "in place n=" << n << " off=" << off << " phase=" << phase;
        ExactBuffer dst(n, (off * 13) % 64);
        mask_copy(dst.data(), input.data(), n, kKey, phase);
        ASSERT_TRUE(n == 0 || std::memcmp(dst.data(), want.data(), n) == 0)
            << "copy n=" << n << " off=" << off << " phase=" << phase;
      }
    }
  }
}

// All 256 byte values at every lane position of the widest vector.
TEST_P(IsaTest, MaskAllByteValuesAtEveryLane) {
  for (std::size_t n : {64u, 130u}) {
    for (unsigned seed = 0; seed < 256; ++seed) {
      std::vector<std::uint8_t> got = pattern(n, seed);
      std::vector<std::uint8_t> want = got;
      mask_scalar(want.data(), n, ~kKey, seed & 3);
      mask(got.data(), n, ~kKey, seed & 3);
      ASSERT_EQ(got, want) << "n=" << n << " seed=" << seed;
    }
  }
}

// Bytes around the payload stay untouched (catches stray stores in normal
// builds too, where ASan is absent).
TEST_P(IsaTest, MaskWritesNothingOutside) {
  for (std::size_t n = 0; n <= 300; ++n) {
    for (std::size_t off : {0u, 1u, 3u, 31u, 63u}) {
      std::vector<std::uint8_t> buf(64 + off + n + 64, 0xEE);
      std::vector<std::uint8_t> want = buf;
      mask_scalar(want.data() + 64 + off, n, kKey, n & 3);
      mask(buf.data() + 64 + off, n, kKey, n & 3);
      ASSERT_EQ(buf, want) << "n=" << n << " off=" << off;
      std::vector<std::uint8_t> src(n, 0x55), dst(64 + off + n + 64, 0xEE);
      std::vector<std::uint8_t> want2 = dst;
      if (n) std::memcpy(want2.data() + 64 + off, src.data(), n);
      mask_scalar(want2.data() + 64 + off, n, kKey, 1);
      mask_copy(dst.data() + 64 + off, src.data(), n, kKey, 1);
      ASSERT_EQ(dst, want2) << "copy n=" << n << " off=" << off;
    }
  }
}

TEST_P(IsaTest, MaskLargeRandom) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (std::size_t n : {1000u, 4096u, 4099u, 65536u + 5, 1u << 20}) {
    for (std::size_t off : {0u, 5u, 32u, 61u}) {
      const auto key = static_cast<std::uint32_t>(rng());
      const std::size_t phase = rng() % 4;
      std::vector<std::uint8_t> input(n);
      for (auto& b : input) b = static_cast<std::uint8_t>(rng());
      std::vector<std::uint8_t> want = input;
      mask_scalar(want.data(), n, key, phase);
      ExactBuffer buf(n, off);
      std::memcpy(buf.data(), input.data(), n);
      mask(buf.data(), n, key, phase);
      ASSERT_EQ(std::memcmp(buf.data(), want.data(), n), 0) << "n=" << n << " off=" << off;
      ExactBuffer dst(n, 63 - off);
      mask_copy(dst.data(), input.data(), n, key, phase);
      ASSERT_EQ(std::memcmp(dst.data(), want.data(), n), 0) << "copy n=" << n;
      // Unmasking in random pieces with a running phase gives the same bytes.
      std::vector<std::uint8_t> pieces = input;
      for (std::size_t at = 0; at < n;) {
        const std::size_t len = std::min<std::size_t>(n - at, 1 + rng() % 200);
        mask(pieces.data() + at, len, key, phase + at);
        at += len;
      }
      ASSERT_EQ(pieces, want) << "pieces n=" << n;
    }
  }
}

TERN_INSTANTIATE_ISA_TESTS(IsaTest);

}  // namespace
}  // namespace tern::simd
