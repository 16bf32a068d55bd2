// File: backend.h
//
// tern::posix::Backend: the blocking backend as a model of the Backend
// concept (backends/backend.h), for code written once over every backend.
// Tasks are SyncTasks and every operation is the blocking call wrapped in a
// Ready value, so shared coroutine code runs here by simply blocking;
// spawn() starts a thread. Context carries nothing: a blocking call needs no
// loop.
#ifndef TERN_BACKENDS_POSIX_BACKEND_H_
#define TERN_BACKENDS_POSIX_BACKEND_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/backend.h"
#include "backends/posix/http_connection.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"
#include "backends/sync_task.h"

namespace tern::posix {

struct Backend {
  static constexpr std::string_view kName = "posix";
  static constexpr bool kBlocking = true;
  struct Context {};
  template <typename T>
  using Task = SyncTask<T>;
  using WebSocket = posix::WebSocket;
  using HttpConnection = posix::HttpConnection;
  using Listener = posix::Listener;
  using Socket = posix::Socket;

  static Ready<absl::StatusOr<WebSocket>> connect_websocket(Context&, std::string url, WebSocketOptions o) {
    return {WebSocket::connect(url, o)};
  }
  static Ready<absl::StatusOr<WebSocket>> accept_websocket(Context&, Socket socket, WebSocketOptions o) {
    return {WebSocket::accept(std::move(socket), o)};
  }
  static Ready<absl::StatusOr<HttpConnection>> connect_http(Context&, std::string url, HttpOptions o) {
    return {HttpConnection::connect(url, o)};
  }
  static absl::StatusOr<Listener> listen(Context&, std::string_view host, std::uint16_t port) {
    return Listener::bind(host, port);
  }
  static Ready<absl::StatusOr<Socket>> accept(Listener& l, const SocketOptions& o) { return {l.accept(o)}; }
  static std::uint16_t port(const Listener& l) { return l.port(); }

  static Ready<absl::StatusOr<ws::Message>> recv(WebSocket& ws) { return {ws.recv()}; }
  static Ready<absl::Status> send_text(WebSocket& ws, std::string_view s) { return {ws.send_text(s)}; }
  static Ready<absl::Status> send_binary(WebSocket& ws, std::span<const std::uint8_t> b) {
    return {ws.send_binary(b)};
  }
  static Ready<absl::Status> send_ping(WebSocket& ws, std::span<const std::uint8_t> b) { return {ws.send_ping(b)}; }
  static absl::Status queue_text(WebSocket& ws, std::string_view s) { return ws.queue_text(s); }
  static absl::Status queue_binary(WebSocket& ws, std::span<const std::uint8_t> b) { return ws.queue_binary(b); }
  static Ready<absl::Status> flush(WebSocket& ws) { return {ws.flush()}; }
  static Ready<absl::Status> close(WebSocket& ws, ws::CloseCode code, std::string reason) {
    return {ws.close(code, reason)};
  }
  static Ready<absl::StatusOr<HttpResponse>> send(HttpConnection& c, http::ResponseReader& reader) {
    return {c.send(reader)};
  }

  static bool usable(const WebSocket& ws) { return ws.is_open(); }
  static bool usable(const HttpConnection& c) { return c.reusable(); }
  static Ready<absl::Status> sleep_for(Context&, absl::Duration d) {
    absl::SleepFor(d);
    return {absl::OkStatus()};
  }
  static absl::Time now(Context&) {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return absl::UnixEpoch() + absl::DurationFromTimespec(ts);
  }
  static void spawn(Context&, absl::AnyInvocable<Task<absl::Status>() &&> make_task) {
    std::thread([make_task = std::move(make_task)]() mutable { (void)std::move(make_task)().get(); }).detach();
  }
  static absl::Status run(Context&, Task<absl::Status> task) { return std::move(task).get(); }
};

static_assert(::tern::Backend<Backend>);

}  // namespace tern::posix

#endif  // TERN_BACKENDS_POSIX_BACKEND_H_
