// File: mask.h
//
// RFC 6455 §5.3 masking: XOR a payload with a repeating 4-byte key, in place.
// mask() picks the widest kernel the CPU supports at first use (SSE2 baseline,
// AVX2, AVX-512BW); mask_scalar() is the reference the kernels are tested
// against. Both are pure functions over caller-owned memory.
#ifndef TERN_CORE_SIMD_MASK_H_
#define TERN_CORE_SIMD_MASK_H_

#include <cstddef>
#include <cstdint>

namespace tern::simd {

// XORs data[i] with key_bytes[(phase + i) % 4], where key_bytes is the key as
// it appears on the wire (`key` holds those 4 bytes in memory order, i.e. a
// memcpy of them). `phase` lets a payload be unmasked in several pieces.
void mask(std::uint8_t* data, std::size_t n, std::uint32_t key,
          std::size_t phase = 0) noexcept;

void mask_scalar(std::uint8_t* data, std::size_t n, std::uint32_t key,
                 std::size_t phase = 0) noexcept;

// Copies src to dst while masking; the client encoder's one pass over a
// payload. dst and src may not overlap unless equal.
void mask_copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
               std::uint32_t key, std::size_t phase = 0) noexcept;

}  // namespace tern::simd

#endif  // TERN_CORE_SIMD_MASK_H_
