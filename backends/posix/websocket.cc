#include "backends/posix/websocket.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/url/url.h"

namespace tern::posix {
namespace {

absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }

std::size_t read_capacity(const WebSocketOptions& o) {
  if (o.read_buffer_size != 0) return o.read_buffer_size;
  // Headers of many fragments and a few control frames between them.
  return std::max(o.limits.max_message_size, o.limits.max_frame_size) + 64 * 1024;
}

absl::Status handshake_status(ws::HandshakeError e, http::Error http_error, int status) {
  const std::string cause(ws::name(e));
  if (e == ws::HandshakeError::Http) {
    return absl::InvalidArgumentError(
        absl::StrCat("websocket handshake: malformed HTTP (", av(http::name(http_error)), ")"));
  }
  if (e == ws::HandshakeError::NotSwitchingProtocols) {
    return absl::FailedPreconditionError(
        absl::StrCat("websocket handshake: server answered ", status, " instead of 101"));
  }
  return absl::FailedPreconditionError(absl::StrCat("websocket handshake: ", cause));
}

}  // namespace

WebSocket::WebSocket(Stream stream, ws::Role role, const WebSocketOptions& o)
    : stream_(std::move(stream)),
      in_(read_capacity(o)),
      out_(o.write_buffer_size),
      reader_(role, o.limits),
      writer_(role),
      auto_pong_(o.auto_pong),
      close_timeout_(o.close_timeout) {}

absl::StatusOr<WebSocket> WebSocket::connect(std::string_view url_text, const WebSocketOptions& o) {
  Url url;
  if (const UrlError e = parse_url(url_text, url); e != UrlError::kNone) {
    return absl::InvalidArgumentError(absl::StrCat("bad URL \"", av(url_text), "\": ", av(name(e))));
  }
  if (!url.websocket()) return absl::InvalidArgumentError("websocket URL must be ws:// or wss://");
  absl::StatusOr<ws::ClientHandshake> hs =
      ws::ClientHandshake::create(url, {o.subprotocols, o.extra_headers, o.handshake_limits});
  if (!hs.ok()) return hs.status();

  absl::StatusOr<Stream> stream = Stream::connect(url, o.tls, o.socket);
  if (!stream.ok()) return stream.status();
  WebSocket w(*std::move(stream), ws::Role::Client, o);
  if (hs->write_request(w.out_) != ws::HandshakeError::None) {
    return absl::ResourceExhaustedError(
        absl::StrCat("websocket handshake: request does not fit: ", av(ws::name(hs->error()))));
  }
  if (absl::Status st = w.flush(); !st.ok()) return st;
  for (;;) {
    http::Progress p = hs->read_response(w.in_);
    if (p == http::Progress::NeedMore) {
      absl::StatusOr<std::size_t> n = w.stream_.read(w.in_);
      if (!n.ok()) return n.status();
      if (*n == 0) p = hs->finish(w.in_);
      if (p == http::Progress::NeedMore) continue;
    }
    if (hs->error() != ws::HandshakeError::None) {
      return handshake_status(hs->error(), hs->http_error(), hs->status());
    }
    break;
  }
  w.subprotocol_ = std::string(hs->subprotocol());
  return w;
}

absl::StatusOr<WebSocket> WebSocket::accept(Socket socket, const WebSocketOptions& o) {
  absl::StatusOr<ws::ServerHandshake> hs = ws::ServerHandshake::create({o.extra_headers, o.handshake_limits});
  if (!hs.ok()) return hs.status();
  std::optional<Stream> stream;
  if (o.tls != nullptr) {
    absl::StatusOr<Stream> s = Stream::tls_server(std::move(socket), *o.tls);
    if (!s.ok()) return s.status();
    stream.emplace(*std::move(s));
  } else {
    stream.emplace(std::move(socket));
  }
  WebSocket w(*std::move(stream), ws::Role::Server, o);
  for (;;) {
    const http::Progress p = hs->read_request(w.in_);
    if (p == http::Progress::Complete) break;
    if (p == http::Progress::Failed) {
      const absl::Status why = handshake_status(hs->error(), hs->http_error(), 0);
      if (hs->reject(w.in_, w.out_) == ws::HandshakeError::None) (void)w.flush();
      w.stream_.close_write();
      return why;
    }
    absl::StatusOr<std::size_t> n = w.stream_.read(w.in_);
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::UnavailableError("websocket handshake: client closed before its request ended");
  }
  std::string_view chosen;
  for (const std::string& p : o.subprotocols) {
    if (hs->offers_subprotocol(p)) {
      chosen = p;
      break;
    }
  }
  if (const ws::HandshakeError e = hs->accept(w.in_, w.out_, chosen); e != ws::HandshakeError::None) {
    return handshake_status(e, http::Error::None, 0);
  }
  if (absl::Status st = w.flush(); !st.ok()) return st;
  w.subprotocol_ = std::string(chosen);
  return w;
}

absl::Status WebSocket::flush() {
  absl::Status st = stream_.write(out_.data());
  out_.clear();
  return st;
}

absl::Status WebSocket::closed_error() const {
  if (!close_reason_.ok()) return close_reason_;
  return absl::FailedPreconditionError("websocket is closed");
}

absl::Status WebSocket::fail_protocol() {
  const ws::Error e = reader_.error();
  const ws::CloseCode code = reader_.close_code();
  // RFC 6455 §7.1.7: fail the connection, telling the peer why if we can.
  if (!close_sent_) {
    out_.clear();
    if (writer_.close(out_, code).ok()) (void)flush();
    close_sent_ = true;
  }
  stream_.close_write();
  closed_ = true;
  const std::string msg = absl::StrCat("websocket protocol error: ", av(ws::name(e)), " (sent close ",
                                       static_cast<int>(code), ")");
  close_reason_ = code == ws::CloseCode::MessageTooBig ? absl::ResourceExhaustedError(msg)
                                                       : absl::InvalidArgumentError(msg);
  return close_reason_;
}

absl::StatusOr<ws::Message> WebSocket::recv() {
  if (closed_) return closed_error();
  for (;;) {
    const ws::ReadResult r = reader_.next(in_);
    if (r.status == ws::ReadStatus::Message) {
      const ws::Message& m = r.message;
      if (m.opcode == ws::Opcode::Ping && auto_pong_ && !close_sent_) {
        if (absl::Status st = send_pong(m.payload); !st.ok()) return st;
      } else if (m.opcode == ws::Opcode::Close) {
        // RFC 6455 §5.5.1: answer a Close with a Close, echoing the code.
        if (!close_sent_) {
          out_.clear();
          const ws::EncodeResult er = m.close_code == ws::CloseCode::NoStatus
                                          ? writer_.close(out_)
                                          : writer_.close(out_, m.close_code);
          if (er.ok()) (void)flush();
          close_sent_ = true;
        }
        stream_.close_write();
        closed_ = true;
        close_reason_ = absl::FailedPreconditionError(absl::StrCat(
            "websocket closed by peer with ", static_cast<int>(m.close_code)));
      }
      return m;
    }
    if (r.status == ws::ReadStatus::Error) return fail_protocol();
    absl::StatusOr<std::size_t> n = stream_.read(in_);
    if (!n.ok()) {
      closed_ = true;
      close_reason_ = n.status();
      return n.status();
    }
    if (*n == 0) {
      closed_ = true;
      close_reason_ = absl::UnavailableError("connection closed without a close frame (1006)");
      return close_reason_;
    }
  }
}

absl::StatusOr<WebSocket::OwnedMessage> WebSocket::recv_owned() {
  absl::StatusOr<ws::Message> m = recv();
  if (!m.ok()) return m.status();
  OwnedMessage owned;
  owned.opcode = m->opcode;
  owned.close_code = m->close_code;
  const std::string_view body = m->opcode == ws::Opcode::Close ? m->close_reason() : m->text();
  owned.payload.assign(body.data(), body.size());
  return owned;
}

namespace {
absl::Status encode_status(const ws::EncodeResult& r) {
  const std::string msg = absl::StrCat("websocket send: ", av(ws::name(r.error)));
  return r.error == ws::Error::DestinationTooSmall ? absl::ResourceExhaustedError(msg)
                                                   : absl::InvalidArgumentError(msg);
}
}  // namespace

#define TERN_SEND(expr)                                        \
  do {                                                         \
    if (closed_ || close_sent_) return closed_error();         \
    out_.clear();                                              \
    const ws::EncodeResult r_ = (expr);                        \
    if (!r_.ok()) return encode_status(r_);                    \
    return flush();                                            \
  } while (0)

absl::Status WebSocket::send_text(std::string_view payload) { TERN_SEND(writer_.text(out_, payload)); }
absl::Status WebSocket::send_binary(std::span<const std::uint8_t> payload) {
  TERN_SEND(writer_.binary(out_, payload));
}
absl::Status WebSocket::send_ping(std::span<const std::uint8_t> payload) { TERN_SEND(writer_.ping(out_, payload)); }
absl::Status WebSocket::send_pong(std::span<const std::uint8_t> payload) { TERN_SEND(writer_.pong(out_, payload)); }

#undef TERN_SEND

absl::Status WebSocket::close(ws::CloseCode code, std::string_view reason) {
  if (closed_) return close_reason_.ok() || absl::IsFailedPrecondition(close_reason_) ? absl::OkStatus()
                                                                                       : close_reason_;
  if (!close_sent_) {
    out_.clear();
    const ws::EncodeResult r = writer_.close(out_, code, reason);
    if (!r.ok()) return encode_status(r);
    close_sent_ = true;
    if (absl::Status st = flush(); !st.ok()) {
      closed_ = true;
      return st;
    }
  }
  // Wait (bounded) for the peer's Close; data still in flight is discarded.
  // The socket is closed below, so its read timeout is not restored.
  (void)stream_.socket().set_read_timeout(close_timeout_);
  absl::Status result = absl::OkStatus();
  for (;;) {
    absl::StatusOr<ws::Message> m = recv();
    if (!m.ok()) {
      result = absl::IsFailedPrecondition(m.status()) ? absl::OkStatus() : m.status();
      break;
    }
    if (m->opcode == ws::Opcode::Close) break;
  }
  closed_ = true;
  stream_.close_write();
  stream_.socket().close();
  return result;
}

}  // namespace tern::posix
