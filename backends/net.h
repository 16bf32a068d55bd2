// File: net.h
//
// The socket plumbing every socket-based backend shares, so that posix,
// epoll and any later backend resolve, bind and configure sockets the same
// way: name resolution (getaddrinfo, blocking; numeric hosts never touch the
// resolver), SocketOptions applied to a descriptor, and a listening socket.
// Errors are absl::Status from errno_status().
#ifndef TERN_BACKENDS_NET_H_
#define TERN_BACKENDS_NET_H_

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/options.h"

namespace tern::net {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

// host as an IPv4 or IPv6 literal (no brackets): the address, with no
// resolver call; nullopt for a name.
std::optional<Address> numeric_address(std::string_view host, std::uint16_t port) noexcept;

// Every address of host:port, in the resolver's order (getaddrinfo, which
// blocks: a backend with a loop runs it elsewhere). kNotFound if none.
absl::StatusOr<std::vector<Address>> resolve(std::string_view host, std::uint16_t port);

// TCP_NODELAY, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF (not the timeouts, which
// each backend keeps its own way).
absl::Status apply_socket_options(int fd, const SocketOptions& options) noexcept;

// A bound, listening TCP socket (SO_REUSEADDR, close-on-exec, non-blocking
// if asked) and the port it got (port 0: any free one).
struct ListeningSocket {
  int fd = -1;
  std::uint16_t port = 0;
};
absl::StatusOr<ListeningSocket> listen_tcp(std::string_view host, std::uint16_t port, int backlog,
                                           bool nonblocking);

}  // namespace tern::net

#endif  // TERN_BACKENDS_NET_H_
