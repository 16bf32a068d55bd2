#include "core/ws/mask_key_pool.h"

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "gtest/gtest.h"

namespace tern::ws {
namespace {

std::vector<std::uint32_t> draw(MaskKeyPool& pool, std::size_t n) {
  std::vector<std::uint32_t> keys(n);
  for (auto& k : keys) EXPECT_TRUE(pool.next(&k));
  return keys;
}

// Enough keys to pass several rekeys (kKeys * kRefillsPerRekey each).
constexpr std::size_t kMany = 3 * MaskKeyPool::kKeys * MaskKeyPool::kRefillsPerRekey + 17;

TEST(MaskKeyPool, TwoPoolsNeverShareAStream) {
  MaskKeyPool a, b;
  const auto ka = draw(a, 4096), kb = draw(b, 4096);
  std::size_t same = 0;
  for (std::size_t i = 0; i < ka.size(); ++i) same += ka[i] == kb[i];
  EXPECT_LE(same, 2u) << "independently seeded pools must not agree";
}

TEST(MaskKeyPool, KeysLookUniformAcrossRekeys) {
  MaskKeyPool pool;
  const auto keys = draw(pool, kMany);
  // 32-bit keys: about n²/2³³ repeats are expected (≈ 1.4 for 49 169 keys).
  std::unordered_set<std::uint32_t> distinct(keys.begin(), keys.end());
  EXPECT_GE(distinct.size(), keys.size() - 12);
  // No counter: consecutive keys do not differ by a constant.
  std::size_t steps_of_one = 0;
  for (std::size_t i = 1; i < keys.size(); ++i) steps_of_one += keys[i] - keys[i - 1] == 1;
  EXPECT_LE(steps_of_one, 2u);
  // Every bit position is set in about half of the keys.
  for (int bit = 0; bit < 32; ++bit) {
    std::size_t ones = 0;
    for (std::uint32_t k : keys) ones += (k >> bit) & 1;
    EXPECT_NEAR(static_cast<double>(ones) / keys.size(), 0.5, 0.02) << "bit " << bit;
  }
}

}  // namespace
}  // namespace tern::ws
