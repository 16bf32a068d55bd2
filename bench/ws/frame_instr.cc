// Instruction-count driver for callgrind: runs N rounds of one tern parse
// workload exactly as frame_bench does. Per-message instructions are
// (Ir(2N) - Ir(N)) / N, which cancels start-up and setup:
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//     bazel-out/k8-opt-bench/bin/bench/ws/frame_instr text_128 100000
//
// (valgrind cannot run AVX-512 code; the SIMD dispatch sees valgrind's CPUID
// and picks AVX2.)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/ws/frame_reader.h"

namespace {

std::string payload(std::size_t n) {
  static const std::string tick =
      R"({"e":"trade","s":"BTCUSDT","p":"43125.10","q":"0.015","T":1700000000123,"m":true},)";
  std::string s;
  while (s.size() < n) s += tick;
  s.resize(n);
  return s;
}

std::vector<std::uint8_t> frame(std::uint8_t b0, const std::string& p, bool masked,
                                bool zero_key = false) {
  static const std::uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};
  static const std::uint8_t kZero[4] = {0, 0, 0, 0};
  const std::uint8_t* key = zero_key ? kZero : kKey;
  std::vector<std::uint8_t> f{b0};
  const std::size_t n = p.size();
  const std::uint8_t m = masked ? 0x80 : 0;
  if (n < 126) {
    f.push_back(static_cast<std::uint8_t>(m | n));
  } else {
    f.push_back(m | 126);
    f.push_back(static_cast<std::uint8_t>(n >> 8));
    f.push_back(static_cast<std::uint8_t>(n));
  }
  if (masked) f.insert(f.end(), key, key + 4);
  for (std::size_t i = 0; i < n; ++i) {
    f.push_back(static_cast<std::uint8_t>(p[i]) ^ (masked ? key[i % 4] : 0));
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: %s text_128|binary_40|masked_text_128|masked_key0_text_128|batch N\n",
                 argv[0]);
    return 2;
  }
  const std::string w = argv[1];
  const long rounds = std::atol(argv[2]);
  const bool key0 = w == "masked_key0_text_128";  // no restore needed (frame_bench.cc)
  const bool masked = w == "masked_text_128" || key0;
  const auto wire = w == "binary_40"
                        ? frame(0x82, payload(40), false)
                        : frame(w == "batch" ? 0x82 : 0x81, payload(128), masked, key0);
  tern::ReadBuf buf(1 << 16);
  tern::ws::FrameReader reader(masked ? tern::ws::Role::Server : tern::ws::Role::Client);
  std::size_t sum = 0;
  if (w == "batch") {
    std::vector<std::uint8_t> all;
    for (int i = 0; i < 100; ++i) all.insert(all.end(), wire.begin(), wire.end());
    std::memcpy(buf.spare().data(), all.data(), all.size());
    (void)buf.commit(all.size());
    for (long i = 0; i < rounds; ++i) {
      tern::ws::ReadResult r = reader.next(buf);
      if (r.status != tern::ws::ReadStatus::Message) {
        (void)buf.commit(all.size());
        r = reader.next(buf);
      }
      sum += r.message.payload.size();
    }
  } else {
    std::memcpy(buf.spare().data(), wire.data(), wire.size());
    for (long i = 0; i < rounds; ++i) {
      if (masked && !key0) std::memcpy(buf.spare().data(), wire.data(), wire.size());
      (void)buf.commit(wire.size());
      tern::ws::ReadResult r = reader.next(buf);
      sum += r.message.payload.size();
      (void)reader.next(buf);
    }
  }
  std::printf("%zu\n", sum);
  return sum == 0;
}
