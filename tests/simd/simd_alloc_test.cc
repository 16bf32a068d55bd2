// The SIMD entry points allocate nothing, on every ISA, including the first
// call that picks the kernel table.
#include <cstdint>
#include <vector>

#include "core/simd/http_scan.h"
#include "core/simd/isa.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::simd {
namespace {

TEST(SimdAlloc, ZeroAllocationsSteadyState) {
  std::vector<std::uint8_t> buf(4096, 'a'), out(4096);
  for (std::size_t i = 0; i + 1 < buf.size(); i += 7) buf[i] = 0xC3, buf[i + 1] = 0xA9;
  buf[4000] = '\r';
  tern::testing::AllocCounter count;  // before the first call: detection included
  std::size_t sink = 0;
  for (Isa isa : kAllIsas) {
    if (!force_isa(isa)) continue;
    for (int iter = 0; iter < 10000; ++iter) {
      const std::size_t n = 1 + (iter * 37) % 4000;
      mask(buf.data(), n, 0x12345678u, iter & 3);
      mask(buf.data(), n, 0x12345678u, iter & 3);  // undo
      mask_copy(out.data(), buf.data(), n, 0x9ABCDEF0u, 0);
      Utf8Validator v;
      sink += v.feed(buf.data(), n / 2) + v.feed(buf.data() + n / 2, n - n / 2);
      sink += validate_utf8(buf.data(), n);
      sink += unmask_validate_utf8(buf.data(), n, 0x0BADF00Du, iter & 3);
      mask(buf.data(), n, 0x0BADF00Du, iter & 3);  // undo
      sink += utf8_text_kernel(iter & 1)(buf.data(), n, 0);  // key 0: no change
      sink += find_line_end_or_ctl(buf.data(), buf.size()) + find_byte(buf.data(), n, ':');
    }
  }
  force_isa(best_isa());
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_GT(sink, 0u);
}

}  // namespace
}  // namespace tern::simd
