// libFuzzer target: a keep-alive sequence of responses on one ResponseReader
// and one small ReadBuf (so the reader compacts and rebases its views).
// Invariants beyond "no crash":
//   - the same sequence of outcomes (status, fields, body, keep-alive, or the
//     error cause) whether bytes arrive as fast as the buffer allows or in the
//     pieces the seed selects;
//   - the reader never stalls: NeedMore with a full buffer does not happen.
// The request method rotates per response: flags' method, then GET, HEAD, ...
// Input: see fuzz_util.h.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/http/response_reader.h"
#include "fuzz/http/fuzz_util.h"

using namespace tern::http;

namespace {

struct Event {
  Progress progress;
  Error error;
  int status;
  std::string body;
  std::vector<std::string> fields;
  bool keep_alive;
  bool operator==(const Event&) const = default;
};

std::vector<Event> run(const fuzz::Input& in, const std::vector<std::size_t>& pieces) {
  static constexpr Method kRotate[] = {Method::Get, Method::Head, Method::Post, Method::Connect};
  std::vector<Event> events;
  tern::ReadBuf buf(in.capacity);
  ResponseReader r(in.limits);
  std::size_t fed = 0, piece = 0, left_in_piece = pieces.empty() ? 0 : pieces[0];
  for (std::size_t k = 0; k < 64; ++k) {
    r.set_request_method(k == 0 ? in.method : kRotate[k % 4]);
    Progress p = r.next(buf);
    while (p == Progress::NeedMore) {
      if (fed == in.wire.size()) {
        if (in.eof) p = r.finish(buf);
        break;
      }
      while (left_in_piece == 0) left_in_piece = pieces[++piece];
      std::size_t n = std::min(left_in_piece, buf.spare().size());
      fuzz::check(n > 0, "NeedMore leaves room to read into");
      std::memcpy(buf.spare().data(), in.wire.data() + fed, n);
      (void)buf.commit(n);
      fed += n;
      left_in_piece -= n;
      p = r.next(buf);
    }
    Event e{p, r.error(), 0, {}, {}, false};
    if (p == Progress::Complete) {
      e.status = r.status();
      e.body = r.body();
      for (const Header& h : r.headers()) e.fields.push_back(std::string(h.name) + ":" + std::string(h.value));
      for (const Header& h : r.trailers()) e.fields.push_back(std::string(h.name) + "=" + std::string(h.value));
      e.keep_alive = r.keep_alive();
      fuzz::check(r.message_size() <= buf.size(), "message within buffer");
    }
    events.push_back(std::move(e));
    if (p != Progress::Complete) break;
    r.consume(buf);
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in;
  if (!fuzz::parse_input(data, size, &in)) return 0;
  const std::vector<Event> whole = run(in, {in.wire.size()});
  const std::vector<Event> split = run(in, fuzz::pieces_from_seed(in.wire.size(), in.seed));
  fuzz::check(whole == split, "same responses whole and split");
  return 0;
}
