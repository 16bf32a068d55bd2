// Differential fuzzing of classify_http_blocks: every ISA the CPU runs must
// produce exactly the scalar reference's masks, and the first control bit
// must be where find_line_end_or_ctl_scalar stops. The input is copied into
// a heap block of exactly its size rounded up to whole 64-byte blocks (the
// kernel reads exactly that much; ASan reports anything more); the rounding
// bytes repeat the input so they are fuzzed too.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/simd/http_block_scan.h"
#include "core/simd/http_scan.h"
#include "core/simd/isa.h"
#include "fuzz/check.h"

namespace {

using tern::fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tern::simd;
  if (size == 0) return 0;
  const std::size_t blocks = (size + kHttpBlock - 1) / kHttpBlock;
  const std::size_t bytes = blocks * kHttpBlock;
  std::uint8_t* buf = static_cast<std::uint8_t*>(std::malloc(bytes));
  for (std::size_t i = 0; i < bytes; ++i) buf[i] = data[i % size];
  std::vector<HttpBlockMasks> want(blocks), got(blocks);
  classify_http_blocks_scalar(buf, blocks, want.data());
  for (Isa isa : kAllIsas) {
    if (!cpu_supports(isa)) continue;
    classify_http_blocks_isa(isa, buf, blocks, got.data());
    for (std::size_t k = 0; k < blocks; ++k) {
      check(got[k].ctl == want[k].ctl, "ctl mask matches the reference");
      check(got[k].token == want[k].token, "tchar mask matches the reference");
    }
  }
  // The entry point follows the active ISA.
  classify_http_blocks(buf, blocks, got.data());
  std::size_t first = bytes;
  for (std::size_t k = 0; k < blocks && first == bytes; ++k) {
    check(got[k].ctl == want[k].ctl && got[k].token == want[k].token, "dispatched masks match the reference");
    if (want[k].ctl != 0) first = k * kHttpBlock + static_cast<std::size_t>(__builtin_ctzll(want[k].ctl));
  }
  check(first == find_line_end_or_ctl_scalar(buf, bytes), "first ctl bit is find_line_end_or_ctl");
  std::free(buf);
  return 0;
}
