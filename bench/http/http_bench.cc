// HTTP/1.1 client workloads, tern vs Boost.Beast, in one binary (names
// "<workload>/<library>", see workloads.h). Each benchmark also reports
// allocations per operation, counted by the operator new replacement below.
//
//   bazel build --config=bench //bench/http:http_bench
//   bazel-bin/bench/http/http_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true --benchmark_format=json > out.json
//   python3 bench/report.py out.json
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <new>

#include "bench/http/workloads.h"

namespace {
std::size_t g_allocs = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

template <typename Workload>
void run(benchmark::State& state) {
  Workload w;
  benchmark::DoNotOptimize(w.run());  // warm up; first-use setup (SIMD dispatch)
  const std::size_t before = g_allocs;
  for (auto _ : state) benchmark::DoNotOptimize(w.run());
  state.counters["allocs_per_op"] = benchmark::Counter(
      static_cast<double>(g_allocs - before), benchmark::Counter::kAvgIterations);
}

using namespace bench_http;

BENCHMARK(run<TernWritePost>)->Name("http_write_post/tern");
BENCHMARK(run<BeastWritePost>)->Name("http_write_post/beast");
BENCHMARK(run<TernParseCl>)->Name("http_parse_response_cl/tern");
BENCHMARK(run<BeastParseCl>)->Name("http_parse_response_cl/beast");
BENCHMARK(run<BeastViewsParseCl>)->Name("http_parse_response_cl/beast_views");
BENCHMARK(run<TernParseChunked>)->Name("http_parse_response_chunked/tern");
BENCHMARK(run<BeastParseChunked>)->Name("http_parse_response_chunked/beast");
BENCHMARK(run<BeastViewsParseChunked>)->Name("http_parse_response_chunked/beast_views");
BENCHMARK(run<TernRestCycle>)->Name("http_rest_cycle/tern");
BENCHMARK(run<BeastRestCycle>)->Name("http_rest_cycle/beast");
BENCHMARK(run<BeastViewsRestCycle>)->Name("http_rest_cycle/beast_views");

}  // namespace

BENCHMARK_MAIN();
