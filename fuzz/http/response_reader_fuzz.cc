// libFuzzer target for ResponseReader. Invariants beyond "no crash":
//   - the same outcome (status, fields, trailers, body, keep-alive, bytes
//     consumed, the bytes left behind, or the error cause) whether the wire
//     arrives whole or in the pieces the seed byte selects;
//   - Complete implies no error, a body within max_body_size, fields within
//     max_headers, and leftover bytes that are a suffix of the input;
//   - Failed is sticky.
// Input: see fuzz_util.h.
#include <cstdint>
#include <string>

#include "core/buf/read_buf.h"
#include "core/http/response_reader.h"
#include "fuzz/http/fuzz_util.h"
#include "tests/http/feed.h"

using namespace tern::http;

namespace {

template <typename Reader>
void check_reader(const fuzz::Input& in, bool set_method) {
  auto run = [&](const std::vector<std::size_t>& pieces) {
    tern::ReadBuf buf(in.wire.size() + 1);  // room for one more byte: EOF, not BufferFull
    Reader r(in.limits);
    if constexpr (requires { r.set_request_method(in.method); }) {
      if (set_method) r.set_request_method(in.method);
    }
    testing::Outcome o = testing::feed(r, buf, in.wire, in.wire.size(), pieces, in.eof);
    if (o.progress == Progress::Failed) {
      fuzz::check(r.next(buf) == Progress::Failed, "failure is sticky");
    }
    o.early = false;
    return o;
  };
  const testing::Outcome whole = run({in.wire.size()});
  const testing::Outcome split = run(fuzz::pieces_from_seed(in.wire.size(), in.seed));
  fuzz::check(whole == split, "same outcome whole and split");
  if (whole.progress == Progress::Complete) {
    fuzz::check(whole.error == Error::None, "complete without error");
    fuzz::check(whole.body.size() <= in.limits.max_body_size, "body within limit");
    fuzz::check(whole.headers.size() + whole.trailers.size() <= in.limits.max_headers,
                "fields within limit");
    fuzz::check(whole.message_size <= in.wire.size(), "consumed within input");
    fuzz::check(in.wire.ends_with(whole.leftover), "leftover is the input's tail");
  } else if (whole.progress == Progress::Failed) {
    fuzz::check(whole.error != Error::None, "failed with a cause");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in;
  if (!fuzz::parse_input(data, size, &in)) return 0;
  check_reader<ResponseReader>(in, true);
  return 0;
}
