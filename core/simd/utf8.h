// File: utf8.h
//
// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above
// U+10FFFF) for WebSocket text. Utf8Validator is streaming: it carries an
// incomplete sequence from one feed() to the next, so a message split across
// reads or fragments is validated once, and it fails at the first byte that
// can no longer begin or continue valid UTF-8 even before the sequence is
// complete (RFC 6455 §8.1 "fail fast"). It owns no memory.
#ifndef TERN_CORE_SIMD_UTF8_H_
#define TERN_CORE_SIMD_UTF8_H_

#include <cstddef>
#include <cstdint>

namespace tern::simd {

class Utf8Validator {
 public:
  // Validates the next bytes. Returns false, and stays failed until reset(),
  // as soon as the input seen so far cannot be a prefix of valid UTF-8.
  bool feed(const std::uint8_t* data, std::size_t n) noexcept;
  // True if everything fed so far is valid and no sequence is left open.
  bool complete() const noexcept { return !failed_ && pending_ == 0; }
  bool failed() const noexcept { return failed_; }
  void reset() noexcept { state_ = 0; pending_ = 0; failed_ = false; }

 private:
  std::uint32_t state_ = 0;   // scalar DFA state carried across feeds
  std::uint8_t pending_ = 0;  // continuation bytes still expected
  bool failed_ = false;
};

// One-shot validation of a complete string.
bool validate_utf8(const std::uint8_t* data, std::size_t n) noexcept;
// Byte-at-a-time reference the SIMD path is tested against.
bool validate_utf8_scalar(const std::uint8_t* data, std::size_t n) noexcept;

// A server's masked Text payload in one pass: unmasks data in place exactly
// as mask(data, n, key, phase) does (mask.h, RFC 6455 §5.3) and returns
// whether the unmasked bytes are one complete valid UTF-8 string, like
// validate_utf8. Each vector is unmasked in registers, stored and validated
// from the register: one dispatched call and one pass instead of two, and no
// reload of bytes just stored. All n bytes are unmasked even when the text
// is invalid. Whole strings only (a fragment continuing a sequence needs
// mask() and Utf8Validator).
bool unmask_validate_utf8(std::uint8_t* data, std::size_t n, std::uint32_t key,
                          std::size_t phase = 0) noexcept;
// The kernel behind unmask_validate_utf8 (masked; phase 0) or validate_utf8
// (not masked: key ignored, data only read) on the ISA active now, for a
// caller that checks many short payloads and wants one indirect call and no
// dispatch load per payload (the frame reader's fast path keeps one from
// construction). It stays on that ISA after a later force_isa().
using Utf8TextKernel = bool (*)(std::uint8_t* data, std::size_t n, std::uint32_t key) noexcept;
Utf8TextKernel utf8_text_kernel(bool masked) noexcept;

// Reference: mask_scalar() then validate_utf8_scalar().
bool unmask_validate_utf8_scalar(std::uint8_t* data, std::size_t n, std::uint32_t key,
                                 std::size_t phase = 0) noexcept;

}  // namespace tern::simd

#endif  // TERN_CORE_SIMD_UTF8_H_
