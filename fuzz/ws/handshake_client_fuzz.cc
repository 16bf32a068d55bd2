// libFuzzer target for ClientHandshake (and so http::ResponseReader on 101
// replies). The client makes a fresh key per run, so the input may contain
// the 28-byte placeholder below, replaced by the correct Sec-WebSocket-Accept
// before feeding: the fuzzer can then reach the success path. Invariants:
//   - the same outcome (progress, cause, status, subprotocol, bytes left in
//     the buffer) whether the reply arrives whole or in the encoded pieces;
//   - success only with status 101 and an offered subprotocol (or none).
#include <string>

#include "core/url/url.h"
#include "core/ws/handshake.h"
#include "fuzz/ws/handshake_fuzz_util.h"

namespace {

using tern::http::Progress;
using tern::fuzz::check;

constexpr std::string_view kPlaceholder = "ACCEPT_PLACEHOLDER_000000000";
static_assert(kPlaceholder.size() == 28);

struct Outcome {
  Progress progress = Progress::NeedMore;
  tern::ws::HandshakeError error = tern::ws::HandshakeError::None;
  int status = 0;
  std::string subprotocol;
  std::string left;
};

Outcome run(std::string_view payload, const std::vector<std::size_t>& pieces) {
  static const std::string url_text = "ws://fuzz.test/feed";
  tern::Url url;
  check(tern::parse_url(url_text, url) == tern::UrlError::kNone, "url");
  auto client = tern::ws::ClientHandshake::create(url, {.subprotocols = {"a", "b"}});
  check(client.ok(), "create");
  tern::WriteBuf req(4096);
  check(client->write_request(req) == tern::ws::HandshakeError::None, "request");
  std::string reply(payload);
  const std::string accept(tern::ws::view(tern::ws::compute_accept(client->key())));
  for (std::size_t at; (at = reply.find(kPlaceholder)) != std::string::npos;) {
    reply.replace(at, kPlaceholder.size(), accept);
  }
  tern::ReadBuf in(16 * 1024);
  Outcome o;
  std::size_t off = 0;
  for (std::size_t n : pieces) {
    if (!tern::fuzz::put(in, std::string_view(reply).substr(off, n))) break;
    off += n;
    o.progress = client->read_response(in);
    if (o.progress != Progress::NeedMore) break;
  }
  if (o.progress == Progress::NeedMore) o.progress = client->finish(in);
  o.error = client->error();
  o.status = client->status();
  o.subprotocol = std::string(client->subprotocol());
  if (o.progress == Progress::Complete) {
    tern::fuzz::put(in, std::string_view(reply).substr(std::min(off, reply.size())));
    o.left.assign(reinterpret_cast<const char*>(in.data().data()), in.size());
    // Each run has its own key: map its accept back so runs compare equal.
    for (std::size_t at; (at = o.left.find(accept)) != std::string::npos;) {
      o.left.replace(at, accept.size(), kPlaceholder);
    }
    if (o.error == tern::ws::HandshakeError::None) {
      check(o.status == 101, "success means 101");
      check(o.subprotocol.empty() || o.subprotocol == "a" || o.subprotocol == "b", "offered");
    }
  }
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
  check(whole.status == split.status, "same status whole vs split");
  check(whole.subprotocol == split.subprotocol, "same subprotocol whole vs split");
  check(whole.left == split.left, "same bytes left for the FrameReader");
  return 0;
}
