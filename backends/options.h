// File: options.h
//
// The options every backend takes, defined once so that a pool, a session or
// a user switching from posix to epoll or Asio keeps the same vocabulary:
// SocketOptions (TCP and timeouts), WebSocketOptions and HttpOptions. Each
// backend names them as its own (tern::posix::WebSocketOptions is this
// tern::WebSocketOptions). Plain aggregates: designated initializers work,
//
//   tern::WebSocketOptions o{.tls = &cfg, .subprotocols = {"v1"}};
//
// and nothing here is read after the connection is built.
#ifndef TERN_BACKENDS_OPTIONS_H_
#define TERN_BACKENDS_OPTIONS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/http/client_connection.h"
#include "core/http/limits.h"
#include "core/tls/tls_config.h"
#include "core/ws/connection.h"
#include "core/ws/frame_reader.h"
#include "core/ws/handshake.h"

namespace tern {

struct SocketOptions {
  // Bound on connecting (all resolved addresses together). Name resolution
  // is not bounded by it (see each backend).
  absl::Duration connect_timeout = absl::Seconds(10);
  // Bound on each wait for bytes; InfiniteDuration() waits forever.
  absl::Duration read_timeout = absl::InfiniteDuration();
  // Bound on each wait for the kernel to take bytes.
  absl::Duration write_timeout = absl::Seconds(30);
  // Latency over throughput: small frames go out at once (Nagle off).
  bool tcp_nodelay = true;
  // SO_KEEPALIVE with the kernel's timers.
  bool keepalive = false;
  // SO_RCVBUF / SO_SNDBUF in bytes; 0 keeps the kernel's choice.
  int receive_buffer = 0;
  int send_buffer = 0;
  // Event-loop backends: a connection that has waited this long for bytes
  // with nothing buffered gives its (large) buffers' memory back to the
  // kernel; the pages return as traffic resumes. What lets a gateway hold
  // thousands of idle clients configured for large messages.
  // InfiniteDuration(): never. (The blocking backend never does.)
  absl::Duration release_memory_when_idle = absl::Seconds(1);
};

struct WebSocketOptions {
  // wss:// clients: the trust settings (nullptr: the system trust store).
  // Servers: the certificate and key; nullptr serves plain ws.
  const tls::TlsConfig* tls = nullptr;
  // Largest frame and message accepted (the reader checks headers first).
  ws::Limits limits{1u << 20, 1u << 20};
  // 0: the larger limit plus 64 KiB for headers and interleaved control
  // frames. A message must fit the read buffer whole.
  std::size_t read_buffer_size = 0;
  // Largest frame this side can send, plus its header.
  std::size_t write_buffer_size = (1u << 20) + 64;
  SocketOptions socket;
  // Client: offered in order of preference. Server: the ones it speaks; it
  // picks the first of these that the client offered.
  std::vector<std::string> subprotocols;
  // Client: sent with the upgrade request. Server: sent with the 101.
  ws::HeaderPairs extra_headers;
  http::Limits handshake_limits;
  // Answer pings automatically.
  bool auto_pong = true;
  // Bound on the opening handshake (TLS included), from the TCP connect.
  absl::Duration handshake_timeout = absl::Seconds(30);
  // How long close() waits for the peer's Close.
  absl::Duration close_timeout = absl::Seconds(5);
};

struct HttpOptions {
  // https:// trust settings; nullptr uses the system trust store.
  const tls::TlsConfig* tls = nullptr;
  SocketOptions socket;
  // A whole response (head and body) must fit: size it above the reader's
  // max_body_size.
  std::size_t read_buffer_size = (1u << 20) + (64u << 10);
  std::size_t write_buffer_size = 64u << 10;
};

// The core connection's share of the options.
ws::ConnectionOptions connection_options(const WebSocketOptions& o);
http::ClientConnectionOptions connection_options(const HttpOptions& o);

}  // namespace tern

#endif  // TERN_BACKENDS_OPTIONS_H_
