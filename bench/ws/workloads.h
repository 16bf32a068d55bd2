// File: workloads.h
//
// The frames the WebSocket benchmarks parse, shared by frame_bench (timings)
// and frame_instr (callgrind counts) so both measure the same bytes. Frames
// are built by the tests' hand-written encoder, not by FrameWriter.
#ifndef TERN_BENCH_WS_WORKLOADS_H_
#define TERN_BENCH_WS_WORKLOADS_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "tests/ws/ws_test_util.h"

namespace tern::ws::bench {

// A JSON market-data tick, repeated to the size needed: ASCII text, as most
// exchange feeds send.
inline std::string payload(std::size_t n) {
  static const std::string tick =
      R"({"e":"trade","s":"BTCUSDT","p":"43125.10","q":"0.015","T":1700000000123,"m":true},)";
  std::string s;
  while (s.size() < n) s += tick;
  s.resize(n);
  return s;
}

inline constexpr std::uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};
// A valid key under which unmasking rewrites identical bytes, so a masked
// workload needs no restore between rounds.
inline constexpr std::uint8_t kZeroKey[4] = {0, 0, 0, 0};

// One frame carrying `p`, masked with `key` (wire order) when `masked`.
inline testing::Bytes frame(std::uint8_t b0, const std::string& p, bool masked,
                            const std::uint8_t (&key)[4] = kKey) {
  std::optional<std::uint32_t> k;
  if (masked) {
    std::uint32_t v;
    std::memcpy(&v, key, 4);
    k = v;
  }
  return testing::frame(b0, testing::bytes(p), k);
}

}  // namespace tern::ws::bench

#endif  // TERN_BENCH_WS_WORKLOADS_H_
