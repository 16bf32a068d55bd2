// File: fuzz_util.h
//
// Shared by the HTTP reader fuzz targets: the input header, split plans drawn
// from a seed byte, and an invariant check that aborts with a message.
//
// Input layout: [flags][seed][wire bytes...]
//   flags bits 0-1: request method the response answers (GET, HEAD, CONNECT,
//                   POST); bit 2: the peer closes after the wire bytes;
//                   bits 3-4: limits variant; bits 5-7: buffer capacity index.
//   seed: split plan (0 = one byte at a time).
#ifndef TERN_FUZZ_HTTP_FUZZ_UTIL_H_
#define TERN_FUZZ_HTTP_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "fuzz/check.h"
#include "core/http/limits.h"
#include "core/http/method.h"

namespace tern::http::fuzz {

using ::tern::fuzz::check;

struct Input {
  Method method;
  bool eof;
  Limits limits;
  std::size_t capacity;  // for targets that use a small buffer
  std::uint8_t seed;
  std::string_view wire;
};

inline bool parse_input(const std::uint8_t* data, std::size_t size, Input* in) {
  if (size < 2) return false;
  static constexpr Method kMethods[] = {Method::Get, Method::Head, Method::Connect,
                                        Method::Post};
  static constexpr std::size_t kCapacities[] = {48, 64, 96, 128, 192, 256, 512, 4096};
  in->method = kMethods[data[0] & 3];
  in->eof = (data[0] >> 2) & 1;
  switch ((data[0] >> 3) & 3) {
    case 0: in->limits = {}; break;
    case 1: in->limits = {.max_header_bytes = 64, .max_headers = 4, .max_body_size = 16}; break;
    case 2: in->limits = {.max_header_bytes = 200, .max_headers = 1, .max_body_size = 1}; break;
    default: in->limits = {.max_header_bytes = 1 << 20, .max_headers = 200,
                           .max_body_size = 1 << 20}; break;
  }
  in->capacity = kCapacities[data[0] >> 5];
  in->seed = data[1];
  in->wire = {reinterpret_cast<const char*>(data + 2), size - 2};
  return true;
}

// Piece sizes summing to n: bytewise for seed 0, else pseudo-random pieces of
// 1..(seed % 32 + 1) bytes.
inline std::vector<std::size_t> pieces_from_seed(std::size_t n, std::uint8_t seed) {
  std::vector<std::size_t> pieces;
  std::uint32_t x = seed * 2654435761u + 1;
  const std::size_t max = seed == 0 ? 1 : seed % 32 + 1;
  while (n > 0) {
    x = x * 1664525u + 1013904223u;
    std::size_t k = 1 + (x >> 16) % max;
    if (k > n) k = n;
    pieces.push_back(k);
    n -= k;
  }
  return pieces;
}

}  // namespace tern::http::fuzz

#endif  // TERN_FUZZ_HTTP_FUZZ_UTIL_H_
