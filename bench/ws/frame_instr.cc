// Instruction-count driver for callgrind: runs N rounds of one tern parse
// workload exactly as frame_bench does. Per-message instructions are
// (Ir(2N) - Ir(N)) / N, which cancels start-up and setup:
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null bazel-out/k8-opt-bench/bin/bench/ws/frame_instr text_128 100000
//
// (valgrind cannot run AVX-512 code; the SIMD dispatch sees valgrind's CPUID
// and picks AVX2.)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/ws/workloads.h"
#include "core/buf/read_buf.h"
#include "core/ws/frame_reader.h"

namespace {

using tern::ws::bench::frame;
using tern::ws::bench::payload;

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
                        : frame(w == "batch" ? 0x82 : 0x81, payload(128), masked,
                                key0 ? tern::ws::bench::kZeroKey : tern::ws::bench::kKey);
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
