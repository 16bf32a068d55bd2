// tern demo: a WebSocket conversation with no sockets at all.
//
// A client and a server each own a ReadBuf and a WriteBuf; "sending" is a
// memcpy from one side's WriteBuf into the other side's ReadBuf, which is all
// a backend does with a socket in between. The demo runs the opening
// handshake, then the client sends text, binary, a fragmented message with a
// ping between its fragments, and a close; the server prints what it saw and
// answers. Finally it times encode + parse per message.
//
//   bazel run -c opt //docs/examples:ws_demo
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/url/url.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "core/ws/handshake.h"

namespace {

using tern::ws::Opcode;
using tern::ws::ReadStatus;

// What a backend's send() + the peer's recv() amount to.
void transfer(tern::WriteBuf& from, tern::ReadBuf& to) {
  if (to.spare().size() < from.size()) to.compact();
  std::memcpy(to.spare().data(), from.data().data(), from.size());
  (void)to.commit(from.size());
  from.clear();
}

const char* opcode_name(Opcode op) {
  switch (op) {
    case Opcode::Text: return "text";
    case Opcode::Binary: return "binary";
    case Opcode::Ping: return "ping";
    case Opcode::Pong: return "pong";
    case Opcode::Close: return "close";
    case Opcode::Continuation: return "continuation";
  }
  return "?";
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 48)) out += (c >= 0x20 && c < 0x7F) ? c : '.';
  if (s.size() > 48) out += "...";
  return out;
}

// Drains every complete message the reader has; prints each one.
int drain(const char* who, tern::ws::FrameReader& reader, tern::ReadBuf& in,
          tern::ws::FrameWriter* answer, tern::WriteBuf* out) {
  int n = 0;
  for (;;) {
    const tern::ws::ReadResult r = reader.next(in);
    if (r.status == ReadStatus::NeedMore) return n;
    if (r.status == ReadStatus::Error) {
      std::printf("  %s: protocol error %s, would close with %d\n", who,
                  std::string(tern::ws::name(reader.error())).c_str(),
                  static_cast<int>(reader.close_code()));
      return n;
    }
    ++n;
    const tern::ws::Message& m = r.message;
    if (m.opcode == Opcode::Close) {
      std::printf("  %s got close: code %d, reason \"%s\"\n", who, static_cast<int>(m.close_code),
                  std::string(m.close_reason()).c_str());
      if (answer) (void)answer->close(*out, m.close_code, "bye");
    } else {
      std::printf("  %s got %-6s %5zu B  \"%s\"\n", who, opcode_name(m.opcode), m.payload.size(),
                  printable(m.text()).c_str());
      if (answer && m.opcode == Opcode::Ping) (void)answer->pong(*out, m.payload);
    }
  }
}

}  // namespace

int main() {
  std::printf("tern demo: WebSocket over in-memory buffers (sans-IO core, no sockets)\n\n");
  tern::ReadBuf client_in(1 << 16), server_in(1 << 16);
  tern::WriteBuf client_out(1 << 16), server_out(1 << 16);

  // 1. Opening handshake (RFC 6455 §4).
  tern::Url url;
  if (tern::parse_url("ws://demo.tern.test/feed?symbols=BTC-USD", url) != tern::UrlError::kNone) return 1;
  auto client_hs = tern::ws::ClientHandshake::create(url, {.subprotocols = {"md.v2", "md.v1"}});
  auto server_hs = tern::ws::ServerHandshake::create({});
  if (!client_hs.ok() || !server_hs.ok()) return 1;
  (void)client_hs->write_request(client_out);
  std::printf("1. handshake: client sends %zu-byte upgrade request\n", client_out.size());
  transfer(client_out, server_in);
  if (server_hs->read_request(server_in) != tern::http::Progress::Complete) return 1;
  std::printf("   server sees GET %s, offers md.v1: %s\n", std::string(server_hs->target()).c_str(),
              server_hs->offers_subprotocol("md.v1") ? "yes" : "no");
  (void)server_hs->accept(server_in, server_out, "md.v1");
  transfer(server_out, client_in);
  client_hs->read_response(client_in);
  std::printf("   client validated 101: %s, subprotocol \"%s\"\n\n",
              std::string(tern::ws::name(client_hs->error())).c_str(),
              std::string(client_hs->subprotocol()).c_str());

  // 2. Messages, client (masked) → server.
  tern::ws::FrameWriter client_writer(tern::ws::Role::Client);
  tern::ws::FrameWriter server_writer(tern::ws::Role::Server);
  tern::ws::FrameReader server_reader(tern::ws::Role::Server);
  tern::ws::FrameReader client_reader(tern::ws::Role::Client);
  std::printf("2. client -> server\n");
  (void)client_writer.text(client_out, R"({"op":"subscribe","channel":"trades","symbol":"BTC-USD"})");
  const std::uint8_t blob[] = {0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01};
  (void)client_writer.binary(client_out, blob);
  (void)client_writer.begin(client_out, Opcode::Text, tern::ws::as_bytes("fragmented "));
  (void)client_writer.ping(client_out, tern::ws::as_bytes("are you there?"));
  (void)client_writer.continue_message(client_out, tern::ws::as_bytes("message, "));
  (void)client_writer.finish(client_out, tern::ws::as_bytes("assembled in place"));
  transfer(client_out, server_in);
  drain("server", server_reader, server_in, &server_writer, &server_out);

  std::printf("\n3. server -> client (the pong it owed, then a trade)\n");
  (void)server_writer.text(server_out, R"({"channel":"trades","px":"97123.5","qty":"0.002"})");
  transfer(server_out, client_in);
  drain("client", client_reader, client_in, nullptr, nullptr);

  std::printf("\n4. close handshake\n");
  (void)client_writer.close(client_out, tern::ws::CloseCode::Normal, "done");
  transfer(client_out, server_in);
  drain("server", server_reader, server_in, &server_writer, &server_out);
  transfer(server_out, client_in);
  drain("client", client_reader, client_in, nullptr, nullptr);

  std::printf("\n5. a hostile frame: unmasked text sent to a server\n");
  tern::ws::FrameReader strict(tern::ws::Role::Server);
  const std::uint8_t unmasked[] = {0x81, 0x02, 'h', 'i'};
  std::memcpy(server_in.spare().data(), unmasked, sizeof unmasked);
  (void)server_in.commit(sizeof unmasked);
  drain("server", strict, server_in, nullptr, nullptr);
  server_in.clear();

  // 6. Cost per message: encode (client, masked) + parse (server, unmask +
  // UTF-8 validation) of a 128-byte text frame, batched 64 at a time.
  std::printf("\n6. cost per 128-byte text message, encode (masked) + parse (unmask, UTF-8)\n");
  const std::string payload(128, 'x');
  constexpr int kBatch = 64, kRounds = 20000;
  std::size_t delivered = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kBatch; ++i) (void)client_writer.text(client_out, payload);
    transfer(client_out, server_in);
    for (;;) {
      const tern::ws::ReadResult r = server_reader.next(server_in);
      if (r.status != ReadStatus::Message) break;
      delivered += r.message.payload.size() == payload.size();
    }
  }
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  std::printf("   %zu messages, %.1f ns per message (encode + copy + parse), %.2f GB/s of payload\n",
              delivered, ns / delivered, delivered * payload.size() / ns);
  return delivered == static_cast<std::size_t>(kBatch) * kRounds ? 0 : 1;
}
