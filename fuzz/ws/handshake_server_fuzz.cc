// libFuzzer target for ServerHandshake (and so http::RequestReader on upgrade
// requests). Invariants beyond "no crash":
//   - the outcome (progress, cause, target) is the same whether the request
//     arrives whole or in the pieces the input encodes;
//   - an accepted request yields a 101 that ResponseReader parses, whose
//     Sec-WebSocket-Accept matches the request's key, and accept() leaves
//     exactly the bytes after the request in the buffer;
//   - a refused one yields a parseable 400, 426 (with the version field) or
//     431 reply.
#include <string>

#include "core/http/response_reader.h"
#include "core/ws/handshake.h"
#include "fuzz/ws/handshake_fuzz_util.h"

namespace {

using tern::http::Progress;
using tern::fuzz::check;

struct Outcome {
  Progress progress = Progress::NeedMore;
  tern::ws::HandshakeError error = tern::ws::HandshakeError::None;
  std::string target;
  std::string reply;
  std::string left;
};

tern::ws::ServerHandshake& server() {
  static auto* s = new tern::ws::ServerHandshake(*tern::ws::ServerHandshake::create({}));
  return *s;
}

Outcome run(std::string_view payload, const std::vector<std::size_t>& pieces) {
  tern::ws::ServerHandshake& s = server();
  s.reset();
  tern::ReadBuf in(16 * 1024);
  Outcome o;
  std::size_t off = 0;
  for (std::size_t n : pieces) {
    if (!tern::fuzz::put(in, payload.substr(off, n))) break;
    off += n;
    o.progress = s.read_request(in);
    if (o.progress != Progress::NeedMore) break;
  }
  o.error = s.error();
  if (o.progress == Progress::NeedMore) return o;
  // A failure is sticky until reset.
  check(s.read_request(in) == o.progress, "verdict is sticky");
  tern::WriteBuf out(4096);
  if (o.progress == Progress::Complete) {
    o.target = std::string(s.target());
    const std::string key(s.headers().get("Sec-WebSocket-Key"));
    const std::size_t before = in.size();
    check(s.accept(in, out) == tern::ws::HandshakeError::None, "accept after Complete");
    check(in.size() < before, "accept consumes the request");
    tern::ReadBuf reply(8192);
    check(tern::fuzz::put(reply, {reinterpret_cast<const char*>(out.data().data()), out.size()}), "fits");
    tern::http::ResponseReader r;
    check(r.next(reply) == Progress::Complete && r.status() == 101, "101 parses");
    check(r.headers().get("Sec-WebSocket-Accept") == tern::ws::view(tern::ws::compute_accept(key)),
          "accept matches key");
  } else {
    check(s.reject(in, out) == tern::ws::HandshakeError::None, "reject writes");
    tern::ReadBuf reply(8192);
    check(tern::fuzz::put(reply, {reinterpret_cast<const char*>(out.data().data()), out.size()}), "fits");
    tern::http::ResponseReader r;
    check(r.next(reply) == Progress::Complete, "rejection parses");
    check(r.status() == 400 || r.status() == 426 || r.status() == 431 || r.status() == 413, "status");
    check((r.status() == 426) == (r.headers().get("Sec-WebSocket-Version") == "13"), "426 names version");
  }
  o.reply.assign(reinterpret_cast<const char*>(out.data().data()), out.size());
  o.left.assign(reinterpret_cast<const char*>(in.data().data()), in.size());
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tern::fuzz::SplitInput input;
  if (!tern::fuzz::split_input(data, size, input) || input.payload.size() > 12 * 1024) return 0;
  const Outcome whole = run(input.payload, {input.payload.size()});
  const Outcome split = run(input.payload, input.pieces);
  check(whole.progress == split.progress, "same progress whole vs split");
  check(whole.error == split.error, "same cause whole vs split");
  check(whole.target == split.target, "same target whole vs split");
  if (whole.progress == Progress::Complete) {
    // Accept values match because the key is the same; only bytes after
    // the request remain, whichever way they arrived.
    check(whole.reply == split.reply, "same 101");
  }
  return 0;
}
