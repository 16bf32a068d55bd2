// File: utf8_dfa.h (internal to core/simd)
//
// The byte-at-a-time UTF-8 automaton shared by the streaming validator (to
// finish a sequence left open by the previous feed and to take in the last
// few bytes of a piece) and by the SSE2 kernel. Internal linkage: it is
// compiled into TUs with different -m flags.
#ifndef TERN_CORE_SIMD_UTF8_DFA_H_
#define TERN_CORE_SIMD_UTF8_DFA_H_

#include <cstddef>
#include <cstdint>

namespace tern::simd::internal {
namespace {

// Byte-at-a-time RFC 3629 automaton (Table 3-7): `pending` continuation
// bytes still expected, the next one within [lo, hi].
struct Utf8Dfa {
  std::uint8_t pending = 0;
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;

  bool run(const std::uint8_t* s, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t b = s[i];
      if (pending != 0) {
        if (b < lo || b > hi) return false;
        --pending;
        lo = 0x80;
        hi = 0xBF;
        continue;
      }
      if (b < 0x80) continue;
      lo = 0x80;
      hi = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        pending = 1;
      } else if (b == 0xE0) {
        pending = 2;
        lo = 0xA0;
      } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        pending = 2;
      } else if (b == 0xED) {
        pending = 2;
        hi = 0x9F;
      } else if (b == 0xF0) {
        pending = 3;
        lo = 0x90;
      } else if (b >= 0xF1 && b <= 0xF3) {
        pending = 3;
      } else if (b == 0xF4) {
        pending = 3;
        hi = 0x8F;
      } else {
        return false;
      }
    }
    return true;
  }
};

}  // namespace
}  // namespace tern::simd::internal

#endif  // TERN_CORE_SIMD_UTF8_DFA_H_
