// Scalar reference implementations: the definition of correct for every SIMD
// kernel, and the fallback for tails shorter than one vector.
#include <cstring>

#include "core/simd/http_scan.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"

namespace tern::simd {

void mask_scalar(std::uint8_t* data, std::size_t n, std::uint32_t key,
                 std::size_t phase) noexcept {
  std::uint8_t k[4];
  std::memcpy(k, &key, 4);
  for (std::size_t i = 0; i < n; ++i) data[i] ^= k[(phase + i) & 3];
}

// RFC 3629 Table 3-7 (well-formed byte sequences), checked byte by byte.
bool validate_utf8_scalar(const std::uint8_t* s, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t b = s[i];
    if (b < 0x80) { ++i; continue; }
    std::size_t len;
    std::uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) { len = 2; }
    else if (b == 0xE0) { len = 3; lo = 0xA0; }
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) { len = 3; }
    else if (b == 0xED) { len = 3; hi = 0x9F; }
    else if (b == 0xF0) { len = 4; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) { len = 4; }
    else if (b == 0xF4) { len = 4; hi = 0x8F; }
    else return false;
    if (n - i < len) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (std::size_t j = 2; j < len; ++j) {
      if (s[i + j] < 0x80 || s[i + j] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

bool unmask_validate_utf8_scalar(std::uint8_t* data, std::size_t n, std::uint32_t key,
                                 std::size_t phase) noexcept {
  mask_scalar(data, n, key, phase);
  return validate_utf8_scalar(data, n);
}

std::size_t find_line_end_or_ctl_scalar(const std::uint8_t* data,
                                        std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t b = data[i];
    if ((b < 0x20 && b != '\t') || b == 0x7F) return i;
  }
  return n;
}

std::size_t find_byte_scalar(const std::uint8_t* data, std::size_t n,
                             std::uint8_t c) noexcept {
  if (n == 0) return 0;  // memchr's pointer must be valid even for n == 0
  const void* p = std::memchr(data, c, n);
  return p ? static_cast<const std::uint8_t*>(p) - data : n;
}

}  // namespace tern::simd
