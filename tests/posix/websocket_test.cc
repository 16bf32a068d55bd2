#include "backends/posix/websocket.h"

#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "backends/posix/socket.h"
#include "gtest/gtest.h"
#include "tests/tls/test_pki.h"

namespace tern::posix {
namespace {

using tls::testing::test_pki;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A tern echo server on a thread: accepts `clients` connections one after
// another and echoes Text/Binary until each closes.
class EchoServer {
 public:
  explicit EchoServer(const WebSocketOptions& options, int clients = 1) : options_(options) {
    auto l = Listener::bind("127.0.0.1", 0);
    EXPECT_TRUE(l.ok()) << l.status();
    listener_ = *std::move(l);
    thread_ = std::thread([this, clients] {
      for (int i = 0; i < clients; ++i) {
        auto s = listener_.accept();
        if (!s.ok()) return;
        auto ws = WebSocket::accept(*std::move(s), options_);
        if (!ws.ok()) {
          last_error_ = ws.status().ToString();
          continue;
        }
        subprotocol_ = std::string(ws->subprotocol());
        for (;;) {
          auto m = ws->recv();
          if (!m.ok()) {
            last_error_ = m.status().ToString();
            break;
          }
          if (m->opcode == ws::Opcode::Text) (void)ws->send_text(m->text());
          if (m->opcode == ws::Opcode::Binary) (void)ws->send_binary(m->payload);
          if (m->opcode == ws::Opcode::Close) {
            last_close_ = static_cast<int>(m->close_code);
            break;
          }
        }
      }
    });
  }
  ~EchoServer() {
    listener_.shutdown();
    thread_.join();
  }
  std::uint16_t port() const { return listener_.port(); }
  std::string url(const char* scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(listener_.port()) + "/echo";
  }
  void join() { thread_.join(); thread_ = std::thread([] {}); }
  std::string last_error_;
  std::string subprotocol_;
  std::atomic<int> last_close_{0};

 private:
  WebSocketOptions options_;
  Listener listener_;
  std::thread thread_;
};

// What only the blocking backend has; the behaviour every backend shares is
// in tests/backends/conformance_test.cc.
TEST(PosixWebSocket, OwnedMessagesTlsStreamAndClose) {
  const tls::TlsConfig server_config = tls::testing::server_tls_config(test_pki().good);
  const tls::TlsConfig client_config = tls::testing::client_tls_config();
  EchoServer server({.tls = &server_config});
  auto ws = WebSocket::connect(server.url("wss"), {.tls = &client_config});
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_TRUE(ws->stream().secure());
  EXPECT_EQ(ws->role(), ws::Role::Client);
  const std::string bin = std::string("\0\x01\x02", 3) + std::string(70000, 'b');
  ASSERT_TRUE(ws->send_binary(bytes(bin)).ok());
  auto owned = ws->recv_owned();  // a copy that outlives the next recv()
  ASSERT_TRUE(owned.ok()) << owned.status();
  EXPECT_EQ(owned->opcode, ws::Opcode::Binary);
  EXPECT_EQ(owned->payload, bin);
  ASSERT_TRUE(ws->queue_text("one").ok());
  ASSERT_TRUE(ws->queue_text("two").ok());
  ASSERT_TRUE(ws->flush().ok());
  EXPECT_EQ(ws->recv_owned()->payload, "one");
  EXPECT_EQ(ws->recv_owned()->payload, "two");
  EXPECT_TRUE(ws->close(ws::CloseCode::GoingAway, "bye").ok());
  EXPECT_FALSE(ws->is_open());
  EXPECT_TRUE(ws->close().ok()) << "closing twice is fine";
  server.join();
  EXPECT_EQ(server.last_close_.load(), 1001);
}

}  // namespace
}  // namespace tern::posix
