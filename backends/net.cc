#include "backends/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/status.h"

namespace tern::net {
namespace {

absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }

absl::StatusOr<addrinfo*> getaddrinfo_list(const std::string& host, std::uint16_t port, int flags) {
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

std::vector<Address> to_addresses(const addrinfo* list) {
  std::vector<Address> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    Address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    a.family = ai->ai_family;
    out.push_back(a);
  }
  return out;
}

}  // namespace

std::optional<Address> numeric_address(std::string_view host, std::uint16_t port) noexcept {
  char text[INET6_ADDRSTRLEN + 1];
  if (host.empty() || host.size() >= sizeof text) return std::nullopt;
  std::memcpy(text, host.data(), host.size());
  text[host.size()] = '\0';
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  if (::inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof(sockaddr_in);
    a.family = AF_INET;
    return a;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (::inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof(sockaddr_in6);
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<Address>> resolve(std::string_view host, std::uint16_t port) {
  if (std::optional<Address> a = numeric_address(host, port)) return std::vector<Address>{*a};
  const std::string host_z(host);
  absl::StatusOr<addrinfo*> found = getaddrinfo_list(host_z, port, AI_ADDRCONFIG);
  // AI_ADDRCONFIG hides loopback-only families on hosts without a routable
  // address; retry plainly before giving up.
  if (!found.ok()) found = getaddrinfo_list(host_z, port, 0);
  if (!found.ok()) return found.status();
  std::vector<Address> out = to_addresses(*found);
  ::freeaddrinfo(*found);
  if (out.empty()) return absl::NotFoundError(absl::StrCat("resolve ", av(host), ": no address"));
  return out;
}

absl::Status apply_socket_options(int fd, const SocketOptions& o) noexcept {
  const int one = 1;
  if (o.tcp_nodelay && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    return errno_status(errno, "setsockopt(TCP_NODELAY)");
  }
  if (o.keepalive && ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0) {
    return errno_status(errno, "setsockopt(SO_KEEPALIVE)");
  }
  if (o.receive_buffer > 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.receive_buffer, sizeof o.receive_buffer) != 0) {
    return errno_status(errno, "setsockopt(SO_RCVBUF)");
  }
  if (o.send_buffer > 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.send_buffer, sizeof o.send_buffer) != 0) {
    return errno_status(errno, "setsockopt(SO_SNDBUF)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ListeningSocket> listen_tcp(std::string_view host, std::uint16_t port, int backlog,
                                           bool nonblocking) {
  const std::string host_z(host);
  absl::StatusOr<addrinfo*> found = getaddrinfo_list(host_z, port, AI_PASSIVE);
  if (!found.ok()) return found.status();
  absl::Status last = absl::UnavailableError("bind: no address");
  for (addrinfo* ai = *found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0),
                            ai->ai_protocol);
    if (fd < 0) {
      last = errno_status(errno, "socket");
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last = errno_status(errno, absl::StrCat("bind ", host_z, ":", port));
      ::close(fd);
      continue;
    }
    if (::listen(fd, backlog) != 0) {
      last = errno_status(errno, "listen");
      ::close(fd);
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ListeningSocket l;
    l.fd = fd;
    l.port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    ::freeaddrinfo(*found);
    return l;
  }
  ::freeaddrinfo(*found);
  return last;
}

}  // namespace tern::net
