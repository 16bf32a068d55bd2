// File: reader_check.h
//
// The invariants both HTTP reader fuzz targets check (see their headers):
// the same outcome whole and split, limits respected on Complete, field
// values that are field-content (no CR, LF or other control byte but HTAB,
// no OWS at either end: obs-folds of a response have become SP), the
// leftover a suffix of the input, and sticky failure.
#ifndef TERN_FUZZ_HTTP_READER_CHECK_H_
#define TERN_FUZZ_HTTP_READER_CHECK_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/http/error.h"
#include "core/http/tokens.h"
#include "fuzz/http/fuzz_util.h"
#include "tests/http/feed.h"

namespace tern::http::fuzz {

inline bool is_field_content(std::string_view v) {
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return v.empty() || (v.front() != ' ' && v.front() != '\t' && v.back() != ' ' &&
                       v.back() != '\t');
}

inline void check_fields(const testing::Fields& fields) {
  for (const auto& [name, value] : fields) {
    check(is_token(name), "field name is a token");
    check(is_field_content(value), "field value is field-content, trimmed");
  }
}

// Returns the outcome of the whole feed, after checking the split one
// against it.
template <typename Reader>
testing::Outcome check_reader(const Input& in, bool set_method) {
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
    check_fields(whole.headers);
    check_fields(whole.trailers);
    check(whole.status >= 0 && whole.status <= 999, "status is three digits");
  } else if (whole.progress == Progress::Failed) {
    check(whole.error != Error::None, "failed with a cause");
  }
  return whole;
}

}  // namespace tern::http::fuzz

#endif  // TERN_FUZZ_HTTP_READER_CHECK_H_
