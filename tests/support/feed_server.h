// File: feed_server.h
//
// FeedServer is a WebSocket venue under a test's control, for the session
// suites of every backend (and the session example): blocking posix threads
// (an accept thread, one thread per connection), loopback only. What a
// client writes is recorded per connection in order; a client that sends a
// text starting with "sub" is subscribed and gets the stream, "seq <n>" for
// n = 0, 1, 2, ... derived from the clock (one every stream period since
// the server was made), so every connection subscribed at the same time
// sends the same numbers, as a venue's feed does. Behaviours:
//
//   kill() / restart()       a crash: the listener and every connection
//                            close at once (no Close frame); the same port
//                            listens again
//   set_accept_then_close()  new connections get a Close right after the
//                            handshake
//   set_answer_pings(false)  Pings are no longer answered (auto-pong off)
//   set_app_replies(false)   the text "ping" is no longer answered "pong",
//                            nor "auth ..." with "auth ok"
//   close_all(1001, ...)     every open connection sends a Close
//   protocol_violation()     every open connection sends a frame with a
//                            reserved opcode
//   ping_clients()           every open connection sends a Ping "srv";
//                            pongs_received() counts the answers
//
// Every wait is bounded (connection threads look at their commands every
// millisecond); the destructor stops everything. Thread-safe. (A server
// silent without a FIN is tests/support/pool/tcp_proxy.h in front of it.)
#ifndef TERN_TESTS_SUPPORT_FEED_SERVER_H_
#define TERN_TESTS_SUPPORT_FEED_SERVER_H_

#include <atomic>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"
#include "core/tls/tls_config.h"
#include "core/ws/close_code.h"

namespace tern::testing {

class FeedServer {
 public:
  // Listens on 127.0.0.1:`port` (0: any free port); wss with `tls` (a
  // server config, kept by the caller) when it is not null.
  explicit FeedServer(std::uint16_t port = 0, absl::Duration stream_period = absl::Milliseconds(1),
                      const tls::TlsConfig* tls = nullptr)
      : period_(stream_period), epoch_(absl::Now()), tls_(tls) {
    // Reserved so that serving a connection allocates nothing once its
    // handshake is done (the allocation tests count every thread).
    conns_.reserve(kMaxConnections);
    (void)listen(port);
  }
  ~FeedServer() { kill(); }
  FeedServer(const FeedServer&) = delete;
  FeedServer& operator=(const FeedServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const {
    return std::string(tls_ != nullptr ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port_) + "/feed";
  }
  bool listening() const { return listening_.load(); }

  // The crash: stops accepting and drops every connection (FIN, no Close).
  void kill() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (listener_) listener_->shutdown();
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    listening_ = false;
    ++generation_;  // connection threads of older generations exit
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(conn_threads_);
      listener_.reset();
    }
    for (std::thread& t : threads) t.join();
  }
  // Listens on the same port again.
  bool restart() { return listen(port_); }

  void set_accept_then_close(bool on, ws::CloseCode code = ws::CloseCode::Normal) {
    accept_then_close_ = on;
    accept_close_code_ = static_cast<int>(code);
  }
  void set_answer_pings(bool on) { answer_pings_ = on; }
  void set_app_replies(bool on) { app_replies_ = on; }
  void set_streaming(bool on) { streaming_ = on; }
  void close_all(ws::CloseCode code) {
    close_code_ = static_cast<int>(code);
    ++close_generation_;
  }
  void protocol_violation() { ++violation_generation_; }
  void ping_clients() { ++ping_generation_; }

  // Connections whose handshake completed so far, and when.
  int accepted() const { return static_cast<int>(accept_times().size()); }
  std::vector<absl::Time> accept_times() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<absl::Time> v;
    for (const Record& r : conns_) {
      if (r.accepted_at != absl::InfiniteFuture()) v.push_back(r.accepted_at);
    }
    return v;
  }
  // TCP connections taken from the listener (before the handshake).
  int tcp_accepts() const { return tcp_accepts_.load(); }
  // What each connection (in accept order) received, in order.
  std::vector<std::vector<std::string>> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::vector<std::string>> v;
    for (const Record& r : conns_) {
      if (r.accepted_at != absl::InfiniteFuture()) v.push_back(r.received);
    }
    return v;
  }
  int pings_received() const { return pings_.load(); }
  // Pongs carrying the payload of ping_clients()'s Pings.
  int pongs_received() const { return pongs_.load(); }
  // The sequence number the stream is at now.
  std::uint64_t current_seq() const { return static_cast<std::uint64_t>((absl::Now() - epoch_) / period_); }

 private:
  bool listen(std::uint16_t port) {
    auto l = posix::Listener::bind("127.0.0.1", port);
    if (!l.ok()) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      listener_ = std::make_unique<posix::Listener>(*std::move(l));
      port_ = listener_->port();
    }
    listening_ = true;
    const int gen = generation_.load();
    accept_thread_ = std::thread([this, gen] { accept_loop(gen); });
    return true;
  }

  void accept_loop(int gen) {
    for (;;) {
      posix::Listener* l;
      {
        std::lock_guard<std::mutex> lock(mu_);
        l = listener_.get();
      }
      absl::StatusOr<posix::Socket> s = l->accept();
      if (!s.ok() || generation_.load() != gen) return;
      ++tcp_accepts_;
      std::lock_guard<std::mutex> lock(mu_);
      conn_threads_.emplace_back([this, gen, sock = std::make_shared<posix::Socket>(*std::move(s))]() mutable {
        serve(gen, std::move(*sock));
      });
    }
  }

  void serve(int gen, posix::Socket socket) {
    std::size_t index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (conns_.size() == kMaxConnections) return;
      index = conns_.size();
      conns_.emplace_back();
      conns_.back().received.reserve(64);
    }
    WebSocketOptions o;
    o.tls = tls_;
    o.auto_pong = false;  // answered by hand while answer_pings_
    o.handshake_timeout = absl::Seconds(2);
    o.close_timeout = absl::Milliseconds(200);
    absl::StatusOr<posix::WebSocket> accepted = posix::WebSocket::accept(std::move(socket), o);
    if (!accepted.ok()) return;
    posix::WebSocket& ws = *accepted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      conns_[index].accepted_at = absl::Now();
    }
    if (accept_then_close_) {
      (void)ws.close(static_cast<ws::CloseCode>(accept_close_code_.load()), "go away");
      return;
    }
    int close_seen = close_generation_.load();
    int violation_seen = violation_generation_.load();
    int ping_seen = ping_generation_.load();
    bool subscribed = false;
    std::uint64_t next_seq = 0;
    char text[32];
    while (generation_.load() == gen) {
      absl::StatusOr<bool> readable = ws.wait_readable(absl::Milliseconds(1));
      if (!readable.ok()) return;
      if (*readable) {
        absl::StatusOr<ws::Message> m = ws.recv();
        if (!m.ok()) return;
        if (m->opcode == ws::Opcode::Close) return;
        if (m->opcode == ws::Opcode::Ping) {
          ++pings_;
          if (answer_pings_ && !ws.send_pong(m->payload).ok()) return;
        } else if (m->opcode == ws::Opcode::Pong) {
          if (m->text() == kServerPing) ++pongs_;
        } else if (m->opcode == ws::Opcode::Text || m->opcode == ws::Opcode::Binary) {
          const std::string_view t = m->text();
          const char* reply = !app_replies_ ? nullptr : t == "ping" ? "pong" : t.substr(0, 4) == "auth" ? "auth ok" : nullptr;
          {
            std::lock_guard<std::mutex> lock(mu_);
            std::vector<std::string>& got = conns_[index].received;
            if (got.size() < got.capacity()) got.emplace_back(t);
            if (t.substr(0, 3) == "sub" && !subscribed) {
              subscribed = true;
              next_seq = current_seq();
            }
          }
          if (reply != nullptr && !ws.send_text(reply).ok()) return;
        }
      }
      if (close_generation_.load() != close_seen) {
        (void)ws.close(static_cast<ws::CloseCode>(close_code_.load()), "going away");
        return;
      }
      if (violation_generation_.load() != violation_seen) {
        violation_seen = violation_generation_.load();
        const std::uint8_t bad[] = {0x83, 0x00};  // FIN, reserved opcode 3 (RFC 6455 §5.2)
        (void)ws.stream().write(bad);
      }
      if (ping_generation_.load() != ping_seen) {
        ping_seen = ping_generation_.load();
        const std::uint8_t* p = reinterpret_cast<const std::uint8_t*>(kServerPing.data());
        if (!ws.send_ping({p, kServerPing.size()}).ok()) return;
      }
      if (subscribed && streaming_) {
        const std::uint64_t now_seq = current_seq();
        // From the number current at the subscription, sent at once.
        for (int n = 0; next_seq <= now_seq && n < 256; ++n, ++next_seq) {
          const int len = std::snprintf(text, sizeof text, "seq %llu", static_cast<unsigned long long>(next_seq));
          if (!ws.queue_text(std::string_view(text, static_cast<std::size_t>(len))).ok()) return;
        }
        if (!ws.flush().ok()) return;
      }
    }
    // Killed: the socket closes with the WebSocket, no Close frame.
  }

  static constexpr std::size_t kMaxConnections = 4096;
  static constexpr std::string_view kServerPing = "srv";
  struct Record {
    absl::Time accepted_at = absl::InfiniteFuture();  // handshake done
    std::vector<std::string> received;               // up to 64 messages
  };

  const absl::Duration period_;
  const absl::Time epoch_;
  const tls::TlsConfig* const tls_;
  mutable std::mutex mu_;
  std::unique_ptr<posix::Listener> listener_;
  std::atomic<std::uint16_t> port_{0};
  std::thread accept_thread_;
  std::vector<std::thread> conn_threads_;
  std::vector<Record> conns_;
  std::atomic<bool> listening_{false};
  std::atomic<int> generation_{0};
  std::atomic<int> tcp_accepts_{0};
  std::atomic<int> pings_{0};
  std::atomic<bool> accept_then_close_{false};
  std::atomic<int> accept_close_code_{1000};
  std::atomic<bool> answer_pings_{true};
  std::atomic<bool> app_replies_{true};
  std::atomic<bool> streaming_{true};
  std::atomic<int> close_generation_{0};
  std::atomic<int> close_code_{1001};
  std::atomic<int> violation_generation_{0};
  std::atomic<int> ping_generation_{0};
  std::atomic<int> pongs_{0};
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_FEED_SERVER_H_
