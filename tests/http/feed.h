// File: feed.h
//
// Test helpers: drive a RequestReader or ResponseReader through a split plan
// and capture everything it reports in a comparable Outcome.
#ifndef TERN_TESTS_HTTP_FEED_H_
#define TERN_TESTS_HTTP_FEED_H_

#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/http/request_reader.h"
#include "core/http/response_reader.h"
#include "tests/support/split_feed.h"

namespace tern::http::testing {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Outcome {
  Progress progress = Progress::NeedMore;
  Error error = Error::None;
  int status = 0;
  std::string method;
  std::string target;
  std::string reason;
  int minor = -1;
  Fields headers;
  Fields trailers;
  std::string body;
  bool keep_alive = false;
  std::size_t message_size = 0;
  std::string leftover;  // buf.data() after consume()
  bool early = false;    // Complete before all message bytes were fed

  bool operator==(const Outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{progress=" << static_cast<int>(o.progress) << " error=" << name(o.error)
     << " status=" << o.status << " method=" << o.method << " target=" << o.target
     << " minor=" << o.minor << " body=[" << o.body << "] keep_alive=" << o.keep_alive
     << " size=" << o.message_size << " leftover=[" << o.leftover
     << "] early=" << o.early << " headers=" << o.headers.size()
     << " trailers=" << o.trailers.size() << "}";
  return os;
}

inline Fields fields(HeaderList list) {
  Fields f;
  for (const Header& h : list) f.emplace_back(h.name, h.value);
  return f;
}

inline void capture(const ResponseReader& r, Outcome& o) {
  o.status = r.status();
  o.reason = r.reason();
  o.minor = r.version_minor();
  o.headers = fields(r.headers());
  o.trailers = fields(r.trailers());
  o.body = r.body();
  o.keep_alive = r.keep_alive();
  o.message_size = r.message_size();
}

inline void capture(const RequestReader& r, Outcome& o) {
  o.method = r.method_text();
  o.target = r.target();
  o.minor = r.version_minor();
  o.headers = fields(r.headers());
  o.trailers = fields(r.trailers());
  o.body = r.body();
  o.keep_alive = r.keep_alive();
  o.message_size = r.message_size();
}

// Feeds `input` (a message of `message_len` bytes followed by trailing bytes)
// to `reader` in the given pieces, calling next() after each, then finish()
// if `eof`. Bytes that do not fit the buffer wait until the reader has made
// room. Stops parsing at the first Complete or Failed.
template <typename Reader>
Outcome feed(Reader& reader, ReadBuf& buf, std::string_view input,
             std::size_t message_len, const std::vector<std::size_t>& pieces,
             bool eof) {
  Outcome o;
  std::size_t fed = 0;
  auto push = [&](std::size_t n) {
    while (n > 0) {
      std::span<std::uint8_t> spare = buf.spare();
      std::size_t k = spare.size() < n ? spare.size() : n;
      if (k == 0) {
        if (o.progress != Progress::NeedMore) return;  // cannot drain
        o.progress = reader.next(buf);
        if (buf.spare().empty()) return;  // BufferFull or stuck
        continue;
      }
      std::memcpy(spare.data(), input.data() + fed, k);
      (void)buf.commit(k);
      fed += k;
      n -= k;
    }
  };
  for (std::size_t piece : pieces) {
    push(piece);
    if (o.progress == Progress::NeedMore) {
      o.progress = reader.next(buf);
      if (o.progress == Progress::Complete && fed < message_len) o.early = true;
    }
  }
  if (eof && o.progress == Progress::NeedMore) o.progress = reader.finish(buf);
  o.error = reader.error();
  if (o.progress == Progress::Complete) {
    capture(reader, o);
    reader.consume(buf);
    o.leftover.assign(reinterpret_cast<const char*>(buf.data().data()),
                      buf.data().size());
  }
  return o;
}

}  // namespace tern::http::testing

#endif  // TERN_TESTS_HTTP_FEED_H_
