// File: pool_test_server.h
//
// PoolTestServer is a plain-HTTP/1.1 server for the connection-pool suites
// and benchmarks: any number of keep-alive connections at once (a thread
// each, blocking posix sockets and the core's RequestReader and
// ResponseWriter), nothing allocated per request, and the faults a pool
// must survive on demand. It can be killed (stop(): the listener and every
// connection close, as when the process dies) and started again on the same
// port (start()), and it can close keep-alive connections that stay idle
// (Options::idle_close), as real servers do.
//
// The request path picks the reply (a base path in front is ignored: the
// last segment decides):
//   .../echo       200, body "conn=C target=T key=K" (C: connection number
//                  from 1, T: the request target, K: the X-API-KEY field)
//   .../json       200, a small JSON body
//   .../close      200 + Connection: close, then the connection closes
//   .../slow?ms=N  200 after N ms
//   .../truncate   Content-Length 100, 10 bytes, then close (FIN)
//   .../reset      Content-Length 100, 10 bytes, then reset (RST)
//   .../silent     never answers (until stop())
//   .../malformed  a head with an invalid Content-Length; the connection
//                  stays open (the client must not reuse it)
//   anything else  404
// A request carrying "X-Request-Id: N" (N < kMaxIds) is counted under N:
// times_seen(N) tells whether a request reached the server more than once.
#ifndef TERN_TESTS_SUPPORT_POOL_POOL_TEST_SERVER_H_
#define TERN_TESTS_SUPPORT_POOL_POOL_TEST_SERVER_H_

#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/request_reader.h"
#include "core/http/response_writer.h"

namespace tern::testing {

struct PoolTestServerOptions {
  std::uint16_t port = 0;  // 0: pick a free one (kept across restarts)
  // Close a keep-alive connection that received nothing for this long.
  absl::Duration idle_close = absl::InfiniteDuration();
  // Benchmarks: run every server thread on this CPU (-1: anywhere).
  int cpu = -1;
};

class PoolTestServer {
 public:
  static constexpr std::size_t kMaxIds = 1 << 16;
  using Options = PoolTestServerOptions;

  explicit PoolTestServer(Options o = {}) : options_(o), seen_(new std::atomic<int>[kMaxIds]) {
    for (std::size_t i = 0; i < kMaxIds; ++i) seen_[i] = 0;
    start();
  }
  ~PoolTestServer() { stop(); }
  PoolTestServer(const PoolTestServer&) = delete;
  PoolTestServer& operator=(const PoolTestServer&) = delete;

  // Listens (again) on the same port. False if the port cannot be bound.
  bool start() {
    if (running_) return true;
    auto l = posix::Listener::bind("127.0.0.1", options_.port);
    if (!l.ok()) return false;
    listener_ = std::make_unique<posix::Listener>(*std::move(l));
    options_.port = listener_->port();
    stop_ = false;
    running_ = true;
    acceptor_ = std::thread([this] { accept_loop(); });
    return true;
  }

  // Kills the server: no more accepts, every connection closed (the peer
  // sees EOF, or a reset if its request was unread), all threads joined.
  void stop() {
    if (!running_) return;
    stop_ = true;
    listener_->shutdown();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
    listener_.reset();
    running_ = false;
  }

  std::uint16_t port() const { return options_.port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(options_.port); }
  int times_seen(std::size_t id) const { return id < kMaxIds ? seen_[id].load() : 0; }
  int open_connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(open_fds_.size());
  }

  std::atomic<int> connections{0};  // accepted, ever
  // Connections whose thread has its buffers and waits for requests: a test
  // that counts allocations waits for this to reach `connections` first.
  std::atomic<int> serving{0};
  std::atomic<int> requests{0};     // complete requests read
  std::atomic<int> idle_closes{0};  // connections closed by idle_close

 private:
  void pin() const {
    if (options_.cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options_.cpu, &set);
    ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
  }

  void accept_loop() {
    pin();
    while (!stop_) {
      absl::StatusOr<posix::Socket> s = listener_->accept();
      if (!s.ok()) return;
      const int number = ++connections;
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      open_fds_.push_back(s->fd());
      threads_.emplace_back([this, number, stream = std::make_shared<posix::Stream>(*std::move(s))] {
        pin();
        serve(*stream, number);
        forget(stream->socket().fd());
      });
    }
  }

  void forget(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::size_t i = 0; i < open_fds_.size(); ++i) {
      if (open_fds_[i] == fd) {
        open_fds_[i] = open_fds_.back();
        open_fds_.pop_back();
        break;
      }
    }
  }

  // Sleeps up to `d`, in steps, until stop().
  void nap(absl::Duration d) {
    const absl::Time end = absl::Now() + d;
    while (!stop_ && absl::Now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  static std::string_view last_segment(std::string_view target) {
    target = target.substr(0, target.find('?'));
    const std::size_t slash = target.rfind('/');
    return slash == std::string_view::npos ? target : target.substr(slash + 1);
  }

  static int query_int(std::string_view target, std::string_view key) {
    const std::size_t at = target.find(key);
    if (at == std::string_view::npos) return 0;
    int v = 0;
    const std::string_view rest = target.substr(at + key.size());
    std::from_chars(rest.data(), rest.data() + rest.size(), v);
    return v;
  }

  void serve(posix::Stream& stream, int number) {
    posix::Socket& sock = stream.socket();
    if (options_.idle_close != absl::InfiniteDuration()) (void)sock.set_read_timeout(options_.idle_close);
    auto writer = http::ResponseWriter::create({});
    ReadBuf in(64 * 1024);
    WriteBuf out(64 * 1024);
    http::RequestReader reader;
    ++serving;
    while (!stop_) {
      const http::Progress p = reader.next(in);
      if (p == http::Progress::Failed) return;
      if (p == http::Progress::NeedMore) {
        absl::StatusOr<std::size_t> n = stream.read(in);
        if (!n.ok()) {
          if (absl::IsDeadlineExceeded(n.status())) ++idle_closes;
          return;
        }
        if (*n == 0) return;
        continue;
      }
      ++requests;
      std::uint64_t id = 0;
      const std::string_view id_text = reader.headers().get("X-Request-Id");
      if (std::from_chars(id_text.data(), id_text.data() + id_text.size(), id).ec == std::errc() &&
          id < kMaxIds) {
        ++seen_[id];
      }
      const std::string_view target = reader.target();
      const std::string_view what = last_segment(target);
      out.clear();
      bool close_after = false;
      if (what == "echo") {
        char body[512];
        const std::string_view key = reader.headers().get("X-API-KEY");
        const int len = std::snprintf(body, sizeof body, "conn=%d target=%.*s key=%.*s", number,
                                      static_cast<int>(target.size()), target.data(),
                                      static_cast<int>(key.size()), key.data());
        (void)writer->start(out, 200).body(std::string_view(body, static_cast<std::size_t>(len)));
      } else if (what == "json") {
        (void)writer->start(out, 200).header("Content-Type", "application/json").body(kJson);
      } else if (what == "close") {
        (void)writer->start(out, 200).header("Connection", "close").body("bye");
        close_after = true;
      } else if (what == "slow") {
        nap(absl::Milliseconds(query_int(target, "ms=")));
        (void)writer->start(out, 200).body("slow");
      } else if (what == "truncate" || what == "reset") {
        const std::string_view partial = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
        (void)out.append({reinterpret_cast<const std::uint8_t*>(partial.data()), partial.size()});
        (void)stream.write(out.data());
        if (what == "reset") {
          // SO_LINGER 0: close() sends RST instead of FIN.
          const linger l{1, 0};
          ::setsockopt(sock.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        return;
      } else if (what == "malformed") {
        const std::string_view head = "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n";
        (void)out.append({reinterpret_cast<const std::uint8_t*>(head.data()), head.size()});
      } else if (what == "silent") {
        nap(absl::Hours(1));
        return;
      } else {
        (void)writer->start(out, 404).finish();
      }
      if (!stream.write(out.data()).ok()) return;
      if (close_after) {
        stream.close_write();
        return;
      }
    }
  }

  static constexpr std::string_view kJson = R"({"id":"c-42","status":"accepted","ts":1732380000123456789})";

  Options options_;
  std::unique_ptr<std::atomic<int>[]> seen_;
  std::unique_ptr<posix::Listener> listener_;
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  bool running_ = false;
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_POOL_POOL_TEST_SERVER_H_
