// File: client_pool_options.h
//
// ClientPoolOptions is everything a ClientPool or AtomicClientPool is built
// from (backends/pool/client_pool.h), on every backend: where to connect,
// what each slot's RequestWriter puts in every request (the Host from the
// URL, a base path, default fields such as an API key), the connections'
// options (TLS, socket options, buffer capacities), the response limits of
// each slot's ResponseReader, and the policy's figures (PoolConfig: how many
// connections, backoff, idle age, retry). A plain aggregate, copied into the
// pool at build(); the pool's builder fills it one call at a time.
//
//   tern::pool::ClientPoolOptions o;
//   o.url = "https://api.exchange.com";
//   o.base_path = "/api/v3";
//   o.default_headers = {{"X-API-KEY", key}};
//   o.config.connections = 4;
//
// What outlives the pool: the TlsConfig that http.tls points to (reconnects
// use it). Nothing else is borrowed.
#ifndef TERN_BACKENDS_POOL_CLIENT_POOL_OPTIONS_H_
#define TERN_BACKENDS_POOL_CLIENT_POOL_OPTIONS_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/options.h"
#include "backends/pool/pool_policy.h"
#include "core/http/limits.h"
#include "core/http/request_writer.h"

namespace tern::pool {

struct ClientPoolOptions {
  // http:// or https://. Its path must be empty or "/": request paths are
  // base_path + the path given per request.
  std::string url;
  // Prefix of every request path: "" or starting with '/', e.g. "/api/v3".
  std::string base_path;
  // Sent with every request (authentication, User-Agent, Accept, ...).
  std::vector<std::pair<std::string, std::string>> default_headers;
  // TLS (nullptr: the system trust store), socket options (connect, read
  // and write timeouts, TCP_NODELAY, keepalive) and each connection's
  // buffer capacities: a whole response must fit the read buffer, a request
  // the write buffer.
  HttpOptions http{.read_buffer_size = kDefaultMaxBody + (64u << 10)};
  // Each slot's ResponseReader: max_body_size, header limits.
  http::Limits limits{.max_body_size = kDefaultMaxBody};
  // Connections, the acquire and reconnect schedules, idle age, retry.
  PoolConfig config;

  // The default body limit, with the read buffer sized to hold it: 1 MiB,
  // the backends' default read buffer less room for the head.
  static constexpr std::size_t kDefaultMaxBody = 1u << 20;
};

// InvalidArgument naming the fault, or OK: the URL (http or https, no path
// beyond "/", no query), the config (validate()), the limits against the
// read buffer, and the writer's settings (base path, default fields).
absl::Status validate(const ClientPoolOptions& options);

// The RequestWriter every slot gets a copy of: Host from the URL (the port
// only when it is not the scheme's default, IPv6 in brackets), the base
// path and the default fields. InvalidArgument if validate() refuses.
absl::StatusOr<http::RequestWriter> request_writer_for(const ClientPoolOptions& options);

}  // namespace tern::pool

#endif  // TERN_BACKENDS_POOL_CLIENT_POOL_OPTIONS_H_
