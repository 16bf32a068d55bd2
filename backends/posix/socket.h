// File: socket.h
//
// Blocking TCP sockets for the POSIX backend: Socket (one connected stream,
// owning its file descriptor) and Listener (a bound, listening socket).
// Connect resolves the host with getaddrinfo, tries each IPv4/IPv6 address in
// turn within one overall connect timeout, and applies SocketOptions.
//
// Errors are absl::Status with the errno text, mapped once: refused, reset,
// unreachable and EOF mid-message → kUnavailable; timeouts →
// kDeadlineExceeded; name resolution failures → kNotFound; misuse →
// kFailedPrecondition. A Socket whose read or write failed is poisoned: every
// later call returns the first error, so a caller never writes a second
// request on a half-dead connection.
#ifndef TERN_BACKENDS_POSIX_SOCKET_H_
#define TERN_BACKENDS_POSIX_SOCKET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/options.h"
#include "backends/status.h"

namespace tern::posix {

// Connect timeout, read/write timeouts, TCP_NODELAY, keepalive, buffer
// sizes: the options every backend shares (backends/options.h).
using SocketOptions = ::tern::SocketOptions;

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  // TCP connection to host:port (a name, an IPv4 literal or an IPv6 literal
  // without brackets).
  static absl::StatusOr<Socket> connect(std::string_view host, std::uint16_t port,
                                        const SocketOptions& options);

  // Sets NODELAY, keepalive, buffer sizes and timeouts on an open socket.
  absl::Status apply(const SocketOptions& options);

  // Reads what is available (at least one byte), blocking up to the read
  // timeout. 0 means the peer closed its side (EOF). EINTR is retried.
  absl::StatusOr<std::size_t> read_some(std::span<std::uint8_t> into);
  // Writes everything, looping over partial writes and EINTR.
  absl::Status write_all(std::span<const std::uint8_t> bytes);

  // Half-close: no more writes (the peer reads EOF).
  void shutdown_write() noexcept;
  void close() noexcept;

  int fd() const noexcept { return fd_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  // The first I/O error, if any; every later call returns it again.
  const absl::Status& poisoned() const noexcept { return poison_; }
  // Changes the bound on each later read (InfiniteDuration(): none).
  absl::Status set_read_timeout(absl::Duration d);
  absl::Duration read_timeout() const noexcept { return read_timeout_; }

 private:
  absl::Status poison(absl::Status s);
  absl::Status wait(short events, absl::Duration timeout, const char* what);

  int fd_ = -1;
  absl::Duration read_timeout_ = absl::InfiniteDuration();
  absl::Duration write_timeout_ = absl::Seconds(30);
  absl::Status poison_;
};

class Listener {
 public:
  // Binds host:port (port 0 picks a free one; see port()) and listens.
  static absl::StatusOr<Listener> bind(std::string_view host, std::uint16_t port,
                                       int backlog = 128);

  // Blocks until a client connects; applies `options` to it.
  absl::StatusOr<Socket> accept(const SocketOptions& options = {});

  std::uint16_t port() const noexcept { return port_; }
  int fd() const noexcept { return socket_.fd(); }
  // Wakes a blocked accept() (from another thread) with an error.
  void shutdown() noexcept;

 private:
  Socket socket_;
  std::uint16_t port_ = 0;
};

// errno → absl::Status per the mapping above (backends/status.h).
using ::tern::errno_status;

}  // namespace tern::posix

#endif  // TERN_BACKENDS_POSIX_SOCKET_H_
