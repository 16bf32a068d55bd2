// File: socket.h
//
// TCP sockets for the Asio backend before they carry a connection:
//   connect_socket()  resolves a host (Asio's resolver; IPv4 and IPv6
//                     literals skip it) and connects, trying each address
//                     within one overall connect_timeout that also bounds
//                     the resolution, and applies SocketOptions;
//   listen()          a bound, listening acceptor (backends/net.h's
//                     listen_tcp, adopted by an asio::ip::tcp::acceptor);
//   accept()          the next client from an acceptor, options applied;
//   io_status()       an Asio error code as the status every backend
//                     returns for it (backends/status.h).
// Statuses match the epoll backend's: kNotFound (resolution), kUnavailable
// (refused, unreachable), kDeadlineExceeded ("connect H:P: timed out after
// 10s"), kCancelled (the caller's cancellation slot fired).
#ifndef TERN_BACKENDS_ASIO_SOCKET_H_
#define TERN_BACKENDS_ASIO_SOCKET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"
#include "asio/ip/tcp.hpp"
#include "backends/options.h"

namespace tern::asio {

// errno-based codes through errno_status(what); others by name.
absl::Status io_status(const std::error_code& ec, std::string_view what);

// A connected socket on `executor`, or why not. Cancellable through the
// awaiting coroutine's cancellation state.
::asio::awaitable<absl::StatusOr<::asio::ip::tcp::socket>> connect_socket(::asio::any_io_executor executor,
                                                                            std::string host, std::uint16_t port,
                                                                            SocketOptions options);

// A listening acceptor on host:port (port 0: any free port).
absl::StatusOr<::asio::ip::tcp::acceptor> listen(::asio::any_io_executor executor, std::string_view host,
                                                 std::uint16_t port, int backlog = 1024);

// The next client from `acceptor`, with `options` applied.
::asio::awaitable<absl::StatusOr<::asio::ip::tcp::socket>> accept(::asio::ip::tcp::acceptor& acceptor,
                                                                    SocketOptions options);

}  // namespace tern::asio

#endif  // TERN_BACKENDS_ASIO_SOCKET_H_
