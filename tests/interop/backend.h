// File: backend.h
//
// The backends the interop programs can drive, selected by --backend=NAME.
// Each backend is a traits struct naming its connection types; a program is
// a template over that struct, and with_backend() instantiates it for the
// name given. A new backend (epoll, Asio) adds one struct with the same
// member names and one line in with_backend(); the programs do not change.
#ifndef TERN_TESTS_INTEROP_BACKEND_H_
#define TERN_TESTS_INTEROP_BACKEND_H_

#include <string_view>

#include "backends/posix/http_connection.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"

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

}  // namespace tern::interop

#endif  // TERN_TESTS_INTEROP_BACKEND_H_
