// File: raw_ws_server.h
//
// RawWsServer is a blocking server thread (posix sockets, the core's
// ServerHandshake) that accepts one client, completes the server's half of
// the opening handshake into a WriteBuf (not yet sent), and hands the
// socket and that buffer to `after`: for WebSocket peers that misbehave on
// purpose (never answer, send a masked frame, vanish mid-frame, stop
// reading) in the tests of every backend.
#ifndef TERN_TESTS_SUPPORT_RAW_WS_SERVER_H_
#define TERN_TESTS_SUPPORT_RAW_WS_SERVER_H_

#include <string>
#include <thread>
#include <utility>

#include "backends/posix/socket.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/ws/handshake.h"

namespace tern::testing {

class RawWsServer {
 public:
  // after(posix::Socket&, WriteBuf& handshake_reply): the reply is queued,
  // not sent: `after` sends it (with more bytes), or never does.
  template <typename F>
  explicit RawWsServer(F after) {
    auto l = posix::Listener::bind("127.0.0.1", 0);
    if (!l.ok()) return;
    listener_ = *std::move(l);
    thread_ = std::thread([this, after = std::move(after)]() mutable {
      auto s = listener_.accept();
      if (!s.ok()) return;
      ReadBuf in(4096);
      auto hs = ws::ServerHandshake::create({});
      while (hs->read_request(in) == http::Progress::NeedMore) {
        auto n = s->read_some(in.spare());
        if (!n.ok() || *n == 0) return;
        (void)in.commit(*n);
      }
      WriteBuf out(4096);
      if (hs->accept(in, out) != ws::HandshakeError::None) return;
      after(*s, out);
    });
  }
  ~RawWsServer() {
    listener_.shutdown();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(listener_.port()) + "/"; }

 private:
  posix::Listener listener_;
  std::thread thread_;
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_RAW_WS_SERVER_H_
