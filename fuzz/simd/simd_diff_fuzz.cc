// Differential fuzzing of the SIMD kernels (simdutf's fuzz/misc.cpp idea):
// every ISA the CPU runs, and the scalar references, must agree on
//   - UTF-8 validity of the payload (one-shot, and streaming over split
//     points taken from the input, failing on exactly the piece where
//     byte-at-a-time feeding fails),
//   - masking (in place and copying, at the input's phase),
//   - the fused unmask + validate kernel on the payload masked at the
//     input's key and phase (bytes restored exactly, same verdict), and the
//     kernel pointers utf8_text_kernel() hands out,
//   - both HTTP scans.
// Input: [key:4][phase/byte:1][nsplits:1][splits:nsplits][payload...]. The
// payload is copied into a heap block of exactly its size so ASan reports
// any read past it (the kernels promise none).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/simd/http_scan.h"
#include "core/simd/isa.h"
#include "fuzz/check.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"

namespace {

using tern::simd::Isa;

using tern::fuzz::check;

// Index of the piece on which streaming reports failure, or pieces.size().
std::size_t failing_piece(const std::uint8_t* p, const std::vector<std::size_t>& pieces,
                          bool* complete) {
  tern::simd::Utf8Validator v;
  std::size_t at = 0, failed_at = pieces.size();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const bool ok = v.feed(p + at, pieces[i]);
    at += pieces[i];
    if (!ok && failed_at == pieces.size()) failed_at = i;
    check(ok == (failed_at == pieces.size()), "streaming failure is sticky");
  }
  *complete = v.complete();
  return failed_at;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return 0;
  std::uint32_t key;
  std::memcpy(&key, data, 4);
  const std::uint8_t phase_byte = data[4];
  const std::size_t nsplits = data[5] % 8;
  if (size < 6 + nsplits) return 0;
  const std::uint8_t* split_bytes = data + 6;
  const std::size_t n = size - 6 - nsplits;
  const std::vector<std::uint8_t> payload(data + 6 + nsplits, data + size);
  const std::uint8_t* p = payload.data();

  // Piece sizes from the split bytes (as fractions of what is left).
  std::vector<std::size_t> pieces;
  std::size_t left = n;
  for (std::size_t i = 0; i < nsplits && left > 0; ++i) {
    const std::size_t len = split_bytes[i] % (left + 1);
    pieces.push_back(len);
    left -= len;
  }
  pieces.push_back(left);
  // Byte-at-a-time failure position, mapped to the piece containing it.
  std::vector<std::size_t> bytewise(n, 1);
  bool bytewise_complete = false;
  const std::size_t bad_byte = failing_piece(p, bytewise, &bytewise_complete);
  std::size_t expect_piece = pieces.size();
  if (bad_byte < n) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      at += pieces[i];
      if (bad_byte < at) {
        expect_piece = i;
        break;
      }
    }
  }

  const bool valid = tern::simd::validate_utf8_scalar(p, n);
  std::vector<std::uint8_t> want_mask(payload);
  tern::simd::mask_scalar(want_mask.data(), n, key, phase_byte);
  const std::size_t want_ctl = tern::simd::find_line_end_or_ctl_scalar(p, n);
  const std::size_t want_byte = tern::simd::find_byte_scalar(p, n, phase_byte);
  check(bytewise_complete == valid, "byte-by-byte streaming matches the reference");

  for (Isa isa : tern::simd::kAllIsas) {
    if (!tern::simd::force_isa(isa)) continue;
    check(tern::simd::validate_utf8(p, n) == valid, "validate_utf8 matches the reference");
    bool complete = false;
    check(failing_piece(p, pieces, &complete) == expect_piece, "streaming fails on the same piece");
    check(complete == valid, "streaming completes iff valid");

    std::vector<std::uint8_t> m(payload);
    tern::simd::mask(m.data(), n, key, phase_byte);
    check(m == want_mask, "mask matches the reference");
    std::vector<std::uint8_t> c(n);
    tern::simd::mask_copy(c.data(), p, n, key, phase_byte);
    check(c == want_mask, "mask_copy matches the reference");

    // The payload as the plaintext of a masked Text frame.
    std::vector<std::uint8_t> f(want_mask);
    check(tern::simd::unmask_validate_utf8(f.data(), n, key, phase_byte) == valid, "fused verdict matches the reference");
    check(f == payload, "fused unmask matches the reference");
    std::vector<std::uint8_t> f0(payload);
    tern::simd::mask_scalar(f0.data(), n, key);
    check(tern::simd::utf8_text_kernel(true)(f0.data(), n, key) == valid, "masked text kernel verdict");
    check(f0 == payload, "masked text kernel unmasks");
    check(tern::simd::utf8_text_kernel(false)(f0.data(), n, key) == valid, "unmasked text kernel verdict");
    check(f0 == payload, "unmasked text kernel leaves the bytes");

    check(tern::simd::find_line_end_or_ctl(p, n) == want_ctl, "find_line_end_or_ctl matches the reference");
    check(tern::simd::find_byte(p, n, phase_byte) == want_byte, "find_byte matches the reference");
  }
  tern::simd::force_isa(tern::simd::best_isa());
  return 0;
}
