// File: scripted_peer.h
//
// ScriptedServer is a WebSocket server on its own thread that does exactly
// what a test says, byte by byte: it accepts one client on a blocking
// socket, completes the upgrade with the core's sans-IO ws::Connection, then
// runs the test's script, which may write half a frame, stop reading, close
// without a Close frame, or drain and decode what the client sent. The fault
// tests use it to put an Asio connection in states a well-behaved peer never
// creates.
#ifndef TERN_TESTS_ASIO_SCRIPTED_PEER_H_
#define TERN_TESTS_ASIO_SCRIPTED_PEER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/posix/socket.h"
#include "core/ws/connection.h"
#include "gtest/gtest.h"

namespace tern::asio::testing {

inline std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// An unmasked server frame header for a payload under 126 bytes.
inline std::string server_frame(std::uint8_t opcode, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  f.push_back(static_cast<char>(payload.size()));
  f.append(payload);
  return f;
}

class ScriptedServer {
 public:
  using Script = std::function<void(posix::Socket&, ws::Connection&)>;

  explicit ScriptedServer(Script script, SocketOptions accept_options = {}) {
    auto l = posix::Listener::bind("127.0.0.1", 0);
    EXPECT_TRUE(l.ok()) << l.status();
    listener_.emplace(*std::move(l));
    thread_ = std::thread([this, script = std::move(script), accept_options] {
      absl::StatusOr<posix::Socket> s = listener_->accept(accept_options);
      if (!s.ok()) return;
      absl::StatusOr<ws::Connection> c = ws::Connection::server({});
      if (!c.ok() || !handshake(*s, *c)) return;
      script(*s, *c);
    });
  }
  ~ScriptedServer() {
    listener_->shutdown();
    thread_.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(listener_->port()) + "/"; }

  // Writes all pending output of `c`.
  static bool flush(posix::Socket& s, ws::Connection& c) {
    for (auto out = c.pending_output(); !out.empty(); out = c.pending_output()) {
      if (!s.write_all(out).ok()) return false;
      c.consume_output(out.size());
    }
    return true;
  }
  // Reads and decodes client messages until `count` arrived (or EOF).
  static std::vector<std::string> read_messages(posix::Socket& s, ws::Connection& c, std::size_t count) {
    std::vector<std::string> got;
    while (got.size() < count) {
      const ws::Event e = c.next();
      if (e.type == ws::EventType::Message) {
        got.emplace_back(e.message.text());
        continue;
      }
      if (e.type != ws::EventType::None) break;
      absl::StatusOr<std::size_t> n = s.read_some(c.read_space());
      if (!n.ok() || *n == 0) break;
      c.commit(*n);
    }
    return got;
  }

 private:
  static bool handshake(posix::Socket& s, ws::Connection& c) {
    for (;;) {
      if (!flush(s, c)) return false;
      const ws::Event e = c.next();
      if (e.type == ws::EventType::Open) return flush(s, c);
      if (e.type == ws::EventType::Failed) return false;
      absl::StatusOr<std::size_t> n = s.read_some(c.read_space());
      if (!n.ok() || *n == 0) return false;
      c.commit(*n);
    }
  }

  std::optional<posix::Listener> listener_;
  std::thread thread_;
};

}  // namespace tern::asio::testing

#endif  // TERN_TESTS_ASIO_SCRIPTED_PEER_H_
