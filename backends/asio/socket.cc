#include "backends/asio/socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asio/error.hpp"
#include "asio/experimental/as_tuple.hpp"
#include "asio/steady_timer.hpp"
#include "asio/this_coro.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/net.h"
#include "backends/status.h"

namespace tern::asio {

namespace {

using ::asio::ip::tcp;
constexpr auto kNoThrow = ::asio::experimental::as_tuple(::asio::use_awaitable);

absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }

tcp::endpoint to_endpoint(const net::Address& a) {
  tcp::endpoint ep;
  std::memcpy(ep.data(), a.get(), a.length);
  ep.resize(a.length);
  return ep;
}

// Everything the deadline's handler touches, kept alive by that handler.
struct Connecting {
  explicit Connecting(const ::asio::any_io_executor& ex) : resolver(ex), socket(ex), timer(ex) {}
  tcp::resolver resolver;
  tcp::socket socket;
  ::asio::steady_timer timer;
  bool expired = false;
};

}  // namespace

absl::Status io_status(const std::error_code& ec, std::string_view what) {
  if (ec.category() == std::system_category() || ec.category() == std::generic_category() ||
      ec.category() == ::asio::error::get_system_category()) {
    return errno_status(ec.value(), what);
  }
  if (ec == ::asio::error::eof) return absl::UnavailableError(absl::StrCat(av(what), ": end of stream"));
  return absl::UnknownError(absl::StrCat(av(what), ": ", ec.message()));
}

::asio::awaitable<absl::StatusOr<tcp::socket>> connect_socket(::asio::any_io_executor ex, std::string host,
                                                              std::uint16_t port, SocketOptions o) {
  const std::string where = absl::StrCat(host, ":", port);
  auto c = std::make_shared<Connecting>(ex);
  if (o.connect_timeout != absl::InfiniteDuration()) {
    c->timer.expires_after(absl::ToChronoNanoseconds(o.connect_timeout));
    c->timer.async_wait([c](const std::error_code& ec) {
      if (ec) return;
      c->expired = true;
      c->resolver.cancel();
      std::error_code ignored;
      c->socket.cancel(ignored);
    });
  }
  struct CancelTimer {
    Connecting* c;
    ~CancelTimer() { c->timer.cancel(); }
  } cancel_timer{c.get()};
  const auto timed_out = [&] {
    return absl::DeadlineExceededError(
        absl::StrCat("connect ", where, ": timed out after ", absl::FormatDuration(o.connect_timeout)));
  };

  std::vector<tcp::endpoint> endpoints;
  if (std::optional<net::Address> a = net::numeric_address(host, port)) {
    endpoints.push_back(to_endpoint(*a));
  } else {
    auto [ec, results] =
        co_await c->resolver.async_resolve(host, std::to_string(port), tcp::resolver::numeric_service, kNoThrow);
    if (c->expired) co_return timed_out();
    if (ec == ::asio::error::operation_aborted) co_return absl::CancelledError("connect cancelled");
    if (ec) co_return absl::NotFoundError(absl::StrCat("resolve ", host, ": ", ec.message()));
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    if (endpoints.empty()) co_return absl::NotFoundError(absl::StrCat("resolve ", host, ": no address"));
  }

  absl::Status last = absl::UnavailableError(absl::StrCat("connect ", where, ": no address"));
  for (const tcp::endpoint& ep : endpoints) {
    std::error_code ec;
    if (c->socket.is_open()) c->socket.close(ec);
    c->socket.open(ep.protocol(), ec);
    if (ec) {
      last = io_status(ec, "socket");
      continue;
    }
    std::tie(ec) = co_await c->socket.async_connect(ep, kNoThrow);
    if (c->expired) co_return timed_out();
    if (ec == ::asio::error::operation_aborted) co_return absl::CancelledError("connect cancelled");
    if (ec) {
      last = io_status(ec, absl::StrCat("connect ", where));
      continue;
    }
    if (absl::Status st = net::apply_socket_options(c->socket.native_handle(), o); !st.ok()) {
      last = st;
      continue;
    }
    co_return std::move(c->socket);
  }
  co_return last;
}

absl::StatusOr<tcp::acceptor> listen(::asio::any_io_executor ex, std::string_view host, std::uint16_t port,
                                     int backlog) {
  absl::StatusOr<net::ListeningSocket> l = net::listen_tcp(host, port, backlog, /*nonblocking=*/true);
  if (!l.ok()) return l.status();
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(l->fd, reinterpret_cast<sockaddr*>(&addr), &len);
  tcp::acceptor acceptor(ex);
  std::error_code ec;
  acceptor.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), l->fd, ec);
  if (ec) {
    ::close(l->fd);
    return io_status(ec, "listen");
  }
  return acceptor;
}

::asio::awaitable<absl::StatusOr<tcp::socket>> accept(tcp::acceptor& acceptor, SocketOptions o) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == ::asio::error::connection_aborted) continue;
    if (ec == ::asio::error::operation_aborted) co_return absl::CancelledError("accept cancelled");
    if (ec) co_return io_status(ec, "accept");
    if (absl::Status st = net::apply_socket_options(socket.native_handle(), o); !st.ok()) co_return st;
    co_return std::move(socket);
  }
}

}  // namespace tern::asio
