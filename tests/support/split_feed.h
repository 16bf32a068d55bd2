// File: split_feed.h
//
// The ways every parser test feeds an input: whole, one byte at a time, split
// at every single offset, and in seeded random pieces. A parser test runs its
// table rows through each plan and asserts identical results.
#ifndef TERN_TESTS_SUPPORT_SPLIT_FEED_H_
#define TERN_TESTS_SUPPORT_SPLIT_FEED_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tern::testing {

// A feeding plan: sizes of successive pieces; they sum to the input length.
struct SplitPlan {
  std::string name;
  std::vector<std::size_t> pieces;
};

// Whole, byte-at-a-time, each two-piece split, and `random_plans` random
// splits drawn from `seed` (printed in the plan name for reproduction).
inline std::vector<SplitPlan> split_plans(std::size_t length,
                                          std::uint64_t seed = 1,
                                          int random_plans = 8) {
  std::vector<SplitPlan> plans;
  plans.push_back({"whole", {length}});
  if (length > 1) {
    plans.push_back({"bytewise", std::vector<std::size_t>(length, 1)});
    for (std::size_t cut = 1; cut < length; ++cut) {
      plans.push_back({"cut@" + std::to_string(cut), {cut, length - cut}});
    }
  }
  std::mt19937_64 rng(seed);
  for (int i = 0; i < random_plans && length > 1; ++i) {
    SplitPlan p{"random seed=" + std::to_string(seed) + " #" + std::to_string(i), {}};
    std::size_t left = length;
    while (left > 0) {
      std::size_t n = 1 + rng() % (left < 17 ? left : 17);
      p.pieces.push_back(n);
      left -= n;
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_SPLIT_FEED_H_
