// Fixed-work driver for callgrind: runs N operations of one workload from
// workloads.h. Instructions per operation are (Ir(2N) - Ir(N)) / N, which
// cancels start-up and setup; bench/http/instr.sh does the arithmetic.
// (valgrind cannot run AVX-512; the SIMD dispatch sees valgrind's CPUID and
// picks AVX2.)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/http/workloads.h"

namespace {

template <typename W>
std::size_t loop(long n) {
  W w;
  std::size_t sink = 0;
  for (long i = 0; i < n; ++i) sink += w.run();
  return sink;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bench_http;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <workload>/<library> N\n", argv[0]);
    return 2;
  }
  const std::string w = argv[1];
  const long n = std::atol(argv[2]);
  std::size_t s;
  if (w == "http_write_post/tern") s = loop<TernWritePost>(n);
  else if (w == "http_write_post/beast") s = loop<BeastWritePost>(n);
  else if (w == "http_parse_response_cl/tern") s = loop<TernParseCl>(n);
  else if (w == "http_parse_response_cl/beast") s = loop<BeastParseCl>(n);
  else if (w == "http_parse_response_cl/beast_views") s = loop<BeastViewsParseCl>(n);
  else if (w == "http_parse_response_chunked/tern") s = loop<TernParseChunked>(n);
  else if (w == "http_parse_response_chunked/beast") s = loop<BeastParseChunked>(n);
  else if (w == "http_parse_response_chunked/beast_views") s = loop<BeastViewsParseChunked>(n);
  else if (w == "http_rest_cycle/tern") s = loop<TernRestCycle>(n);
  else if (w == "http_rest_cycle/beast") s = loop<BeastRestCycle>(n);
  else if (w == "http_rest_cycle/beast_views") s = loop<BeastViewsRestCycle>(n);
  else {
    std::fprintf(stderr, "unknown workload %s\n", w.c_str());
    return 2;
  }
  std::printf("%zu\n", s);
  return 0;
}
