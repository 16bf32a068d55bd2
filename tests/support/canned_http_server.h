// File: canned_http_server.h
//
// A canned HTTP/1.1 server on its own thread (blocking posix sockets and the
// core's RequestReader/ResponseWriter), for the HTTP tests of every backend.
// It serves one connection at a time, allocates nothing per request, and
// chooses its behaviour from the request path:
//   /json      200, Content-Length            /chunked   200, chunked
//   /close     200 + Connection: close         /eof       HTTP/1.0, body until close
//   /truncate  Content-Length 100, 10 bytes, then close
//   /silent    never answers
#ifndef TERN_TESTS_SUPPORT_CANNED_HTTP_SERVER_H_
#define TERN_TESTS_SUPPORT_CANNED_HTTP_SERVER_H_

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/request_reader.h"
#include "core/http/response_writer.h"
#include "core/tls/tls_config.h"
#include "gtest/gtest.h"

namespace tern::testing {

// Replies the writers refuse to produce on purpose (a bare HTTP/1.0 body,
// a truncated body) or that are clearer verbatim.
inline void append_raw(WriteBuf& out, std::string_view raw) {
  (void)out.append({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()});
}

class CannedHttpServer {
 public:
  explicit CannedHttpServer(const tls::TlsConfig* tls = nullptr) : tls_(tls) {
    auto l = posix::Listener::bind("127.0.0.1", 0);
    EXPECT_TRUE(l.ok());
    listener_ = *std::move(l);
    thread_ = std::thread([this] { run(); });
  }
  ~CannedHttpServer() {
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
      std::optional<posix::Stream> stream;
      if (tls_) {
        auto t = posix::Stream::tls_server(*std::move(s), *tls_);
        if (!t.ok()) continue;
        stream.emplace(*std::move(t));
      } else {
        stream.emplace(*std::move(s));
      }
      serve(*stream, *writer);
      active_fd_ = -1;
    }
  }

  void serve(posix::Stream& stream, const http::ResponseWriter& writer) {
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
  posix::Listener listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_fd_{-1};
  std::thread thread_;
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_CANNED_HTTP_SERVER_H_
