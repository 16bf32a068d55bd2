// Shared by the handshake fuzz targets: the input's first byte k and the next
// k bytes are piece sizes (1..256) for feeding the rest; the remainder is fed
// in one last piece. Returns the pieces for `n` payload bytes.
#ifndef TERN_FUZZ_WS_HANDSHAKE_FUZZ_UTIL_H_
#define TERN_FUZZ_WS_HANDSHAKE_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/buf/read_buf.h"
#include "fuzz/check.h"

namespace tern::fuzz {


struct SplitInput {
  std::vector<std::size_t> pieces;
  std::string_view payload;
};

inline bool split_input(const std::uint8_t* data, std::size_t size, SplitInput& out) {
  if (size < 1) return false;
  const std::size_t k = data[0] % 16;
  if (size < 1 + k) return false;
  out.payload = {reinterpret_cast<const char*>(data + 1 + k), size - 1 - k};
  std::size_t left = out.payload.size();
  for (std::size_t i = 0; i < k && left > 0; ++i) {
    const std::size_t n = std::min<std::size_t>(left, std::size_t{data[1 + i]} + 1);
    out.pieces.push_back(n);
    left -= n;
  }
  if (left > 0) out.pieces.push_back(left);
  return true;
}

// Appends s to in; false if it does not fit.
inline bool put(ReadBuf& in, std::string_view s) {
  if (in.spare().size() < s.size()) return false;
  if (!s.empty()) std::memcpy(in.spare().data(), s.data(), s.size());
  return in.commit(s.size());
}

}  // namespace tern::fuzz

#endif  // TERN_FUZZ_WS_HANDSHAKE_FUZZ_UTIL_H_
