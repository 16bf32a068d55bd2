// File: head_scan.h (internal to core/http)
//
// What the two head parsers of MessageParser share (head_parser.cc): the
// general one, which resumes anywhere and judges every error, and the
// whole-head fast path. Byte helpers, the folded compare for framing field
// names, value trimming, and BlockWindow, the head's CR/LF/control and tchar
// bitmasks (simd::classify_http_blocks) for one next() call.
#ifndef TERN_CORE_HTTP_HEAD_SCAN_H_
#define TERN_CORE_HTTP_HEAD_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "core/buf/read_buf.h"
#include "core/http/tokens.h"
#include "core/simd/http_block_scan.h"

namespace tern::http::detail {

// The header scans may load this far past the readable bytes.
static_assert(ReadBuf::kPadding >= 64, "http_scan kernels over-read 64 bytes");
static_assert(ReadBuf::kPadding >= simd::kHttpBlock,
              "BlockWindow classifies whole blocks past the last byte");

constexpr bool is_ows(std::uint8_t c) { return c == ' ' || c == '\t'; }
constexpr bool is_digit(std::uint8_t c) { return static_cast<unsigned>(c - '0') < 10u; }

inline std::string_view view(const std::uint8_t* p, std::size_t begin,
                             std::size_t end) {
  return {reinterpret_cast<const char*>(p) + begin, end - begin};
}

// "\r\n" as a little-endian 16-bit load.
constexpr std::uint16_t kCrLf = 0x0A0D;
inline std::uint16_t load16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline unsigned ctz(std::uint64_t m) { return static_cast<unsigned>(__builtin_ctzll(m)); }

// Classifies from `from` up to `kBlocks` blocks of p (as many as reach
// `end`) into out, with the ctl bits at and past `end` forced to 1, so a
// search for the next control byte stops at `end` at the latest. Returns the
// number of blocks classified (at least 1 when from < end).
template <std::size_t kBlocks>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::size_t classify_window(
    const std::uint8_t* p, std::size_t from, std::size_t end,
    simd::HttpBlockMasks* out) noexcept {
  const std::size_t avail = end - from;
  std::size_t blocks = (avail + simd::kHttpBlock - 1) / simd::kHttpBlock;
  if (blocks > kBlocks) blocks = kBlocks;
  simd::classify_http_blocks(p + from, blocks, out);
  if (avail < blocks * simd::kHttpBlock) {
    out[avail / 64].ctl |= ~std::uint64_t{0} << (avail % 64);
  }
  return blocks;
}

// First non-tchar at or after k, by table: for a field line that began
// before the current window. p[k..] holds a CR (not a tchar) at the latest;
// a four-byte step may look up to 3 bytes past it, into the LF, later data
// or the ReadBuf padding.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::size_t token_end_by_table(
    const std::uint8_t* p, std::size_t k) noexcept {
  // Bitwise AND of the four (as unsigned: clang warns on bool & bool): one
  // branch per step.
  while ((unsigned{is_token_char(p[k])} & unsigned{is_token_char(p[k + 1])} &
          unsigned{is_token_char(p[k + 2])} & unsigned{is_token_char(p[k + 3])}) != 0) {
    k += 4;
  }
  while (is_token_char(p[k])) ++k;
  return k;
}

// The value of a field line whose ':' is at colon and CR at cr, without the
// OWS around it (RFC 9112 §5.1). One compare each side in the usual case
// (one SP before, none after): SP, HTAB and the CR of an empty value are
// the only bytes <= 0x20 that can be there.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::string_view field_value(
    const std::uint8_t* p, std::size_t colon, std::size_t cr) noexcept {
  std::size_t v = colon + 1;
  v += p[v] == ' ';
  if (ABSL_PREDICT_FALSE(p[v] <= ' ')) {
    while (is_ows(p[v])) ++v;
  }
  std::size_t e = cr;
  if (ABSL_PREDICT_FALSE(p[e - 1] <= ' ')) {
    while (e > v && is_ows(p[e - 1])) --e;
  }
  return view(p, v, e);
}

// The head's line ends and field-name ends, from bitmasks of up to kBlocks
// 64-byte blocks classified in one call (simd::classify_http_blocks), so the
// per-line work is a few bit operations instead of a scan call per line.
// Lives for one next() call (p and n are that call's buffer). Blocks are
// classified on demand from the first position searched, never twice, so
// trickled input still costs O(n) (plus one block per call). The last block
// may extend past n into the ReadBuf padding or spare bytes: its ctl bits
// from n on are forced to 1, so every search stops at n at the latest.
class BlockWindow {
 public:
  static constexpr std::size_t kBlocks = 4;

  BlockWindow(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}

  // First CR, LF or control byte (other than HTAB) at or after s, or n.
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::size_t find_ctl(std::size_t s) noexcept {
    for (;;) {
      std::size_t rel = s - base_;  // wraps (>= span_) when s < base_
      if (ABSL_PREDICT_FALSE(rel >= span_)) {
        if (s >= n_) return n_;
        fill(s);
        rel = 0;
      }
      const std::uint64_t m = masks_[rel / 64].ctl >> (rel % 64);
      if (ABSL_PREDICT_TRUE(m != 0)) return s + ctz(m);
      s += 64 - rel % 64;
    }
  }

  // True if s lies in the classified bytes (token_end may be asked).
  bool covers(std::size_t s) const noexcept { return s - base_ < span_; }

  // First non-tchar at or after s. Precondition: covers(s), and a control
  // byte before n follows s inside the window (the line's CR), which stops
  // the search.
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::size_t token_end(std::size_t s) const noexcept {
    std::size_t rel = s - base_;
    for (;;) {
      const std::uint64_t m = ~masks_[rel / 64].token >> (rel % 64);
      if (ABSL_PREDICT_TRUE(m != 0)) return base_ + rel + ctz(m);
      rel += 64 - rel % 64;
    }
  }

 private:
  void fill(std::size_t s) noexcept {
    span_ = classify_window<kBlocks>(p_, s, n_, masks_) * simd::kHttpBlock;
    base_ = s;
  }

  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t base_ = 0;
  std::size_t span_ = 0;
  simd::HttpBlockMasks masks_[kBlocks];
};

}  // namespace tern::http::detail

#endif  // TERN_CORE_HTTP_HEAD_SCAN_H_
