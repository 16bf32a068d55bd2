#include "backends/posix/http_connection.h"

#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>

#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "core/http/request_reader.h"
#include "core/http/request_writer.h"
#include "core/http/response_writer.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/tls/test_pki.h"

namespace tern::posix {
namespace {

using tls::testing::test_pki;

// Replies the writers refuse to produce on purpose (a bare HTTP/1.0 body,
// a truncated body) or that are clearer verbatim.
void append_raw(WriteBuf& out, std::string_view raw) {
  (void)out.append({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()});
}

// A canned HTTP/1.1 server on a thread. Paths choose the behaviour:
//   /json      200, Content-Length            /chunked   200, chunked
//   /close     200 + Connection: close         /eof       HTTP/1.0, body until close
//   /truncate  Content-Length 100, 10 bytes, then close
//   /silent    never answers
class CannedServer {
 public:
  explicit CannedServer(const tls::TlsConfig* tls = nullptr) : tls_(tls) {
    auto l = Listener::bind("127.0.0.1", 0);
    EXPECT_TRUE(l.ok());
    listener_ = *std::move(l);
    thread_ = std::thread([this] { run(); });
  }
  ~CannedServer() {
    stop_ = true;
    listener_.shutdown();
    // Wakes a read blocked on an idle keep-alive connection.
    if (const int fd = active_fd_.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
    thread_.join();
  }
  std::string url(const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(listener_.port());
  }
  std::atomic<int> connections{0};

 private:
  void run() {
    auto writer = http::ResponseWriter::create({});
    while (!stop_) {
      auto s = listener_.accept();
      if (!s.ok()) return;
      ++connections;
      active_fd_ = s->fd();
      std::optional<Stream> stream;
      if (tls_) {
        auto t = Stream::tls_server(*std::move(s), *tls_);
        if (!t.ok()) continue;
        stream.emplace(*std::move(t));
      } else {
        stream.emplace(*std::move(s));
      }
      serve(*stream, *writer);
      active_fd_ = -1;
    }
  }

  void serve(Stream& stream, const http::ResponseWriter& writer) {
    ReadBuf in(64 * 1024);
    WriteBuf out(64 * 1024);
    http::RequestReader reader;
    while (!stop_) {
      http::Progress p = reader.next(in);
      if (p == http::Progress::NeedMore) {
        auto n = stream.read(in);
        if (!n.ok()) {
          return;
        }
        if (*n == 0) return;
        continue;
      }
      if (p == http::Progress::Failed) return;
      const std::string_view t = reader.target();
      const bool head = reader.method() == http::Method::Head;
      out.clear();
      if (t == "/json") {
        const std::string_view body = R"({"symbol":"BTC-USD","price":"97123.50","qty":"0.002"})";
        if (head) {
          // RFC 9110 §9.3.2: the GET's Content-Length, no content.
          (void)writer.start(out, 200).header("Content-Type", "application/json").head_only(body.size());
        } else {
          (void)writer.start(out, 200).header("Content-Type", "application/json").body(body);
        }
      } else if (t == "/chunked") {
        const std::string_view raw =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        append_raw(out, raw);
      } else if (t == "/close") {
        (void)writer.start(out, 200).header("Connection", "close").body("bye");
      } else if (t == "/eof") {
        const std::string_view raw = "HTTP/1.0 200 OK\r\n\r\nbody until close";
        append_raw(out, raw);
      } else if (t == "/truncate") {
        const std::string_view raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
        append_raw(out, raw);
      } else if (t == "/silent") {
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return;
      } else {
        (void)writer.start(out, 404).finish();
      }
      if (!stream.write(out.data()).ok()) return;
      if (t == "/close" || t == "/eof" || t == "/truncate") {
        stream.close_write();
        return;
      }
    }
  }

  const tls::TlsConfig* tls_;
  Listener listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_fd_{-1};
  std::thread thread_;
};

http::RequestWriter make_writer() {
  auto w = http::RequestWriter::create({.host = "127.0.0.1", .base_path = "",
                                        .default_headers = {{"User-Agent", "tern-test"}}});
  EXPECT_TRUE(w.ok());
  return *std::move(w);
}

absl::StatusOr<HttpResponse> get(HttpConnection& c, const http::RequestWriter& w, http::ResponseReader& r,
                                 std::string_view path, http::Method m = http::Method::Get) {
  http::WriteResult req = w.start(c.request_buffer(), m, path).finish();
  EXPECT_TRUE(req.ok());
  return c.send(r);
}

TEST(PosixHttp, KeepAliveServesAThousandRequestsOnOneConnection) {
  CannedServer server;
  auto conn = HttpConnection::connect(server.url() + "/ignored/path");
  ASSERT_TRUE(conn.ok()) << conn.status();
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  for (int i = 0; i < 1000; ++i) {
    auto resp = get(*conn, w, reader, i % 2 ? "/json" : "/chunked");
    ASSERT_TRUE(resp.ok()) << i << ": " << resp.status();
    ASSERT_EQ(resp->status, 200);
    EXPECT_TRUE(resp->keep_alive);
    if (i % 2) {
      EXPECT_EQ(resp->headers.get("Content-Type"), "application/json");
      EXPECT_EQ(resp->body.substr(0, 10), R"({"symbol":)");
    } else {
      EXPECT_EQ(resp->body, "hello, world");
    }
  }
  EXPECT_EQ(server.connections.load(), 1);
  EXPECT_TRUE(conn->reusable());
}

TEST(PosixHttp, HeadHasNoBodyAndTheConnectionStaysInSync) {
  CannedServer server;
  auto conn = HttpConnection::connect(server.url());
  ASSERT_TRUE(conn.ok());
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  auto head = get(*conn, w, reader, "/json", http::Method::Head);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  auto next = get(*conn, w, reader, "/json");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(next->body.empty());
}

TEST(PosixHttp, ConnectionCloseEndsReuse) {
  CannedServer server;
  auto conn = HttpConnection::connect(server.url());
  ASSERT_TRUE(conn.ok());
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  auto resp = get(*conn, w, reader, "/close");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->body, "bye");
  EXPECT_FALSE(resp->keep_alive);
  EXPECT_FALSE(conn->reusable());
  auto again = get(*conn, w, reader, "/json");
  EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << again.status();
  EXPECT_NE(again.status().message().find("Connection: close"), absl::string_view::npos);
}

TEST(PosixHttp, CloseDelimitedBodyCompletesAtEof) {
  CannedServer server;
  auto conn = HttpConnection::connect(server.url());
  ASSERT_TRUE(conn.ok());
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  auto resp = get(*conn, w, reader, "/eof");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->body, "body until close");
  EXPECT_FALSE(conn->reusable());
}

TEST(PosixHttp, ServerClosingMidResponseIsUnavailableAndPoisons) {
  CannedServer server;
  auto conn = HttpConnection::connect(server.url());
  ASSERT_TRUE(conn.ok());
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  auto resp = get(*conn, w, reader, "/truncate");
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::IsUnavailable(resp.status())) << resp.status();
  EXPECT_NE(resp.status().message().find("UnexpectedEof"), absl::string_view::npos) << resp.status();
  EXPECT_FALSE(conn->reusable());
}

TEST(PosixHttp, SilentServerHitsTheReadTimeout) {
  CannedServer server;
  HttpOptions o;
  o.socket.read_timeout = absl::Milliseconds(150);
  auto conn = HttpConnection::connect(server.url(), o);
  ASSERT_TRUE(conn.ok());
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  auto resp = get(*conn, w, reader, "/silent");
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(resp.status())) << resp.status();
  EXPECT_FALSE(conn->reusable());
}

TEST(PosixHttp, BodyOverTheReadersLimitIsResourceExhausted) {
  CannedServer server;
  auto conn = HttpConnection::connect(server.url());
  ASSERT_TRUE(conn.ok());
  const http::RequestWriter w = make_writer();
  http::Limits limits;
  limits.max_body_size = 8;
  http::ResponseReader reader(limits);
  auto resp = get(*conn, w, reader, "/json");
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(resp.status())) << resp.status();
  EXPECT_NE(resp.status().message().find("BodyTooLarge"), absl::string_view::npos);
}

TEST(PosixHttp, HttpsWithATestCa) {
  auto server_tls = tls::TlsConfig::server()
                        .certificate_chain_pem(test_pki().good.cert_pem)
                        .private_key_pem(test_pki().good.key_pem)
                        .build();
  ASSERT_TRUE(server_tls.ok());
  auto client_tls =
      tls::TlsConfig::client().use_system_trust_store(false).add_ca_pem(test_pki().ca.cert_pem).build();
  ASSERT_TRUE(client_tls.ok());
  CannedServer server(&*server_tls);
  auto conn = HttpConnection::connect(server.url("https"), {.tls = &*client_tls});
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_TRUE(conn->secure());
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  for (int i = 0; i < 50; ++i) {
    auto resp = get(*conn, w, reader, "/chunked");
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->body, "hello, world");
  }
  EXPECT_EQ(server.connections.load(), 1);
}

TEST(PosixHttp, RefusedAndBadUrlsArePrecise) {
  std::uint16_t port;
  {
    auto l = Listener::bind("127.0.0.1", 0);
    ASSERT_TRUE(l.ok());
    port = l->port();
  }
  auto refused = HttpConnection::connect("http://127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_TRUE(absl::IsInvalidArgument(HttpConnection::connect("ws://h/").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(HttpConnection::connect("http://h:99999/").status()));
  EXPECT_TRUE(absl::IsNotFound(HttpConnection::connect("http://no-such-host.invalid/").status()));
}

TEST(PosixHttp, NoAllocationsPerRequestOnceConnected) {
  CannedServer server;
  auto conn = HttpConnection::connect(server.url());
  ASSERT_TRUE(conn.ok());
  const http::RequestWriter w = make_writer();
  http::ResponseReader reader;
  const std::string_view body = R"({"side":"buy","symbol":"BTC-USD","qty":"0.01","px":"97000.5","tif":"IOC"})";
  ASSERT_TRUE(get(*conn, w, reader, "/json").ok());  // warm up
  testing::AllocCounter count;  // both ends: the server thread allocates nothing either
  for (int i = 0; i < 2000; ++i) {
    http::WriteResult req = w.start(conn->request_buffer(), http::Method::Post, "/json")
                                .header("Content-Type", "application/json")
                                .body(body);
    ASSERT_TRUE(req.ok());
    auto resp = conn->send(reader);
    ASSERT_TRUE(resp.ok()) << resp.status();
    ASSERT_EQ(resp->status, 200);
  }
  EXPECT_EQ(count.allocations(), 0u);
}

}  // namespace
}  // namespace tern::posix
