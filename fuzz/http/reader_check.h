// File: reader_check.h
//
// The invariants both HTTP reader fuzz targets check (see their headers):
// the same outcome whole and split, limits respected on Complete, the
// leftover a suffix of the input, and sticky failure.
#ifndef TERN_FUZZ_HTTP_READER_CHECK_H_
#define TERN_FUZZ_HTTP_READER_CHECK_H_

#include <cstddef>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/http/error.h"
#include "fuzz/http/fuzz_util.h"
#include "tests/http/feed.h"

namespace tern::http::fuzz {

template <typename Reader>
void check_reader(const Input& in, bool set_method) {
  auto run = [&](const std::vector<std::size_t>& pieces) {
    tern::ReadBuf buf(in.wire.size() + 1);  // room for one more byte: EOF, not BufferFull
    Reader r(in.limits);
    if constexpr (requires { r.set_request_method(in.method); }) {
      if (set_method) r.set_request_method(in.method);
    }
    testing::Outcome o = testing::feed(r, buf, in.wire, in.wire.size(), pieces, in.eof);
    if (o.progress == Progress::Failed) {
      check(r.next(buf) == Progress::Failed, "failure is sticky");
    }
    o.early = false;
    return o;
  };
  const testing::Outcome whole = run({in.wire.size()});
  const testing::Outcome split = run(pieces_from_seed(in.wire.size(), in.seed));
  check(whole == split, "same outcome whole and split");
  if (whole.progress == Progress::Complete) {
    check(whole.error == Error::None, "complete without error");
    check(whole.body.size() <= in.limits.max_body_size, "body within limit");
    check(whole.headers.size() + whole.trailers.size() <= in.limits.max_headers,
                "fields within limit");
    check(whole.message_size <= in.wire.size(), "consumed within input");
    check(in.wire.ends_with(whole.leftover), "leftover is the input's tail");
  } else if (whole.progress == Progress::Failed) {
    check(whole.error != Error::None, "failed with a cause");
  }
}

}  // namespace tern::http::fuzz

#endif  // TERN_FUZZ_HTTP_READER_CHECK_H_
