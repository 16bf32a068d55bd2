#include "backends/posix/websocket.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "backends/status.h"
#include "backends/urls.h"
#include "core/url/url.h"

namespace tern::posix {

absl::StatusOr<WebSocket> WebSocket::connect(std::string_view url_text, const WebSocketOptions& o) {
  absl::StatusOr<Url> parsed = websocket_url(url_text);
  if (!parsed.ok()) return parsed.status();
  const Url& url = *parsed;
  absl::StatusOr<ws::Connection> conn = ws::Connection::client(url, connection_options(o));
  if (!conn.ok()) return conn.status();
  const absl::Time deadline = absl::Now() + o.handshake_timeout;
  // The TLS handshake inside Stream::connect is bounded per read by the
  // opening handshake's timeout too.
  SocketOptions socket_options = o.socket;
  socket_options.read_timeout = std::min(o.socket.read_timeout, o.handshake_timeout);
  absl::StatusOr<Stream> stream = Stream::connect(url, o.tls, socket_options);
  if (!stream.ok()) return stream.status();
  WebSocket w(*std::move(stream), *std::move(conn));
  if (absl::Status st = w.open(deadline, o.socket.read_timeout); !st.ok()) return st;
  return w;
}

absl::StatusOr<WebSocket> WebSocket::accept(Socket socket, const WebSocketOptions& o) {
  absl::StatusOr<ws::Connection> conn = ws::Connection::server(connection_options(o));
  if (!conn.ok()) return conn.status();
  const absl::Time deadline = absl::Now() + o.handshake_timeout;
  const absl::Duration read_timeout = socket.read_timeout();
  if (o.handshake_timeout < read_timeout) (void)socket.set_read_timeout(o.handshake_timeout);
  absl::StatusOr<Stream> stream =
      o.tls != nullptr ? Stream::tls_server(std::move(socket), *o.tls) : Stream(std::move(socket));
  if (!stream.ok()) return stream.status();
  WebSocket w(*std::move(stream), *std::move(conn));
  if (absl::Status st = w.open(deadline, read_timeout); !st.ok()) return st;
  return w;
}

absl::Status WebSocket::open(absl::Time deadline, absl::Duration read_timeout) {
  for (;;) {
    if (absl::Status st = flush(); !st.ok()) return st;
    const ws::Event e = conn_.next();
    if (e.type == ws::EventType::Open) break;
    if (e.type == ws::EventType::Failed) return finish(websocket_failure_status(conn_));
    // The deadline is the core's handshake_timeout, enforced here as the
    // bound on each blocking read.
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      conn_.expire();
      return finish(websocket_failure_status(conn_));
    }
    Socket& socket = stream_.socket();
    if (left < socket.read_timeout()) (void)socket.set_read_timeout(left);
    // A read bounded by the handshake's remainder that times out is the
    // handshake's expiry, even when the kernel's timer fires a little
    // before `deadline` by absl::Now() (it does, by a fraction of a ms).
    const bool bounded_by_handshake = socket.read_timeout() < read_timeout;
    absl::StatusOr<std::size_t> n = stream_.read(conn_.read_buffer());
    if (!n.ok()) {
      if (absl::IsDeadlineExceeded(n.status()) && (bounded_by_handshake || absl::Now() >= deadline)) {
        conn_.expire();
        return finish(websocket_failure_status(conn_));
      }
      conn_.abort();
      close_reason_ = n.status();
      return n.status();
    }
    if (*n == 0) conn_.receive_eof();
  }
  if (absl::Status st = flush(); !st.ok()) return st;  // the server's 101
  if (stream_.socket().read_timeout() != read_timeout) {
    if (absl::Status st = stream_.socket().set_read_timeout(read_timeout); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status WebSocket::flush() {
  // Usually one pass; another when a Pong or Close waited for room.
  for (std::span<const std::uint8_t> out = conn_.pending_output(); !out.empty(); out = conn_.pending_output()) {
    if (absl::Status st = stream_.write(out); !st.ok()) {
      conn_.abort();
      close_reason_ = st;
      return st;
    }
    conn_.consume_output(out.size());
  }
  return absl::OkStatus();
}

absl::Status WebSocket::read_more() {
  absl::StatusOr<std::size_t> n = stream_.read(conn_.read_buffer());
  if (!n.ok()) {
    conn_.abort();
    close_reason_ = n.status();
    return n.status();
  }
  if (*n == 0) conn_.receive_eof();
  return absl::OkStatus();
}

absl::Status WebSocket::finish(absl::Status why) {
  (void)flush();  // the Close (or rejection) the core queued, if any
  stream_.close_write();
  close_reason_ = why;
  return why;
}

absl::Status WebSocket::closed_error() const {
  if (!close_reason_.ok()) return close_reason_;
  return absl::FailedPreconditionError("websocket is closed");
}

absl::StatusOr<ws::Message> WebSocket::recv() {
  const ws::State state = conn_.state();
  if (ABSL_PREDICT_FALSE(state != ws::State::Open && state != ws::State::Closing && !peeked_)) {
    return closed_error();
  }
  for (;;) {
    ws::Event e;
    if (ABSL_PREDICT_FALSE(peeked_.has_value())) {
      e = *peeked_;
      peeked_.reset();
    } else {
      e = conn_.next();
    }
    switch (e.type) {
      case ws::EventType::Message:
        // Output the core queued while reading (its automatic replies).
        if (ABSL_PREDICT_FALSE(!conn_.pending_output().empty())) {
          if (absl::Status st = flush(); !st.ok()) return st;
        }
        return e.message;
      case ws::EventType::Closed:
        (void)finish(websocket_peer_closed_status(e.message.close_code));
        return e.message;
      case ws::EventType::Failed:
        return finish(websocket_failure_status(conn_));
      case ws::EventType::Open:
      case ws::EventType::None:
        break;
    }
    if (absl::Status st = read_more(); !st.ok()) return st;
  }
}

absl::StatusOr<WebSocket::OwnedMessage> WebSocket::recv_owned() {
  absl::StatusOr<ws::Message> m = recv();
  if (!m.ok()) return m.status();
  return to_owned(*m);
}

absl::Status WebSocket::send(const ws::EncodeResult& queued) {
  if (ABSL_PREDICT_FALSE(!queued.ok())) {
    return queued.error == ws::Error::NotOpen ? closed_error() : websocket_send_status(queued);
  }
  return flush();
}

absl::Status WebSocket::send_text(std::string_view payload) { return send(conn_.send_text(payload)); }
absl::Status WebSocket::send_binary(std::span<const std::uint8_t> payload) {
  return send(conn_.send_binary(payload));
}
absl::Status WebSocket::send_ping(std::span<const std::uint8_t> payload) { return send(conn_.send_ping(payload)); }
absl::Status WebSocket::send_pong(std::span<const std::uint8_t> payload) { return send(conn_.send_pong(payload)); }

template <typename Encode>
absl::Status WebSocket::queue(Encode encode) {
  ws::EncodeResult r = encode();
  if (!r.ok() && r.error == ws::Error::DestinationTooSmall && !conn_.pending_output().empty()) {
    // Room once the queued frames leave.
    if (absl::Status st = flush(); !st.ok()) return st;
    r = encode();
  }
  if (r.ok()) return absl::OkStatus();
  return r.error == ws::Error::NotOpen ? closed_error() : websocket_send_status(r);
}

absl::Status WebSocket::queue_text(std::string_view payload) {
  return queue([&] { return conn_.send_text(payload); });
}
absl::Status WebSocket::queue_binary(std::span<const std::uint8_t> payload) {
  return queue([&] { return conn_.send_binary(payload); });
}

absl::Status WebSocket::close(ws::CloseCode code, std::string_view reason) {
  const ws::State state = conn_.state();
  if (state == ws::State::Closed || state == ws::State::Failed) {
    return close_reason_.ok() || absl::IsFailedPrecondition(close_reason_) ? absl::OkStatus() : close_reason_;
  }
  if (state == ws::State::Open) {
    const ws::EncodeResult r = conn_.close(code, reason);
    if (!r.ok()) return websocket_send_status(r);
    if (absl::Status st = flush(); !st.ok()) return st;
  }
  // Wait (bounded by the core's close timeout) for the peer's Close; data
  // still in flight is discarded. The socket is closed below, so its read
  // timeout is not restored.
  (void)stream_.socket().set_read_timeout(conn_.timeout());
  // The core says when the handshake is over: Closing ends at the peer's
  // Close (Closed) or a failure.
  absl::Status result = absl::OkStatus();
  while (conn_.state() == ws::State::Closing) {
    absl::StatusOr<ws::Message> m = recv();
    if (!m.ok()) {
      result = absl::IsFailedPrecondition(m.status()) ? absl::OkStatus() : m.status();
      break;
    }
  }
  stream_.close_write();
  stream_.socket().close();
  return result;
}

absl::StatusOr<bool> WebSocket::wait_socket(absl::Duration timeout) {
  WebSocket* self = this;
  bool ready = false;
  return wait_readable({&self, 1}, {&ready, 1}, timeout);
}

absl::StatusOr<bool> WebSocket::wait_readable(std::span<WebSocket* const> connections, std::span<bool> ready,
                                              absl::Duration timeout, int wake_fd) {
  if (connections.size() > kMaxWaited || ready.size() < connections.size()) {
    return absl::InvalidArgumentError("wait_readable: too many connections, or too few flags");
  }
  const bool report_wake = ready.size() > connections.size();
  if (report_wake) ready[connections.size()] = false;
  bool any = false;
  for (std::size_t i = 0; i < connections.size(); ++i) {
    ready[i] = connections[i]->event_ready();
    any = any || ready[i];
  }
  if (any) return true;
  pollfd fds[kMaxWaited + 1];
  nfds_t n = 0;
  for (WebSocket* c : connections) fds[n++] = pollfd{c->stream_.socket().fd(), POLLIN, 0};
  if (wake_fd >= 0) fds[n++] = pollfd{wake_fd, POLLIN, 0};
  const absl::Time deadline = timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  for (;;) {
    int ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      // Round up: waking before the deadline would only spin.
      const absl::Duration left = std::max(absl::ZeroDuration(), deadline - absl::Now());
      ms = static_cast<int>(std::min<std::int64_t>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
                                                   1 << 30));
    }
    const int rc = ::poll(fds, n, ms);
    if (rc > 0) break;
    if (rc == 0) {
      if (absl::Now() >= deadline) return false;
      continue;
    }
    if (errno != EINTR) return errno_status(errno, "poll");
  }
  for (std::size_t i = 0; i < connections.size(); ++i) ready[i] = fds[i].revents != 0;
  if (report_wake && wake_fd >= 0) ready[connections.size()] = fds[connections.size()].revents != 0;
  return true;
}

}  // namespace tern::posix
