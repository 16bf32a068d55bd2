// Entry points. Until the per-ISA kernels land these run the scalar code.
#include <cstring>

#include "core/simd/http_scan.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"

namespace tern::simd {

void mask(std::uint8_t* data, std::size_t n, std::uint32_t key,
          std::size_t phase) noexcept {
  mask_scalar(data, n, key, phase);
}

void mask_copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
               std::uint32_t key, std::size_t phase) noexcept {
  if (dst != src && n != 0) std::memmove(dst, src, n);
  mask(dst, n, key, phase);
}

bool validate_utf8(const std::uint8_t* data, std::size_t n) noexcept {
  return validate_utf8_scalar(data, n);
}

bool Utf8Validator::feed(const std::uint8_t* s, std::size_t n) noexcept {
  if (failed_) return false;
  std::uint8_t lo = state_ & 0xFF, hi = state_ >> 8;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t b = s[i];
    if (pending_ != 0) {
      if (b < lo || b > hi) return !(failed_ = true);
      --pending_;
      lo = 0x80; hi = 0xBF;
      continue;
    }
    if (b < 0x80) continue;
    lo = 0x80; hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) pending_ = 1;
    else if (b == 0xE0) { pending_ = 2; lo = 0xA0; }
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) pending_ = 2;
    else if (b == 0xED) { pending_ = 2; hi = 0x9F; }
    else if (b == 0xF0) { pending_ = 3; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) pending_ = 3;
    else if (b == 0xF4) { pending_ = 3; hi = 0x8F; }
    else return !(failed_ = true);
  }
  state_ = lo | (std::uint32_t{hi} << 8);
  return true;
}

std::size_t find_line_end_or_ctl(const std::uint8_t* data, std::size_t n) noexcept {
  return find_line_end_or_ctl_scalar(data, n);
}

std::size_t find_byte(const std::uint8_t* data, std::size_t n, std::uint8_t c) noexcept {
  return find_byte_scalar(data, n, c);
}

}  // namespace tern::simd
