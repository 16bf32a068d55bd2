// classify_http_blocks: the scalar reference and the entry point, which
// follows the ISA isa.h selected (so force_isa() pins these kernels too).
// One call classifies a whole head in the common case, so the switch below
// runs once per head, not once per line.
#include "core/simd/http_block_scan.h"

#include "core/simd/http_block_scan_kernels.h"
#include "core/simd/isa.h"

namespace tern::simd {

void classify_http_blocks_scalar(const std::uint8_t* data, std::size_t blocks,
                                 HttpBlockMasks* out) noexcept {
  for (std::size_t k = 0; k < blocks; ++k) {
    std::uint64_t ctl = 0, token = 0;
    for (unsigned i = 0; i < kHttpBlock; ++i) {
      const std::uint8_t b = data[k * kHttpBlock + i];
      if (internal::is_http_ctl(b)) ctl |= std::uint64_t{1} << i;
      if (internal::is_tchar(b)) token |= std::uint64_t{1} << i;
    }
    out[k] = {ctl, token};
  }
}

void classify_http_blocks_isa(Isa isa, const std::uint8_t* data, std::size_t blocks,
                              HttpBlockMasks* out) noexcept {
  switch (isa) {
    case Isa::kAvx512bw: return internal::classify_http_blocks_avx512bw(data, blocks, out);
    case Isa::kAvx2: return internal::classify_http_blocks_avx2(data, blocks, out);
    case Isa::kSsse3:  // nothing here uses pshufb: the SSE2 kernel
    case Isa::kSse2: break;
  }
  internal::classify_http_blocks_sse2(data, blocks, out);
}

void classify_http_blocks(const std::uint8_t* data, std::size_t blocks,
                          HttpBlockMasks* out) noexcept {
  classify_http_blocks_isa(active_isa(), data, blocks, out);
}

}  // namespace tern::simd
