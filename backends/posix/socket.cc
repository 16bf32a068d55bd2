#include "backends/posix/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace tern::posix {
namespace {


timeval to_timeval(absl::Duration d) {
  if (d == absl::InfiniteDuration() || d <= absl::ZeroDuration()) return {0, 0};  // 0 = no timeout
  return absl::ToTimeval(d);
}

int poll_ms(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return -1;
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return ms <= 0 ? 0 : static_cast<int>(ms > 1 << 30 ? 1 << 30 : ms);
}

// getaddrinfo(3) as a StatusOr; the caller frees the list.
absl::StatusOr<addrinfo*> resolve(const std::string& host, std::uint16_t port, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_z = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_z.c_str(), &hints, &found);
  if (rc != 0) return absl::NotFoundError(absl::StrCat("resolve ", host, ": ", gai_strerror(rc)));
  return found;
}

}  // namespace

Socket::Socket(Socket&& other) noexcept
    : fd_(other.fd_), read_timeout_(other.read_timeout_),
      write_timeout_(other.write_timeout_), poison_(std::move(other.poison_)) {
  other.fd_ = -1;
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    read_timeout_ = other.read_timeout_;
    write_timeout_ = other.write_timeout_;
    poison_ = std::move(other.poison_);
    other.fd_ = -1;
  }
  return *this;
}

Socket::~Socket() { close(); }

void Socket::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Socket::shutdown_write() noexcept {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

absl::Status Socket::poison(absl::Status s) {
  if (poison_.ok()) poison_ = s;
  return s;
}

absl::Status Socket::apply(const SocketOptions& o) {
  const int one = 1;
  if (o.tcp_nodelay && ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    return errno_status(errno, "setsockopt(TCP_NODELAY)");
  }
  if (o.keepalive && ::setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0) {
    return errno_status(errno, "setsockopt(SO_KEEPALIVE)");
  }
  if (o.receive_buffer > 0 &&
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &o.receive_buffer, sizeof o.receive_buffer) != 0) {
    return errno_status(errno, "setsockopt(SO_RCVBUF)");
  }
  if (o.send_buffer > 0 &&
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &o.send_buffer, sizeof o.send_buffer) != 0) {
    return errno_status(errno, "setsockopt(SO_SNDBUF)");
  }
  // Timeouts live in the kernel (SO_RCVTIMEO/SO_SNDTIMEO) so a read costs
  // one syscall, not a poll() plus a read().
  read_timeout_ = o.read_timeout;
  write_timeout_ = o.write_timeout;
  const timeval rtv = to_timeval(o.read_timeout);
  const timeval wtv = to_timeval(o.write_timeout);
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &rtv, sizeof rtv) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &wtv, sizeof wtv) != 0) {
    return errno_status(errno, "setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)");
  }
  return absl::OkStatus();
}

absl::Status Socket::set_read_timeout(absl::Duration d) {
  const timeval tv = to_timeval(d);
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    return errno_status(errno, "setsockopt(SO_RCVTIMEO)");
  }
  read_timeout_ = d;
  return absl::OkStatus();
}

absl::StatusOr<Socket> Socket::connect(std::string_view host, std::uint16_t port,
                                       const SocketOptions& options) {
  const absl::Time deadline = absl::Now() + options.connect_timeout;
  const std::string host_z(host);
  absl::StatusOr<addrinfo*> resolved = resolve(host_z, port, AI_ADDRCONFIG);
  // AI_ADDRCONFIG hides loopback-only families on hosts without a routable
  // address; retry plainly before giving up.
  if (!resolved.ok()) resolved = resolve(host_z, port, 0);
  if (!resolved.ok()) return resolved.status();
  addrinfo* found = *resolved;
  absl::Status last = absl::UnavailableError(absl::StrCat("connect ", host_z, ": no address"));
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last = errno_status(errno, "socket");
      continue;
    }
    Socket s(fd);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      do {
        rc = ::poll(&p, 1, poll_ms(deadline - absl::Now()));
      } while (rc < 0 && errno == EINTR);
      if (rc == 0) {
        last = absl::DeadlineExceededError(absl::StrCat("connect ", host_z, ":", port, ": timed out after ",
                                                        absl::FormatDuration(options.connect_timeout)));
        break;  // the deadline covers every address
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      last = errno_status(errno, absl::StrCat("connect ", host_z, ":", port));
      continue;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    if (absl::Status st = s.apply(options); !st.ok()) {
      last = st;
      continue;
    }
    ::freeaddrinfo(found);
    return s;
  }
  ::freeaddrinfo(found);
  return last;
}

absl::StatusOr<std::size_t> Socket::read_some(std::span<std::uint8_t> into) {
  if (!poison_.ok()) return poison_;
  if (fd_ < 0) return absl::FailedPreconditionError("read on a closed socket");
  for (;;) {
    const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return poison(absl::DeadlineExceededError(
          absl::StrCat("read timed out after ", absl::FormatDuration(read_timeout_))));
    }
    return poison(errno_status(errno, "read"));
  }
}

absl::Status Socket::write_all(std::span<const std::uint8_t> bytes) {
  if (!poison_.ok()) return poison_;
  if (fd_ < 0) return absl::FailedPreconditionError("write on a closed socket");
  // send(2), not sendmsg(2): one span is the common case and skips the
  // msghdr/iovec import.
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return poison(absl::DeadlineExceededError(
            absl::StrCat("write timed out after ", absl::FormatDuration(write_timeout_))));
      }
      return poison(errno_status(errno, "write"));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<Listener> Listener::bind(std::string_view host, std::uint16_t port, int backlog) {
  const std::string host_z(host);
  absl::StatusOr<addrinfo*> resolved = resolve(host_z, port, AI_PASSIVE);
  if (!resolved.ok()) return resolved.status();
  addrinfo* found = *resolved;
  absl::Status last = absl::UnavailableError("bind: no address");
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    Socket s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!s.is_open()) {
      last = errno_status(errno, "socket");
      continue;
    }
    const int one = 1;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s.fd(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last = errno_status(errno, absl::StrCat("bind ", host_z, ":", port));
      continue;
    }
    if (::listen(s.fd(), backlog) != 0) {
      last = errno_status(errno, "listen");
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&addr), &len);
    Listener l;
    l.port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    l.socket_ = std::move(s);
    ::freeaddrinfo(found);
    return l;
  }
  ::freeaddrinfo(found);
  return last;
}

absl::StatusOr<Socket> Listener::accept(const SocketOptions& options) {
  for (;;) {
    const int fd = ::accept4(socket_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return errno_status(errno, "accept");
    }
    Socket s(fd);
    if (absl::Status st = s.apply(options); !st.ok()) return st;
    return s;
  }
}

void Listener::shutdown() noexcept {
  if (socket_.is_open()) ::shutdown(socket_.fd(), SHUT_RDWR);
}

}  // namespace tern::posix
