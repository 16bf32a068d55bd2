// File: utf8_cases.h
//
// UTF-8 test material shared by the validator and fused unmask+validate
// tests: a seeded generator of valid text over every length class, and the
// table of invalid sequences (RFC 3629 §3/§4, Unicode Table 3-7).
#ifndef TERN_TESTS_SIMD_UTF8_CASES_H_
#define TERN_TESTS_SIMD_UTF8_CASES_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace tern::simd::testing {

// Random valid UTF-8 over every length class, biased to boundaries.
inline std::vector<std::uint8_t> random_utf8(std::mt19937_64& rng, std::size_t chars,
                                             int ascii_percent) {
  static const std::uint32_t kEdges[] = {0x0,    0x7F,   0x80,    0x7FF,    0x800,
                                         0xFFF,  0x1000, 0xD7FF,  0xE000,   0xFFFF,
                                         0x10000, 0x3FFFF, 0x40000, 0xFFFFF, 0x100000,
                                         0x10FFFF};
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < chars; ++i) {
    std::uint32_t cp;
    const int r = static_cast<int>(rng() % 100);
    if (r < ascii_percent) {
      cp = 0x20 + rng() % 0x5F;
    } else if (rng() % 4 == 0) {
      cp = kEdges[rng() % 16];
    } else {
      do cp = rng() % 0x110000; while (cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (cp < 0x80) {
      out.push_back(static_cast<std::uint8_t>(cp));
    } else if (cp < 0x800) {
      out.push_back(0xC0 | (cp >> 6));
      out.push_back(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out.push_back(0xE0 | (cp >> 12));
      out.push_back(0x80 | ((cp >> 6) & 0x3F));
      out.push_back(0x80 | (cp & 0x3F));
    } else {
      out.push_back(0xF0 | (cp >> 18));
      out.push_back(0x80 | ((cp >> 12) & 0x3F));
      out.push_back(0x80 | ((cp >> 6) & 0x3F));
      out.push_back(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

struct Case {
  const char* name;
  std::vector<std::uint8_t> bytes;
};

// RFC 3629 §3/§4 and Unicode Table 3-7: each row is invalid on its own and
// inside any valid text.
inline const std::vector<Case>& invalid_cases() {
  static const std::vector<Case> k = {
      {"overlong 2-byte C0 80 (U+0000)", {0xC0, 0x80}},
      {"overlong 2-byte C1 BF (U+007F)", {0xC1, 0xBF}},
      {"overlong 3-byte E0 80 80", {0xE0, 0x80, 0x80}},
      {"overlong 3-byte E0 9F BF (U+07FF)", {0xE0, 0x9F, 0xBF}},
      {"overlong 4-byte F0 80 80 80", {0xF0, 0x80, 0x80, 0x80}},
      {"overlong 4-byte F0 8F BF BF (U+FFFF)", {0xF0, 0x8F, 0xBF, 0xBF}},
      {"surrogate ED A0 80 (U+D800)", {0xED, 0xA0, 0x80}},
      {"surrogate ED BF BF (U+DFFF)", {0xED, 0xBF, 0xBF}},
      {"too large F4 90 80 80 (U+110000)", {0xF4, 0x90, 0x80, 0x80}},
      {"too large F4 BF BF BF", {0xF4, 0xBF, 0xBF, 0xBF}},
      {"too large F5 80 80 80", {0xF5, 0x80, 0x80, 0x80}},
      {"too large F7 BF BF BF", {0xF7, 0xBF, 0xBF, 0xBF}},
      {"truncated C2", {0xC2}},
      {"truncated E2 82", {0xE2, 0x82}},
      {"truncated F0 9F 98", {0xF0, 0x9F, 0x98}},
      {"truncated F4 8F", {0xF4, 0x8F}},
      {"lead then lead C2 C2 80", {0xC2, 0xC2, 0x80}},
      {"stray continuation 80", {0x80}},
      {"stray continuation BF", {0xBF}},
      {"too long E2 82 AC 80", {0xE2, 0x82, 0xAC, 0x80}},
      {"byte C0", {0xC0}},
      {"byte C1", {0xC1}},
      {"byte F5", {0xF5}},
      {"byte F8", {0xF8}},
      {"byte FC", {0xFC}},
      {"byte FE", {0xFE}},
      {"byte FF", {0xFF}},
  };
  return k;
}

}  // namespace tern::simd::testing

#endif  // TERN_TESTS_SIMD_UTF8_CASES_H_
