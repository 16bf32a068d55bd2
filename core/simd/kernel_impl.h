// File: kernel_impl.h (internal to core/simd)
//
// The kernels, written once against a per-ISA traits class T and included by
// each kernel_<isa>.cc after it defines T. T supplies the xsimd arch, the
// vector width and the few operations xsimd 8.1 lacks or gets wrong (masks
// to bits, byte shuffles, cross-lane byte shifts, masked tails, and unsigned
// saturating subtraction, whose avx512bw version does not compile in 8.1).
//
// Everything here sits in an anonymous namespace: each ISA's translation unit
// is compiled with different -m flags, and an inline function with external
// linkage compiled with -mavx2 in one TU could be picked by the linker for a
// call from baseline code (ODR merging), which would fault on an older CPU.
// Internal linkage makes every TU keep its own copy. xsimd's own templates
// are safe for the same reason only because each TU instantiates them with
// its own arch type (kernel_avx2.cc never names xsimd::sse2).
#ifndef TERN_CORE_SIMD_KERNEL_IMPL_H_
#define TERN_CORE_SIMD_KERNEL_IMPL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <xsimd/xsimd.hpp>

#include "core/simd/utf8_dfa.h"

namespace tern::simd::internal {
namespace {

constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;

inline std::uint64_t load64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void store64(std::uint8_t* p, std::uint64_t v) noexcept { std::memcpy(p, &v, 8); }
inline std::uint32_t load32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void store32(std::uint8_t* p, std::uint32_t v) noexcept { std::memcpy(p, &v, 4); }

// Builtins rather than std::countr_zero / std::rotr: those are inline
// functions with external linkage, which -O0 emits as weak symbols shared
// with baseline TUs (see the top of this file).
inline unsigned ctz64(std::uint64_t x) noexcept { return static_cast<unsigned>(__builtin_ctzll(x)); }

// The key as seen from byte `offset` of the payload (x86 is little-endian:
// byte 0 of the key is the low byte of the word).
inline std::uint32_t key_at(std::uint32_t key, std::size_t offset) noexcept {
  const unsigned r = static_cast<unsigned>(8 * (offset & 3));
  return r == 0 ? key : (key >> r) | (key << (32 - r));
}

// ---------------------------------------------------------------- masking

// Any n; used below one vector. Loads the last word before storing the first,
// so the overlapping tail store is also correct in place (dst == src).
inline void mask_swar(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                      std::uint32_t key) noexcept {
  if (n >= 8) {
    const std::uint32_t kt32 = key_at(key, n - 8);
    const std::uint64_t tail = load64(src + n - 8) ^ (kt32 * (std::uint64_t{1} << 32 | 1));
    const std::uint64_t k = key * (std::uint64_t{1} << 32 | 1);
    for (std::size_t i = 0; i + 8 <= n; i += 8) store64(dst + i, load64(src + i) ^ k);
    store64(dst + n - 8, tail);
  } else if (n >= 4) {
    const std::uint32_t tail = load32(src + n - 4) ^ key_at(key, n - 4);
    store32(dst, load32(src) ^ key);
    store32(dst + n - 4, tail);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      dst[i] = src[i] ^ static_cast<std::uint8_t>(key >> (8 * i));
    }
  }
}

template <class T>
inline typename T::B splat_key(std::uint32_t key) noexcept {
  using A = typename T::A;
  return xsimd::bitwise_cast<typename T::B>(xsimd::batch<std::uint32_t, A>(key));
}

// Whole vectors, 4 at a time, then one overlapping vector for the tail (loaded
// before anything is stored). Large payloads also get their stores aligned,
// with an overlapping unaligned head vector.
template <class T>
inline void mask_vec(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                     std::uint32_t key) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  if (n < W) {
    T::mask_small(dst, src, n, key);
    return;
  }
  const B tail = B::load_unaligned(src + n - W) ^ splat_key<T>(key_at(key, n - W));
  std::size_t i = 0;
  B k = splat_key<T>(key);
  B head = k;
  const bool aligned_body = n >= 8 * W;
  if (aligned_body) {
    head = B::load_unaligned(src) ^ k;
    i = (W - (reinterpret_cast<std::uintptr_t>(dst) & (W - 1))) & (W - 1);
    k = splat_key<T>(key_at(key, i));
  }
  for (; i + 4 * W < n; i += 4 * W) {
    const B a = B::load_unaligned(src + i) ^ k;
    const B b = B::load_unaligned(src + i + W) ^ k;
    const B c = B::load_unaligned(src + i + 2 * W) ^ k;
    const B d = B::load_unaligned(src + i + 3 * W) ^ k;
    a.store_unaligned(dst + i);
    b.store_unaligned(dst + i + W);
    c.store_unaligned(dst + i + 2 * W);
    d.store_unaligned(dst + i + 3 * W);
  }
  for (; i + W < n; i += W) (B::load_unaligned(src + i) ^ k).store_unaligned(dst + i);
  if (aligned_body) head.store_unaligned(dst);
  tail.store_unaligned(dst + n - W);
}

// ---------------------------------------------------------------- scanning

// Each predicate has a vector form (xsimd), a SWAR form whose result has the
// high bit set in exactly the matching bytes (no borrow between bytes, so the
// lowest set bit is the first match), and a byte form.
inline std::uint64_t swar_zero_bytes(std::uint64_t x) noexcept {
  return ~(((x & kLow7) + kLow7) | x) & kHigh;
}

struct CtlPred {
  // CR, LF, and every control byte except HTAB (RFC 9110 §5.5 field values).
  template <class B>
  auto vec(const B& v) const noexcept {
    return ((v < B(0x20)) & (v != B(0x09))) | (v == B(0x7F));
  }
  std::uint64_t swar(std::uint64_t x) const noexcept {
    const std::uint64_t ge20 = (((x & kLow7) + 0x6060606060606060ULL) | x) & kHigh;
    return ((~ge20 & kHigh) & ~swar_zero_bytes(x ^ (kOnes * 0x09))) |
           swar_zero_bytes(x ^ (kOnes * 0x7F));
  }
  bool byte(std::uint8_t b) const noexcept { return (b < 0x20 && b != '\t') || b == 0x7F; }
};

struct BytePred {
  std::uint8_t c;
  template <class B>
  auto vec(const B& v) const noexcept {
    return v == B(c);
  }
  std::uint64_t swar(std::uint64_t x) const noexcept { return swar_zero_bytes(x ^ (kOnes * c)); }
  bool byte(std::uint8_t b) const noexcept { return b == c; }
};

template <class P>
inline std::size_t scan_swar(const std::uint8_t* p, std::size_t n, const P& pred) noexcept {
  if (n >= 8) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const std::uint64_t m = pred.swar(load64(p + i));
      if (m) return i + ctz64(m) / 8;
    }
    if (i < n) {
      const std::uint64_t m = pred.swar(load64(p + n - 8));
      if (m) return n - 8 + ctz64(m) / 8;
    }
    return n;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (pred.byte(p[i])) return i;
  }
  return n;
}

// Never reads outside [p, p + n): the last vector overlaps the previous one
// (whose bytes were already clean, so any hit in it is new), and inputs
// shorter than a vector go to T::scan_small.
template <class T, class P>
inline std::size_t scan_vec(const std::uint8_t* p, std::size_t n, const P& pred) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  if (n < W) return T::scan_small(p, n, pred);
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const std::uint64_t m0 = T::bits(pred.vec(B::load_unaligned(p + i)));
    const std::uint64_t m1 = T::bits(pred.vec(B::load_unaligned(p + i + W)));
    if (m0 | m1) return m0 ? i + ctz64(m0) : i + W + ctz64(m1);
  }
  for (; i + W <= n; i += W) {
    const std::uint64_t m = T::bits(pred.vec(B::load_unaligned(p + i)));
    if (m) return i + ctz64(m);
  }
  if (i < n) {
    const std::uint64_t m = T::bits(pred.vec(B::load_unaligned(p + n - W)));
    if (m) return n - W + ctz64(m);
  }
  return n;
}

// ---------------------------------------------------------------- UTF-8

// For ISAs without a byte shuffle (SSE2): skip 64-byte all-ASCII blocks with
// vectors, run the automaton over the others.
template <class T>
inline bool validate_utf8_hybrid(const std::uint8_t* p, std::size_t n) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  Utf8Dfa dfa;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    B any = B::load_unaligned(p + i);
    for (std::size_t j = W; j < 64; j += W) any = any | B::load_unaligned(p + i + j);
    if (dfa.pending == 0 && T::is_ascii(any)) continue;
    if (!dfa.run(p + i, 64)) return false;
  }
  return dfa.run(p + i, n - i) && dfa.pending == 0;
}

// The "lookup" algorithm of Keiser & Lemire, "Validating UTF-8 In Less Than
// One Instruction Per Byte" (2021), as in simdutf's utf8_lookup4_algorithm.h:
// three 16-entry nibble lookups on (previous byte high, previous byte low,
// current byte high) whose AND is nonzero exactly where a two-byte pattern is
// invalid, plus a check that 3rd/4th bytes of long sequences are
// continuations. State carried between 64-byte blocks: the previous vector
// (for the cross-block shifts) and whether it ended inside a sequence.
constexpr std::uint8_t kTooShort = 1 << 0;    // 11______ 0_______ / 11______ 11______
constexpr std::uint8_t kTooLong = 1 << 1;     // 0_______ 10______
constexpr std::uint8_t kOverlong3 = 1 << 2;   // 11100000 100_____
constexpr std::uint8_t kTooLarge = 1 << 3;    // 11110100 1001____ etc (> U+10FFFF)
constexpr std::uint8_t kSurrogate = 1 << 4;   // 11101101 101_____
constexpr std::uint8_t kOverlong2 = 1 << 5;   // 1100000_ 10______
constexpr std::uint8_t kTooLarge1000 = 1 << 6;  // 11110101 1000____ etc
constexpr std::uint8_t kOverlong4 = 1 << 6;   // 11110000 1000____
constexpr std::uint8_t kTwoConts = 1 << 7;    // 10______ 10______
constexpr std::uint8_t kCarry = kTooShort | kTooLong | kTwoConts;

alignas(16) constexpr std::uint8_t kByte1High[16] = {
    // 0_______ : ASCII first
    kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,
    // 10______ : continuation first
    kTwoConts, kTwoConts, kTwoConts, kTwoConts,
    // 1100____, 1101____, 1110____, 1111____ : leads
    kTooShort | kOverlong2, kTooShort, kTooShort | kOverlong3 | kSurrogate,
    kTooShort | kTooLarge | kTooLarge1000 | kOverlong4};
alignas(16) constexpr std::uint8_t kByte1Low[16] = {
    kCarry | kOverlong3 | kOverlong2 | kOverlong4,  // ____0000
    kCarry | kOverlong2,                            // ____0001
    kCarry, kCarry,                                 // ____001_
    kCarry | kTooLarge,                             // ____0100
    kCarry | kTooLarge | kTooLarge1000,             // ____0101
    kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
    kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
    kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
    kCarry | kTooLarge | kTooLarge1000,
    kCarry | kTooLarge | kTooLarge1000 | kSurrogate,  // ____1101
    kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000};
alignas(16) constexpr std::uint8_t kByte2High[16] = {
    // ________ 0_______
    kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,
    // ________ 1000____
    kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge1000 | kOverlong4,
    // ________ 1001____
    kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge,
    // ________ 101_____
    kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,
    kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,
    // ________ 11______
    kTooShort, kTooShort, kTooShort, kTooShort};
// A vector ending in a lead byte that needs more bytes than the vector has
// left: its last three bytes exceed these (1111____, 111_____, 11______).
alignas(64) constexpr std::uint8_t kIncompleteMax[64] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1};

// The tables are loaded where they are used, not held in members: an
// all-ASCII input never touches them, and a short call pays no set-up.
// Loops over a block's vectors are fully unrolled so the vectors stay in
// registers.
template <class T>
struct Utf8Lookup {
  using B = typename T::B;
  static constexpr std::size_t kVecs = 64 / T::kWidth;

  B error = B(0);
  B prev_input = B(0);
  B prev_incomplete = B(0);

  void check_vec(const B& input) noexcept {
    const B prev1 = T::template prev<1>(input, prev_input);
    const B sc = T::lookup16(T::table16(kByte1High), T::shr4(prev1)) &
                 T::lookup16(T::table16(kByte1Low), prev1 & B(0x0F)) &
                 T::lookup16(T::table16(kByte2High), T::shr4(input));
    const B prev2 = T::template prev<2>(input, prev_input);
    const B prev3 = T::template prev<3>(input, prev_input);
    // Only 111_____ (resp. 1111____) two (three) bytes back leave the high
    // bit set: this byte must then be a continuation, which sc flags as
    // kTwoConts; the XOR cancels exactly those expected flags.
    const B must23 = T::subs(prev2, B(0xE0 - 0x80)) | T::subs(prev3, B(0xF0 - 0x80));
    error = error | ((must23 & B(0x80)) ^ sc);
    prev_input = input;
  }

  void check_block(const B (&v)[kVecs]) noexcept {
    B any = v[0];
#pragma GCC unroll 4
    for (std::size_t j = 1; j < kVecs; ++j) any = any | v[j];
    if (T::is_ascii(any)) {
      // An ASCII block right after an unfinished sequence is an error.
      error = error | prev_incomplete;
      prev_incomplete = B(0);
      prev_input = v[kVecs - 1];
      return;
    }
#pragma GCC unroll 4
    for (std::size_t j = 0; j < kVecs; ++j) check_vec(v[j]);
    prev_incomplete =
        T::subs(v[kVecs - 1], B::load_aligned(kIncompleteMax + 64 - T::kWidth));
  }

  bool ok() const noexcept { return !T::any_nonzero(error | prev_incomplete); }
};

// The whole algorithm from a clean state. Out of line so that its table
// and constant set-up stays off the all-ASCII path below.
template <class T>
__attribute__((noinline)) bool validate_utf8_lookup_full(const std::uint8_t* p,
                                                         std::size_t n) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  constexpr std::size_t V = 64 / W;
  Utf8Lookup<T> check;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    B v[V];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < V; ++j) v[j] = B::load_unaligned(p + i + j * W);
    check.check_block(v);
  }
  if (i < n) {
    // Zero padding is ASCII: a sequence cut by the end of input shows up as
    // kTooShort (a lead followed by ASCII).
    B v[V];
    T::load_partial(p + i, n - i, v);
    check.check_block(v);
  }
  return !T::any_nonzero(check.error | check.prev_incomplete);
}

template <class T>
inline typename T::B or_block(const std::uint8_t* p) noexcept {
  using B = typename T::B;
  B any = B::load_unaligned(p);
#pragma GCC unroll 4
  for (std::size_t j = T::kWidth; j < 64; j += T::kWidth) any = any | B::load_unaligned(p + j);
  return any;
}

// Fewer than 64 bytes, read within [p, p + n) only.
inline bool ascii_swar(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t acc = 0;
  if (n >= 8) {
    for (std::size_t j = 0; j + 8 <= n; j += 8) acc |= load64(p + j);
    acc |= load64(p + n - 8);
  } else if (n >= 4) {
    acc = load32(p) | load32(p + n - 4);
  } else {
    for (std::size_t j = 0; j < n; ++j) acc |= p[j];
  }
  return (acc & kHigh) == 0;
}

// Most WebSocket text (JSON) is ASCII: skip it block by block with one OR
// and one sign test per 64 bytes, and start the lookup algorithm at the
// first block that is not ASCII. Starting there with a clean state is
// exact: for the lookup, ASCII previous bytes behave like zeros (every
// ASCII high nibble has the same byte_1_high entry, every low nibble
// includes the same carry bits, and ASCII minus 0x60/0x70 saturates to 0),
// and an ASCII block leaves no sequence open.
template <class T>
inline bool validate_utf8_lookup(const std::uint8_t* p, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    if (!T::is_ascii(or_block<T>(p + i))) return validate_utf8_lookup_full<T>(p + i, n - i);
  }
  if (i == n) return true;
  bool ascii;
  if constexpr (T::kMaskedTail) {
    typename T::B v[1];
    T::load_partial(p + i, n - i, v);
    ascii = T::is_ascii(v[0]);
  } else if (n >= 64) {
    ascii = T::is_ascii(or_block<T>(p + n - 64));  // overlaps bytes known to be ASCII
  } else {
    ascii = ascii_swar(p, n);
  }
  return ascii || validate_utf8_lookup_full<T>(p + i, n - i);
}

// ---------------------------------------------------------------- unmask + UTF-8

// The server's masked Text frame in one pass: each vector is unmasked in
// registers, stored back, and validated from the register, so the validator
// never reloads bytes that were just stored (a second pass right after
// mask() costs store-forwarding stalls) and the caller pays one dispatch.
// Blocks are 64 bytes, a multiple of 4, so the key never rotates inside the
// loop. Every byte is unmasked even when the text is invalid: the result is
// exactly mask() followed by validate_utf8().

// 64 bytes of 0xFF then 64 of 0: loading W bytes at kKeep + 64 - r + j * W
// gives 0xFF in the lanes of vector j that lie below r.
alignas(64) constexpr std::uint8_t kKeep[128] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// The last r < 64 bytes without touching memory past p + r: copied into a
// zeroed block, unmasked there with the key cleared in the padding (which
// must stay zero, i.e. ASCII, for the validator), and copied back.
template <class T>
inline void unmask_partial_buffered(std::uint8_t* p, std::size_t r, const typename T::B& k,
                                    typename T::B (&v)[64 / T::kWidth]) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  alignas(64) std::uint8_t buf[64] = {};
  std::memcpy(buf, p, r);
#pragma GCC unroll 4
  for (std::size_t j = 0; j < 64 / W; ++j) {
    v[j] = B::load_aligned(buf + j * W) ^ (k & B::load_unaligned(kKeep + 64 - r + j * W));
    v[j].store_aligned(buf + j * W);
  }
  std::memcpy(p, buf, r);
}

// The last r < 64 bytes: unmasked and checked after the state of the
// blocks before them; returns the error bits. Kept out of line where the
// tail needs a stack block (AVX2, SSSE3), so the whole-block loop runs
// without a stack frame; the state goes in and out by value so the loop's
// accumulators stay in registers (a reference would pin them to memory and
// put a store-forwarding round trip in every iteration).
template <class T>
inline typename T::B unmask_validate_tail(std::uint8_t* p, std::size_t r, typename T::B k,
                                          typename T::B prev_input,
                                          typename T::B prev_incomplete) noexcept {
  Utf8Lookup<T> check;
  check.prev_input = prev_input;
  check.prev_incomplete = prev_incomplete;
  typename T::B v[64 / T::kWidth];
  T::unmask_partial(p, r, k, v);
  check.check_block(v);
  return check.error | check.prev_incomplete;
}
template <class T>
__attribute__((noinline)) typename T::B unmask_validate_tail_outlined(
    std::uint8_t* p, std::size_t r, typename T::B k, typename T::B prev_input,
    typename T::B prev_incomplete) noexcept {
  return unmask_validate_tail<T>(p, r, k, prev_input, prev_incomplete);
}

// The fused algorithm from a clean state; the first `done` (0 or 64) bytes
// are already unmasked in memory and only validated.
template <class T>
__attribute__((noinline)) bool unmask_validate_utf8_lookup_full(std::uint8_t* p, std::size_t n,
                                                                std::uint32_t key,
                                                                std::size_t done) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  constexpr std::size_t V = 64 / W;
  const B k = splat_key<T>(key);
  Utf8Lookup<T> check;
  std::size_t i = 0;
  if (done != 0) {
    B v[V];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < V; ++j) v[j] = B::load_unaligned(p + j * W);
    check.check_block(v);
    i = 64;
  }
  for (; i + 64 <= n; i += 64) {
    B v[V];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < V; ++j) {
      v[j] = B::load_unaligned(p + i + j * W) ^ k;
      v[j].store_unaligned(p + i + j * W);
    }
    check.check_block(v);
  }
  if (i < n) {
    B tail_error;
    if constexpr (T::kMaskedTail) {
      tail_error =
          unmask_validate_tail<T>(p + i, n - i, k, check.prev_input, check.prev_incomplete);
    } else {
      tail_error = unmask_validate_tail_outlined<T>(p + i, n - i, k, check.prev_input,
                                                    check.prev_incomplete);
    }
    return !T::any_nonzero(check.error | tail_error);
  }
  return check.ok();
}

// As validate_utf8_lookup: unmask and skip ASCII blocks, hand the rest to
// the full algorithm at the first block that is not ASCII (already
// unmasked and stored; its reload is forwarded from the same-size stores).
template <class T>
inline bool unmask_validate_utf8_lookup(std::uint8_t* p, std::size_t n,
                                        std::uint32_t key) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  const B k = splat_key<T>(key);
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    B any = B(0);
#pragma GCC unroll 4
    for (std::size_t j = 0; j < 64; j += W) {
      const B v = B::load_unaligned(p + i + j) ^ k;
      v.store_unaligned(p + i + j);
      any = any | v;
    }
    if (!T::is_ascii(any)) return unmask_validate_utf8_lookup_full<T>(p + i, n - i, key, 64);
  }
  if (i == n) return true;
  if constexpr (T::kMaskedTail) {
    B v[1];
    T::unmask_partial(p + i, n - i, k, v);
    Utf8Lookup<T> check;  // checks ASCII first
    check.check_block(v);
    return check.ok();
  }
  return unmask_validate_utf8_lookup_full<T>(p + i, n - i, key, 0);
}

// SSE2 (no byte shuffle): unmask 64-byte blocks in registers and skip the
// all-ASCII ones; the automaton reads back the others. After a failure the
// rest is only unmasked.
template <class T>
inline bool unmask_validate_utf8_hybrid(std::uint8_t* p, std::size_t n,
                                        std::uint32_t key) noexcept {
  using B = typename T::B;
  constexpr std::size_t W = T::kWidth;
  const B k = splat_key<T>(key);
  Utf8Dfa dfa;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    B any = B(0);
#pragma GCC unroll 4
    for (std::size_t j = 0; j < 64; j += W) {
      const B v = B::load_unaligned(p + i + j) ^ k;
      v.store_unaligned(p + i + j);
      any = any | v;
    }
    if (dfa.pending == 0 && T::is_ascii(any)) continue;
    if (!dfa.run(p + i, 64)) {
      mask_vec<T>(p + i + 64, p + i + 64, n - i - 64, key);
      return false;
    }
  }
  mask_vec<T>(p + i, p + i, n - i, key);
  return dfa.run(p + i, n - i) && dfa.pending == 0;
}

}  // namespace
}  // namespace tern::simd::internal

#endif  // TERN_CORE_SIMD_KERNEL_IMPL_H_
