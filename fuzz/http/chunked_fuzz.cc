// libFuzzer target for the chunked decoder (RFC 9112 §7.1) inside
// ResponseReader: the input is the chunked body after a fixed head.
// Invariants beyond "no crash":
//   - the same outcome whole and in the pieces the seed selects;
//   - a decoded body and trailers, re-chunked with sizes drawn from the seed
//     (with extensions and mixed-case hex), decode to the same body and
//     trailers (in place decoding must not corrupt data).
// Input: see fuzz_util.h (the method and limits bits apply).
#include <cstdint>
#include <string>

#include "core/buf/read_buf.h"
#include "core/http/response_reader.h"
#include "fuzz/http/fuzz_util.h"
#include "tests/http/feed.h"

using namespace tern::http;

namespace {

constexpr std::string_view kHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

testing::Outcome run(std::string_view wire, const Limits& limits,
                     const std::vector<std::size_t>& pieces) {
  tern::ReadBuf buf(wire.size() + 1);
  ResponseReader r(limits);
  testing::Outcome o = testing::feed(r, buf, wire, wire.size(), pieces, false);
  o.early = false;
  return o;
}

std::string rechunk(const testing::Outcome& o, std::uint8_t seed) {
  std::string out(kHead);
  std::uint32_t x = seed + 7u;
  std::size_t at = 0;
  static constexpr char kHex[] = "0123456789aBcDeF";
  while (at < o.body.size()) {
    x = x * 1664525u + 1013904223u;
    std::size_t k = 1 + (x >> 16) % 40;
    if (k > o.body.size() - at) k = o.body.size() - at;
    std::string size;
    for (std::size_t v = k; v > 0; v >>= 4) size.insert(size.begin(), kHex[v & 15]);
    out += size;
    if (x & 1) out += " ;ext=\"v\"";
    out += "\r\n";
    out.append(o.body, at, k);
    out += "\r\n";
    at += k;
  }
  out += "0\r\n";
  for (const auto& [n, v] : o.trailers) out += n + ": " + v + "\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in;
  if (!fuzz::parse_input(data, size, &in)) return 0;
  const std::string wire = std::string(kHead) + std::string(in.wire);
  const testing::Outcome whole = run(wire, in.limits, {wire.size()});
  const testing::Outcome split =
      run(wire, in.limits, fuzz::pieces_from_seed(wire.size(), in.seed));
  fuzz::check(whole == split, "same outcome whole and split");
  if (whole.progress != Progress::Complete) return 0;
  fuzz::check(whole.body.size() <= in.limits.max_body_size, "body within limit");
  const std::string again = rechunk(whole, in.seed);
  Limits roomy = in.limits;
  roomy.max_header_bytes = again.size();
  const testing::Outcome re = run(again, roomy, {again.size()});
  fuzz::check(re.progress == Progress::Complete, "re-chunked body decodes");
  fuzz::check(re.body == whole.body, "same body after re-chunking");
  fuzz::check(re.trailers == whole.trailers, "same trailers after re-chunking");
  return 0;
}
