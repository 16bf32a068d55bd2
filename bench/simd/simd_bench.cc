// SIMD component benchmarks: masking and UTF-8 validation, tern against
// Boost.Beast's own routines (the ones its stream runs on every frame) and
// memcpy as the bandwidth ceiling. Each workload is registered once per
// library as "<workload>/<library>"; "tern" uses the ISA picked at run time,
// "tern_<isa>" pins one kernel (force_isa) so the table shows every path the
// CPU has. The chosen ISA is printed in the context ("tern_isa") and as a
// label.
//
//   bazel build --config=bench //bench/simd:simd_bench
//   bazel-bin/bench/simd/simd_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true --benchmark_format=json > simd.json
//   python3 bench/report.py simd.json
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket/detail/mask.hpp>
#include <boost/beast/websocket/detail/utf8_checker.hpp>

#include "core/simd/isa.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"

namespace {

using tern::simd::Isa;

constexpr std::uint32_t kKey = 0x3DA1C27Fu;

// Pins `isa` for one benchmark run and restores the automatic choice after.
class PinIsa {
 public:
  PinIsa(benchmark::State& state, const Isa* isa) {
    if (isa != nullptr && !tern::simd::force_isa(*isa)) {
      state.SkipWithError("CPU lacks this ISA");
    }
    state.SetLabel(std::string(tern::simd::name(tern::simd::active_isa())));
  }
  ~PinIsa() { tern::simd::force_isa(tern::simd::best_isa()); }
};

void BM_mask_tern(benchmark::State& state, std::size_t n, const Isa* isa) {
  PinIsa pin(state, isa);
  std::vector<std::uint8_t> buf(n, 0x41);
  for (auto _ : state) {
    tern::simd::mask(buf.data(), n, kKey, 0);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Beast unmasks in place with a prepared key it rotates for the next piece.
void BM_mask_beast(benchmark::State& state, std::size_t n) {
  namespace wsd = boost::beast::websocket::detail;
  std::vector<std::uint8_t> buf(n, 0x41);
  for (auto _ : state) {
    wsd::prepared_key key;
    wsd::prepare_key(key, kKey);
    wsd::mask_inplace(boost::asio::mutable_buffer(buf.data(), n), key);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_memcpy(benchmark::State& state, std::size_t n) {
  std::vector<std::uint8_t> src(n, 0x41), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

std::vector<std::uint8_t> ascii_text(std::size_t n) {
  std::mt19937_64 rng(1);
  std::vector<std::uint8_t> s(n);
  for (auto& b : s) b = static_cast<std::uint8_t>(0x20 + rng() % 0x5F);
  return s;
}

// "Mixed": seeded text where ~60% of characters are ASCII and the rest are
// spread over 2-, 3- and 4-byte sequences (Latin accents, CJK, emoji), i.e.
// roughly 65% of the 4096 bytes are non-ASCII. Cut at a character boundary
// and padded with ASCII to exactly n bytes.
std::vector<std::uint8_t> mixed_text(std::size_t n) {
  std::mt19937_64 rng(2);
  std::vector<std::uint8_t> s;
  while (s.size() + 4 <= n) {
    const int r = static_cast<int>(rng() % 100);
    if (r < 60) {
      s.push_back(static_cast<std::uint8_t>(0x20 + rng() % 0x5F));
    } else if (r < 75) {  // U+0080..U+07FF
      const std::uint32_t cp = 0x80 + rng() % 0x780;
      s.insert(s.end(), {static_cast<std::uint8_t>(0xC0 | (cp >> 6)),
                         static_cast<std::uint8_t>(0x80 | (cp & 0x3F))});
    } else if (r < 92) {  // U+4E00..U+9FFF
      const std::uint32_t cp = 0x4E00 + rng() % 0x5200;
      s.insert(s.end(), {static_cast<std::uint8_t>(0xE0 | (cp >> 12)),
                         static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
                         static_cast<std::uint8_t>(0x80 | (cp & 0x3F))});
    } else {  // U+1F300..U+1F6FF
      const std::uint32_t cp = 0x1F300 + rng() % 0x400;
      s.insert(s.end(), {static_cast<std::uint8_t>(0xF0 | (cp >> 18)),
                         static_cast<std::uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
                         static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
                         static_cast<std::uint8_t>(0x80 | (cp & 0x3F))});
    }
  }
  s.resize(n, 'x');
  return s;
}

// A text message is validated by the streaming validator (what the frame
// reader runs); "tern_oneshot" is validate_utf8 on the same bytes.
void BM_utf8_tern(benchmark::State& state, std::vector<std::uint8_t> (*make)(std::size_t),
                  std::size_t n, const Isa* isa) {
  PinIsa pin(state, isa);
  const std::vector<std::uint8_t> s = make(n);
  if (!tern::simd::validate_utf8_scalar(s.data(), n)) state.SkipWithError("bad input");
  for (auto _ : state) {
    tern::simd::Utf8Validator v;
    bool ok = v.feed(s.data(), n) && v.complete();
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_utf8_tern_oneshot(benchmark::State& state,
                          std::vector<std::uint8_t> (*make)(std::size_t), std::size_t n) {
  PinIsa pin(state, nullptr);
  const std::vector<std::uint8_t> s = make(n);
  for (auto _ : state) {
    bool ok = tern::simd::validate_utf8(s.data(), n);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_utf8_beast(benchmark::State& state, std::vector<std::uint8_t> (*make)(std::size_t),
                   std::size_t n) {
  const std::vector<std::uint8_t> s = make(n);
  boost::beast::websocket::detail::utf8_checker checker;
  for (auto _ : state) {
    checker.reset();
    bool ok = checker.write(s.data(), n) && checker.finish();
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Unmask + validate of a masked Text payload, as a server's frame reader
// does. The key is 0 so the bytes stay the same plaintext every round (no
// restore copy in the loop; the kernels do the same loads, XORs and stores
// for any key). "tern" = the fused unmask_validate_utf8; "tern_two_pass" =
// mask() then validate_utf8() (the reader before the fused kernel); Beast =
// mask_inplace + utf8_checker, what its stream runs on a masked frame.
void BM_unmask_utf8_tern(benchmark::State& state,
                         std::vector<std::uint8_t> (*make)(std::size_t), std::size_t n,
                         const Isa* isa) {
  PinIsa pin(state, isa);
  std::vector<std::uint8_t> s = make(n);
  for (auto _ : state) {
    bool ok = tern::simd::unmask_validate_utf8(s.data(), n, 0);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_unmask_utf8_two_pass(benchmark::State& state,
                             std::vector<std::uint8_t> (*make)(std::size_t), std::size_t n) {
  PinIsa pin(state, nullptr);
  std::vector<std::uint8_t> s = make(n);
  for (auto _ : state) {
    tern::simd::mask(s.data(), n, 0);
    bool ok = tern::simd::validate_utf8(s.data(), n);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_unmask_utf8_beast(benchmark::State& state,
                          std::vector<std::uint8_t> (*make)(std::size_t), std::size_t n) {
  namespace wsd = boost::beast::websocket::detail;
  std::vector<std::uint8_t> s = make(n);
  wsd::utf8_checker checker;
  for (auto _ : state) {
    wsd::prepared_key key;
    wsd::prepare_key(key, 0);
    wsd::mask_inplace(boost::asio::mutable_buffer(s.data(), n), key);
    checker.reset();
    bool ok = checker.write(s.data(), n) && checker.finish();
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

const Isa kPinned[] = {Isa::kSse2, Isa::kSsse3, Isa::kAvx2, Isa::kAvx512bw};

int register_all() {
  benchmark::AddCustomContext("tern_isa",
                              std::string(tern::simd::name(tern::simd::best_isa())));
  for (std::size_t n : {128u, 4096u, 1048576u}) {
    const std::string w = "ws_mask_" + std::to_string(n);
    benchmark::RegisterBenchmark((w + "/tern").c_str(), BM_mask_tern, n, nullptr);
    benchmark::RegisterBenchmark((w + "/beast").c_str(), BM_mask_beast, n);
    benchmark::RegisterBenchmark((w + "/memcpy").c_str(), BM_memcpy, n);
    for (const Isa& isa : kPinned) {
      if (!tern::simd::cpu_supports(isa)) continue;
      benchmark::RegisterBenchmark((w + "/tern_" + std::string(tern::simd::name(isa))).c_str(),
                                   BM_mask_tern, n, &isa);
    }
  }
  struct Text {
    const char* workload;
    std::vector<std::uint8_t> (*make)(std::size_t);
  };
  for (const Text& t : {Text{"utf8_validate_ascii_4096", ascii_text},
                        Text{"utf8_validate_mixed_4096", mixed_text}}) {
    const std::string w = t.workload;
    benchmark::RegisterBenchmark((w + "/tern").c_str(), BM_utf8_tern, t.make, 4096, nullptr);
    benchmark::RegisterBenchmark((w + "/beast").c_str(), BM_utf8_beast, t.make, 4096);
    benchmark::RegisterBenchmark((w + "/tern_oneshot").c_str(), BM_utf8_tern_oneshot, t.make,
                                 4096);
    for (const Isa& isa : kPinned) {
      if (!tern::simd::cpu_supports(isa)) continue;
      benchmark::RegisterBenchmark((w + "/tern_" + std::string(tern::simd::name(isa))).c_str(),
                                   BM_utf8_tern, t.make, 4096, &isa);
    }
  }
  struct Fused {
    const char* workload;
    std::vector<std::uint8_t> (*make)(std::size_t);
    std::size_t n;
  };
  for (const Fused& t : {Fused{"ws_unmask_utf8_ascii_128", ascii_text, 128},
                         Fused{"ws_unmask_utf8_ascii_4096", ascii_text, 4096},
                         Fused{"ws_unmask_utf8_mixed_4096", mixed_text, 4096}}) {
    const std::string w = t.workload;
    benchmark::RegisterBenchmark((w + "/tern").c_str(), BM_unmask_utf8_tern, t.make, t.n,
                                 nullptr);
    benchmark::RegisterBenchmark((w + "/beast").c_str(), BM_unmask_utf8_beast, t.make, t.n);
    benchmark::RegisterBenchmark((w + "/tern_two_pass").c_str(), BM_unmask_utf8_two_pass,
                                 t.make, t.n);
    for (const Isa& isa : kPinned) {
      if (!tern::simd::cpu_supports(isa)) continue;
      benchmark::RegisterBenchmark((w + "/tern_" + std::string(tern::simd::name(isa))).c_str(),
                                   BM_unmask_utf8_tern, t.make, t.n, &isa);
    }
  }
  return 0;
}

const int kRegistered = register_all();

}  // namespace
