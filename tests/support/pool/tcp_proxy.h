// File: tcp_proxy.h
//
// TcpProxy forwards TCP from its own loopback port to an upstream one, for
// the black-hole fault (toxiproxy's "timeout 0"): black_hole() makes every
// connection open at that moment stop forwarding both ways while staying
// open (no FIN, no reset), so the client's read deadline is what fires.
// Connections made afterwards are forwarded normally. One thread per
// connection polling both sockets every few milliseconds; the destructor
// stops and joins everything.
#ifndef TERN_TESTS_SUPPORT_POOL_TCP_PROXY_H_
#define TERN_TESTS_SUPPORT_POOL_TCP_PROXY_H_

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/posix/socket.h"

namespace tern::testing {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t upstream) : upstream_(upstream) {
    auto l = posix::Listener::bind("127.0.0.1", 0);
    if (!l.ok()) return;
    listener_ = std::make_unique<posix::Listener>(*std::move(l));
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TcpProxy() {
    stop_ = true;
    if (listener_) listener_->shutdown();
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (std::thread& t : pumps_) t.join();
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(listener_ ? listener_->port() : 0); }
  // Every connection open now goes silent both ways and stays open.
  void black_hole() { ++epoch_; }
  std::atomic<int> connections{0};

 private:
  void accept_loop() {
    while (!stop_) {
      absl::StatusOr<posix::Socket> client = listener_->accept();
      if (!client.ok() || stop_) return;
      absl::StatusOr<posix::Socket> server = posix::Socket::connect("127.0.0.1", upstream_, {});
      if (!server.ok()) continue;  // the client sees its connection close
      ++connections;
      std::lock_guard<std::mutex> lock(mu_);
      pumps_.emplace_back([this, born = epoch_.load(), c = std::make_shared<posix::Socket>(*std::move(client)),
                           s = std::make_shared<posix::Socket>(*std::move(server))] { pump(born, *c, *s); });
    }
  }

  // Copies whatever either side sends to the other until one closes, the
  // proxy stops, or a black_hole() after this connection was made.
  void pump(int born, posix::Socket& a, posix::Socket& b) {
    std::uint8_t buf[16 * 1024];
    pollfd fds[2] = {{a.fd(), POLLIN, 0}, {b.fd(), POLLIN, 0}};
    while (!stop_) {
      if (epoch_.load() != born) {
        ::poll(nullptr, 0, 5);  // silent: hold both ends open, read nothing
        continue;
      }
      if (::poll(fds, 2, 5) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) return;  // one side closed: both close with this thread
        if (::send(fds[1 - i].fd, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return;
      }
    }
  }

  const std::uint16_t upstream_;
  std::unique_ptr<posix::Listener> listener_;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::atomic<int> epoch_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace tern::testing

#endif  // TERN_TESTS_SUPPORT_POOL_TCP_PROXY_H_
