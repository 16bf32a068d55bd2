// File: backend.h
//
// The backends the interop programs can drive, selected by --backend=NAME.
// Each backend is a traits struct naming its connection types; a program is
// a template over that struct, and with_backend() instantiates it for the
// name given. A new backend (epoll, Asio) adds one struct with the same
// member names and one line in with_backend(); the programs do not change.
#ifndef TERN_TESTS_INTEROP_BACKEND_H_
#define TERN_TESTS_INTEROP_BACKEND_H_

#include <string>
#include <string_view>
#include <utility>

#include "backends/posix/http_connection.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"
#include "tests/interop/cli.h"

namespace tern::interop {

// Blocking sockets, one thread per connection.
struct PosixBackend {
  static constexpr std::string_view kName = "posix";
  using Socket = posix::Socket;
  using SocketOptions = posix::SocketOptions;
  using WebSocket = posix::WebSocket;
  using WebSocketOptions = posix::WebSocketOptions;
  using HttpConnection = posix::HttpConnection;
  using HttpOptions = posix::HttpOptions;
  using Listener = posix::Listener;
};

// For usage messages: every name with_backend() accepts.
inline constexpr std::string_view kBackendNames = "posix";

// Calls f(Backend{}) for the backend called `name` and returns its result;
// returns `unknown` if no backend has that name.
template <typename F>
int with_backend(std::string_view name, int unknown, F&& f) {
  if (name == PosixBackend::kName) return f(PosixBackend{});
  return unknown;
}

// Runs f(Backend{}) for the program's --backend flag (default posix), or
// prints `usage_text` with the list of backends when the name is unknown.
template <typename F>
int run_selected_backend(const CommandLine& cl, std::string_view usage_text, F&& f) {
  const std::string_view backend = cl.flag("backend").value_or("posix");
  constexpr int kUnknown = -1;
  const int rc = with_backend(backend, kUnknown, std::forward<F>(f));
  if (rc != kUnknown) return rc;
  const std::string problem = "unknown backend \"" + std::string(backend) + "\" (available: " +
                              std::string(kBackendNames) + ")";
  return usage(usage_text, problem);
}

}  // namespace tern::interop

#endif  // TERN_TESTS_INTEROP_BACKEND_H_
