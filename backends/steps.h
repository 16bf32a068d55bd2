// The resumable steps the non-blocking backends (epoll, Asio) share: how an
// opening handshake, a receive, a send, a close and an HTTP request advance
// over a transport that may have to wait for its socket.
//
// A step runs until it is done or must wait (Want::Read, Want::Write); the
// backend re-runs it from the top once the socket is ready, so a step keeps
// its progress only in the flags it is given (framed, queued, started) and in
// the core connection itself. What the steps decide is backend glue (which
// status a call returns, when to write queued frames first); every protocol
// decision stays in the core objects they drive. Written once here so that
// the backends cannot drift apart; the posix backend blocks instead of
// waiting and keeps a straight-line form of the same rules.
//
// A Stream, for every step:
//   Endpoint& endpoint();      the core connection (ws::Connection or
//                              http::ClientConnection)
//   Want fill(); Want flush(); bytes in / out through the channel
//   bool failed(); absl::Status error();  the transport's own failure
// for the WebSocket steps, also:
//   absl::Status end(absl::Status why);   record how it ended, close our side
//   absl::Status close_reason;            that record
//   void arm_state_timer();               the core's handshake/close timeout
//   void flush_in_background();           write what the core queued
// for the HTTP steps, also:
//   absl::Status finish(absl::Status why);  record how it ended (first wins)
//   absl::Status finished;                  that record
//   void close_write();
#ifndef TERN_BACKENDS_STEPS_H_
#define TERN_BACKENDS_STEPS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/http_response.h"
#include "backends/status.h"
#include "core/http/client_connection.h"
#include "core/http/response_reader.h"
#include "core/ws/connection.h"

namespace tern::steps {

// What a step needs before it can go on.
enum class Want : std::uint8_t { Done, Read, Write };

enum class WsSend : std::uint8_t { Text, Binary, Ping, Pong, Flush };

// Each step sets its Result once, when it returns Done: an absl::Status
// (open, send, close, HTTP write), absl::StatusOr<ws::Message> (receive) or
// absl::StatusOr<HttpResponse> (HTTP read), or a std::optional of one.

// The status later calls get once a WebSocket has ended.
template <typename Stream>
absl::Status ws_closed_error(const Stream& s) {
  if (!s.close_reason.ok()) return s.close_reason;
  if (s.failed()) return s.error();
  return absl::FailedPreconditionError("websocket is closed");
}

// What queue_text() and friends return for the core's answer.
template <typename Stream>
absl::Status ws_queued_status(const Stream& s, const ws::EncodeResult& r) {
  if (ABSL_PREDICT_TRUE(r.ok())) return absl::OkStatus();
  if (r.error == ws::Error::NotOpen) return ws_closed_error(s);
  return websocket_send_status(r);
}

// The opening handshake (TLS inside it) to Open or failure.
template <typename Stream, typename Result>
Want ws_open(Stream& s, Result& result) noexcept {
  ws::Connection& c = s.endpoint();
  for (;;) {
    if (const Want w = s.flush(); w != Want::Done) return w;
    // Open already: only the server's 101 was still leaving (what follows
    // may be the client's first frame, for the first receive).
    if (c.state() == ws::State::Open) {
      result = s.failed() ? s.error() : absl::OkStatus();
      return Want::Done;
    }
    const ws::Event e = c.next();
    if (e.type == ws::EventType::Open) continue;
    if (e.type == ws::EventType::Failed || c.state() == ws::State::Failed || s.failed()) {
      result = s.end(s.failed() ? s.error() : websocket_failure_status(c));
      return Want::Done;
    }
    if (const Want w = s.fill(); w != Want::Done) return w;
  }
}

// The next message from what has been received, reading when needed.
template <typename Stream, typename Result>
Want ws_recv(Stream& s, Result& result) noexcept {
  ws::Connection& c = s.endpoint();
  for (;;) {
    const ws::Event e = c.next();
    switch (e.type) {
      case ws::EventType::Message:
        // An automatic Pong waits in the write buffer.
        if (ABSL_PREDICT_FALSE(!c.pending_output().empty())) s.flush_in_background();
        result = e.message;
        return Want::Done;
      case ws::EventType::Closed:
        (void)s.end(websocket_peer_closed_status(e.message.close_code));
        result = e.message;
        return Want::Done;
      case ws::EventType::Failed:
        result = s.end(websocket_failure_status(c));
        return Want::Done;
      case ws::EventType::Open:
      case ws::EventType::None:
        break;
    }
    const ws::State state = c.state();
    if (ABSL_PREDICT_FALSE(state != ws::State::Open && state != ws::State::Closing)) {
      result = ws_closed_error(s);
      return Want::Done;
    }
    if (const Want w = s.fill(); w != Want::Done) return w;
    if (ABSL_PREDICT_FALSE(s.failed())) {
      result = s.end(s.error());
      return Want::Done;
    }
  }
}

// Queues the frame (once: `framed` remembers) and writes everything queued.
template <typename Stream, typename Result>
Want ws_send(Stream& s, WsSend kind, std::span<const std::uint8_t> payload, bool& framed, Result& result) noexcept {
  ws::Connection& c = s.endpoint();
  while (!framed) {
    ws::EncodeResult r{1, ws::Error::NotOpen};
    switch (kind) {
      case WsSend::Text:
        r = c.send_text({reinterpret_cast<const char*>(payload.data()), payload.size()});
        break;
      case WsSend::Binary: r = c.send_binary(payload); break;
      case WsSend::Ping: r = c.send_ping(payload); break;
      case WsSend::Pong: r = c.send_pong(payload); break;
      case WsSend::Flush: break;
    }
    if (ABSL_PREDICT_TRUE(r.ok())) {
      framed = true;
      break;
    }
    if (r.error == ws::Error::NotOpen) {
      result = ws_closed_error(s);
      return Want::Done;
    }
    // No room now, but room once the queued frames leave: write them first.
    if (r.error == ws::Error::DestinationTooSmall && !c.pending_output().empty() &&
        ws::header_size(payload.size(), c.role() == ws::Role::Client) + payload.size() <= c.write_capacity()) {
      if (const Want w = s.flush(); w != Want::Done) return w;
      if (!s.failed()) continue;
    }
    result = s.failed() ? ws_closed_error(s) : websocket_send_status(r);
    return Want::Done;
  }
  if (const Want w = s.flush(); w != Want::Done) return w;
  if (ABSL_PREDICT_FALSE(s.failed())) {
    result = s.end(s.error());
    return Want::Done;
  }
  result = absl::OkStatus();
  return Want::Done;
}

// The closing handshake: our Close (once: `started` remembers) and what was
// queued before it leave, then the peer's Close is awaited, discarding data.
// OK if the peer answered or the connection had already ended cleanly.
template <typename Stream, typename Result>
Want ws_close(Stream& s, ws::CloseCode code, std::string_view reason, bool& started, Result& result) noexcept {
  ws::Connection& c = s.endpoint();
  if (!started) {
    started = true;
    if (c.state() == ws::State::Closed || c.state() == ws::State::Failed) {
      const absl::Status why = ws_closed_error(s);
      result = why.ok() || absl::IsFailedPrecondition(why) ? absl::OkStatus() : why;
      return Want::Done;
    }
    if (c.state() == ws::State::Open) {
      const ws::EncodeResult r = c.close(code, reason);
      if (!r.ok()) {
        result = websocket_send_status(r);
        return Want::Done;
      }
      s.arm_state_timer();  // close_timeout
    }
  }
  if (const Want w = s.flush(); w != Want::Done) return w;
  if (s.failed()) {
    result = s.end(s.error());
    return Want::Done;
  }
  for (;;) {
    absl::StatusOr<ws::Message> m(ws::Message{});
    if (const Want w = ws_recv(s, m); w != Want::Done) return w;
    if (!m.ok()) {
      result = absl::IsFailedPrecondition(m.status()) ? absl::OkStatus() : m.status();
      return Want::Done;
    }
    if (m->opcode == ws::Opcode::Close) {
      result = absl::OkStatus();
      return Want::Done;
    }
  }
}

// The status of a connection that can take no more requests.
template <typename Stream>
absl::Status http_check_usable(const Stream& s) {
  if (!s.finished.ok()) return http_not_reusable_status(s.finished);
  if (!s.endpoint().reusable()) return http_not_reusable_status(http_end_status(s.endpoint()));
  return absl::OkStatus();
}

// Queues request_buffer()'s request, or `copy` when not empty (once:
// `queued` remembers), and writes it.
template <typename Stream, typename Result>
Want http_write(Stream& s, std::span<const std::uint8_t> copy, bool& queued, Result& result) noexcept {
  http::ClientConnection& c = s.endpoint();
  if (!queued) {
    if (absl::Status st = http_check_usable(s); !st.ok()) {
      c.request_buffer().truncate(c.pending_output().size());  // drop the unsent request
      result = st;
      return Want::Done;
    }
    const http::QueueError e = copy.empty() ? c.queue_request() : c.queue_request(copy);
    if (e != http::QueueError::None) {
      result = http_queue_status(e);
      return Want::Done;
    }
    queued = true;
  }
  if (const Want w = s.flush(); w != Want::Done) return w;
  result = s.failed() ? s.finish(s.error()) : absl::OkStatus();
  return Want::Done;
}

// The response to the oldest request in flight, read into `reader`.
template <typename Stream, typename Result>
Want http_read(Stream& s, http::ResponseReader& reader, Result& result) noexcept {
  http::ClientConnection& c = s.endpoint();
  if (!s.finished.ok()) {
    result = http_not_reusable_status(s.finished);
    return Want::Done;
  }
  if (c.in_flight() == 0) {
    result = absl::FailedPreconditionError("http: no request awaits a response");
    return Want::Done;
  }
  for (;;) {
    const http::Progress p = c.next(reader);
    if (p == http::Progress::Complete) {
      if (!c.reusable()) {
        (void)s.finish(http_end_status(c));
        s.close_write();
      }
      result = response_of(reader);
      return Want::Done;
    }
    if (p == http::Progress::Failed) {
      result = s.finish(s.failed() ? s.error() : http_end_status(c));
      return Want::Done;
    }
    if (const Want w = s.fill(); w != Want::Done) return w;
    if (s.failed()) {
      result = s.finish(s.error());
      return Want::Done;
    }
  }
}

}  // namespace tern::steps

#endif  // TERN_BACKENDS_STEPS_H_
