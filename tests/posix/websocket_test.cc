#include "backends/posix/websocket.h"

#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "backends/posix/socket.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/tls/test_pki.h"

namespace tern::posix {
namespace {

using tls::testing::test_pki;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

tls::TlsConfig server_tls(const tls::testing::CertAndKey& id) {
  auto c = tls::TlsConfig::server().certificate_chain_pem(id.cert_pem).private_key_pem(id.key_pem).build();
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

tls::TlsConfig client_tls() {
  auto c = tls::TlsConfig::client().use_system_trust_store(false).add_ca_pem(test_pki().ca.cert_pem).build();
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
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

void echo_round_trips(WebSocket& ws) {
  std::mt19937 rng(7);
  for (std::size_t size : {0u, 1u, 125u, 126u, 4000u, 65535u, 65536u, 300000u}) {
    SCOPED_TRACE(size);
    std::string text(size, 'a');
    for (char& c : text) c = static_cast<char>('a' + rng() % 26);
    ASSERT_TRUE(ws.send_text(text).ok());
    auto m = ws.recv();
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->opcode, ws::Opcode::Text);
    EXPECT_EQ(m->text(), text);
    std::string bin(size, '\0');
    for (char& c : bin) c = static_cast<char>(rng());
    ASSERT_TRUE(ws.send_binary(bytes(bin)).ok());
    auto owned = ws.recv_owned();
    ASSERT_TRUE(owned.ok()) << owned.status();
    EXPECT_EQ(owned->opcode, ws::Opcode::Binary);
    EXPECT_EQ(owned->payload, bin);
  }
}

TEST(PosixWebSocket, EchoOverPlainTcpAndCleanClose) {
  EchoServer server({.subprotocols = {"v2", "v1"}});
  auto ws = WebSocket::connect(server.url(), {.subprotocols = {"v1", "v2"}});
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_EQ(ws->subprotocol(), "v2") << "the server picks its first preference the client offered";
  echo_round_trips(*ws);
  // A ping is answered by the peer's reader automatically.
  ASSERT_TRUE(ws->send_ping(bytes("hb")).ok());
  auto pong = ws->recv();
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong->opcode, ws::Opcode::Pong);
  EXPECT_EQ(pong->text(), "hb");
  EXPECT_TRUE(ws->close(ws::CloseCode::GoingAway, "bye").ok());
  EXPECT_FALSE(ws->is_open());
  EXPECT_TRUE(absl::IsFailedPrecondition(ws->send_text("late")));
  server.join();
  EXPECT_EQ(server.last_close_.load(), 1001);
}

TEST(PosixWebSocket, EchoOverTls) {
  const tls::TlsConfig server_config = server_tls(test_pki().good);
  const tls::TlsConfig client_config = client_tls();
  EchoServer server({.tls = &server_config});
  auto ws = WebSocket::connect(server.url("wss"), {.tls = &client_config});
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_TRUE(ws->stream().secure());
  echo_round_trips(*ws);
  EXPECT_TRUE(ws->close().ok());
}

TEST(PosixWebSocket, TlsWrongHostAndUntrustedAreRejectedPrecisely) {
  const tls::TlsConfig client_config = client_tls();
  for (auto [id, cause] : {std::pair{&test_pki().wrong_host, "HostnameMismatch"},
                           std::pair{&test_pki().self_signed, "UntrustedCertificate"},
                           std::pair{&test_pki().expired, "CertificateExpired"}}) {
    SCOPED_TRACE(cause);
    const tls::TlsConfig server_config = server_tls(*id);
    EchoServer server({.tls = &server_config});
    auto ws = WebSocket::connect(server.url("wss"), {.tls = &client_config});
    ASSERT_FALSE(ws.ok());
    EXPECT_TRUE(absl::IsPermissionDenied(ws.status())) << ws.status();
    EXPECT_NE(ws.status().message().find(cause), absl::string_view::npos) << ws.status();
  }
}

TEST(PosixWebSocket, ConnectionRefusedIsUnavailable) {
  std::uint16_t port;
  {
    auto l = Listener::bind("127.0.0.1", 0);
    ASSERT_TRUE(l.ok());
    port = l->port();
  }  // closed: nothing listens there now
  auto ws = WebSocket::connect("ws://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_FALSE(ws.ok());
  EXPECT_TRUE(absl::IsUnavailable(ws.status())) << ws.status();
}

TEST(PosixWebSocket, SilentServerHitsTheReadTimeout) {
  auto l = Listener::bind("127.0.0.1", 0);
  ASSERT_TRUE(l.ok());
  std::thread t([&] {
    auto s = l->accept();  // accepts, never answers
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
  });
  WebSocketOptions o;
  o.socket.read_timeout = absl::Milliseconds(200);
  auto ws = WebSocket::connect("ws://127.0.0.1:" + std::to_string(l->port()) + "/", o);
  t.join();
  ASSERT_FALSE(ws.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(ws.status())) << ws.status();
}

TEST(PosixWebSocket, ServerRejectsWrongVersionWith426) {
  EchoServer server({});
  auto s = Socket::connect("127.0.0.1", server.port(), {});
  ASSERT_TRUE(s.ok());
  const std::string req =
      "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
  ASSERT_TRUE(s->write_all(bytes(req)).ok());
  std::string reply;
  std::uint8_t buf[1024];
  for (;;) {
    auto n = s->read_some(buf);
    if (!n.ok() || *n == 0) break;
    reply.append(reinterpret_cast<char*>(buf), *n);
  }
  EXPECT_EQ(reply.rfind("HTTP/1.1 426 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << reply;
  server.join();
  EXPECT_NE(server.last_error_.find("UnsupportedVersion"), std::string::npos) << server.last_error_;
}

// A raw server completes the handshake, then sends a masked frame (clients
// must reject those): the client fails with MaskViolation and sends 1002.
TEST(PosixWebSocket, ProtocolErrorSendsCloseCodeAndNamesTheCause) {
  auto l = Listener::bind("127.0.0.1", 0);
  ASSERT_TRUE(l.ok());
  std::string seen_by_server;
  std::thread t([&] {
    auto s = l->accept();
    ASSERT_TRUE(s.ok());
    ReadBuf in(4096);
    auto hs = ws::ServerHandshake::create({});
    while (hs->read_request(in) == http::Progress::NeedMore) {
      auto n = s->read_some(in.spare());
      ASSERT_TRUE(n.ok() && *n > 0);
      (void)in.commit(*n);
    }
    WriteBuf out(4096);
    ASSERT_EQ(hs->accept(in, out), ws::HandshakeError::None);
    // The 101 and the first frame in one write, so they can arrive together.
    const std::uint8_t masked[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    ASSERT_TRUE(out.append(masked));
    ASSERT_TRUE(s->write_all(out.data()).ok());
    std::uint8_t buf[64];
    for (;;) {
      auto n = s->read_some(buf);
      if (!n.ok() || *n == 0) break;
      seen_by_server.append(reinterpret_cast<char*>(buf), *n);
    }
  });
  auto ws = WebSocket::connect("ws://127.0.0.1:" + std::to_string(l->port()) + "/");
  ASSERT_TRUE(ws.ok()) << ws.status();
  auto m = ws->recv();
  t.join();
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(m.status())) << m.status();
  EXPECT_NE(m.status().message().find("MaskViolation"), absl::string_view::npos) << m.status();
  EXPECT_EQ(ws->protocol_error(), ws::Error::MaskViolation);
  // The client's Close frame: masked, payload = 1002 big-endian.
  ASSERT_GE(seen_by_server.size(), 8u);
  EXPECT_EQ(static_cast<std::uint8_t>(seen_by_server[0]), 0x88);
  const std::uint8_t* key = reinterpret_cast<const std::uint8_t*>(seen_by_server.data()) + 2;
  const int code = ((static_cast<std::uint8_t>(seen_by_server[6]) ^ key[0]) << 8) |
                   (static_cast<std::uint8_t>(seen_by_server[7]) ^ key[1]);
  EXPECT_EQ(code, 1002);
  EXPECT_FALSE(ws->recv().ok()) << "failure is sticky";
}

TEST(PosixWebSocket, NoAllocationsPerMessageOnceConnected) {
  EchoServer server({});
  auto ws = WebSocket::connect(server.url());
  ASSERT_TRUE(ws.ok()) << ws.status();
  const std::string payload(128, 'x');
  ASSERT_TRUE(ws->send_binary(bytes(payload)).ok());  // warm up both ends
  ASSERT_TRUE(ws->recv().ok());
  testing::AllocCounter count;  // counts the server thread too
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(ws->send_binary(bytes(payload)).ok());
    auto m = ws->recv();
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(m->payload.size(), payload.size());
  }
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_TRUE(ws->close().ok());
}

}  // namespace
}  // namespace tern::posix
