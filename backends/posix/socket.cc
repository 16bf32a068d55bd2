#include "backends/posix/socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/net.h"

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
  if (absl::Status st = net::apply_socket_options(fd_, o); !st.ok()) return st;
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
  absl::StatusOr<std::vector<net::Address>> addresses = net::resolve(host, port);
  if (!addresses.ok()) return addresses.status();
  const std::string where = absl::StrCat(absl::string_view(host.data(), host.size()), ":", port);
  absl::Status last = absl::UnavailableError(absl::StrCat("connect ", where, ": no address"));
  for (const net::Address& a : *addresses) {
    const int fd = ::socket(a.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last = errno_status(errno, "socket");
      continue;
    }
    Socket s(fd);
    int rc = ::connect(fd, a.get(), a.length);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      do {
        rc = ::poll(&p, 1, poll_ms(deadline - absl::Now()));
      } while (rc < 0 && errno == EINTR);
      if (rc == 0) {
        last = absl::DeadlineExceededError(absl::StrCat("connect ", where, ": timed out after ",
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
      last = errno_status(errno, absl::StrCat("connect ", where));
      continue;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    if (absl::Status st = s.apply(options); !st.ok()) {
      last = st;
      continue;
    }
    return s;
  }
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
  absl::StatusOr<net::ListeningSocket> l = net::listen_tcp(host, port, backlog, /*nonblocking=*/false);
  if (!l.ok()) return l.status();
  Listener listener;
  listener.socket_ = Socket(l->fd);
  listener.port_ = l->port;
  return listener;
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
