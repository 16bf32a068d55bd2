#include "core/ws/connection.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace tern::ws {
namespace {

std::size_t read_capacity(const ConnectionOptions& o) {
  if (o.read_buffer_size != 0) return o.read_buffer_size;
  // Headers of many fragments and a few control frames between them.
  return std::max(o.limits.max_message_size, o.limits.max_frame_size) + 64 * 1024;
}

// Room for the handshake and the largest control frame, whatever the caller
// asked for: a Close must always be expressible.
std::size_t write_buffer_capacity(const ConnectionOptions& o) {
  return std::max<std::size_t>(o.write_buffer_size, 512);
}

}  // namespace

std::string_view name(State state) noexcept {
  switch (state) {
    case State::Connecting: return "Connecting";
    case State::Open: return "Open";
    case State::Closing: return "Closing";
    case State::Closed: return "Closed";
    case State::Failed: return "Failed";
  }
  return "Unknown";
}

std::string_view name(FailureCause cause) noexcept {
  switch (cause) {
    case FailureCause::None: return "None";
    case FailureCause::Protocol: return "Protocol";
    case FailureCause::Handshake: return "Handshake";
    case FailureCause::ConnectionLost: return "ConnectionLost";
    case FailureCause::HandshakeTimeout: return "HandshakeTimeout";
    case FailureCause::CloseTimeout: return "CloseTimeout";
    case FailureCause::Aborted: return "Aborted";
  }
  return "Unknown";
}

Connection::Connection(Role role, const Options& o)
    : in_(read_capacity(o)),
      out_(write_buffer_capacity(o)),
      reader_(role, o.limits),
      writer_(role),
      handshake_timeout_(o.handshake_timeout),
      close_timeout_(o.close_timeout),
      auto_pong_(o.auto_pong) {}

absl::StatusOr<Connection> Connection::client(const Url& url, const Options& o) {
  absl::StatusOr<ClientHandshake> hs =
      ClientHandshake::create(url, {o.subprotocols, o.extra_headers, o.handshake_limits});
  if (!hs.ok()) return hs.status();
  Connection c(Role::Client, o);
  if (const HandshakeError e = hs->write_request(c.out_); e != HandshakeError::None) {
    if (e == HandshakeError::RandomFailure) {
      return absl::InternalError("websocket handshake: no key from the CSPRNG (RandomFailure)");
    }
    return absl::ResourceExhaustedError(
        "websocket handshake: the upgrade request does not fit the write buffer");
  }
  c.handshake_.emplace<ClientHandshake>(*std::move(hs));
  return c;
}

absl::StatusOr<Connection> Connection::server(const Options& o) {
  absl::StatusOr<ServerHandshake> hs = ServerHandshake::create({o.extra_headers, o.handshake_limits});
  if (!hs.ok()) return hs.status();
  Connection c(Role::Server, o);
  c.server_subprotocols_ = o.subprotocols;
  c.handshake_.emplace<ServerHandshake>(*std::move(hs));
  return c;
}

std::span<std::uint8_t> Connection::read_space() noexcept {
  if (in_.spare().empty() && !view_live_) in_.compact();
  return in_.spare();
}

void Connection::commit(std::size_t n) noexcept {
  (void)in_.commit(std::min(n, in_.spare().size()));
}

Event Connection::next_slow(const ReadResult& r) noexcept {
  switch (state_) {
    case State::Open:
    case State::Closing:
      break;
    case State::Connecting:
      return next_handshake();
    case State::Closed:
    case State::Failed:
      return {};
  }
  if (r.status == ReadStatus::Message) {
    view_live_ = true;
    if (!is_control(r.message.opcode)) return {EventType::Message, r.message};
    return on_frame(r.message);
  }
  if (r.status == ReadStatus::Error) {
    Failure f;
    f.cause = FailureCause::Protocol;
    f.frame_error = reader_.error();
    // RFC 6455 §7.1.7: fail the connection, telling the peer why if we
    // have not sent our Close yet.
    if (state_ == State::Open) queue_close(reader_.close_code(), {});
    return fail(f);
  }
  if (eof_) return fail({.cause = FailureCause::ConnectionLost});
  return {};
}

Event Connection::next_other_state() noexcept {
  if (state_ == State::Closed || state_ == State::Failed) return {};
  if (state_ == State::Connecting) return next_handshake();
  return next_slow(reader_.next(in_));  // Closing
}

Event Connection::on_frame(const Message& m) noexcept {
  switch (m.opcode) {
    case Opcode::Ping:
      // RFC 6455 §5.5.2-3: answer with the same payload. After our Close no
      // more frames are due.
      if (auto_pong_ && state_ == State::Open) queue_pong(m.payload);
      return {EventType::Message, m};
    case Opcode::Close:
      // RFC 6455 §5.5.1: answer a Close with a Close (echoing its code)
      // unless ours is already out; either way the handshake is complete.
      // §5.5.2: a Ping needs no answer once the peer's Close has come.
      owed_pong_len_ = -1;
      if (state_ == State::Open) queue_close(m.close_code, {});
      state_ = State::Closed;
      return {EventType::Closed, m};
    default:
      return {EventType::Message, m};
  }
}

Event Connection::next_handshake() noexcept {
  return role() == Role::Client ? next_client_handshake() : next_server_handshake();
}

Event Connection::next_client_handshake() noexcept {
  ClientHandshake& hs = std::get<ClientHandshake>(handshake_);
  http::Progress p = hs.read_response(in_);
  if (p == http::Progress::NeedMore) {
    if (!eof_) return {};
    p = hs.finish(in_);
  }
  if (p == http::Progress::NeedMore || hs.error() != HandshakeError::None) {
    Failure f;
    f.cause = FailureCause::Handshake;
    f.handshake_error = p == http::Progress::NeedMore ? HandshakeError::Http : hs.error();
    f.http_error = p == http::Progress::NeedMore ? http::Error::UnexpectedEof : hs.http_error();
    f.http_status = hs.status();
    return fail(f);
  }
  subprotocol_.assign(hs.subprotocol().data(), hs.subprotocol().size());
  handshake_.emplace<std::monostate>();
  state_ = State::Open;
  return {EventType::Open, {}};
}

Event Connection::next_server_handshake() noexcept {
  ServerHandshake& hs = std::get<ServerHandshake>(handshake_);
  const http::Progress p = hs.read_request(in_);
  if (p == http::Progress::NeedMore) {
    if (!eof_) return {};
    return fail({.cause = FailureCause::Handshake,
                 .handshake_error = HandshakeError::Http,
                 .http_error = http::Error::UnexpectedEof});
  }
  Failure f;
  f.cause = FailureCause::Handshake;
  if (p == http::Progress::Failed) {
    f.handshake_error = hs.error();
    f.http_error = hs.http_error();
    f.http_status = hs.reject_status();
    // The rejection (400, 426 or 431) goes out before the transport closes.
    (void)hs.reject(in_, out_);
    return fail(f);
  }
  std::string_view chosen;
  for (const std::string& offered : server_subprotocols_) {
    if (hs.offers_subprotocol(offered)) {
      chosen = offered;
      break;
    }
  }
  if (const HandshakeError e = hs.accept(in_, out_, chosen); e != HandshakeError::None) {
    f.handshake_error = e;
    return fail(f);
  }
  subprotocol_.assign(chosen.data(), chosen.size());
  handshake_.emplace<std::monostate>();
  server_subprotocols_ = {};
  state_ = State::Open;
  return {EventType::Open, {}};
}

Event Connection::fail(const Failure& f) noexcept {
  failure_ = f;
  failure_.close_sent = close_sent_;
  state_ = State::Failed;
  owed_pong_len_ = -1;  // a failed connection owes the peer nothing but its Close
  return {EventType::Failed, {}};
}

void Connection::queue_pong(Bytes payload) noexcept {
  owed_pong_len_ = static_cast<int>(payload.size());
  if (!payload.empty()) std::memcpy(owed_pong_, payload.data(), payload.size());
  flush_owed();
}

void Connection::queue_close(CloseCode code, std::string_view reason) noexcept {
  close_sent_ = code;
  owed_close_code_ = code;
  owed_close_len_ = static_cast<int>(reason.size());
  if (!reason.empty()) std::memcpy(owed_reason_, reason.data(), reason.size());
  flush_owed();
}

void Connection::flush_owed() noexcept {
  // The Pong first: a Ping received before our Close is still answered
  // (RFC 6455 §5.5.2), and nothing may follow the Close.
  if (owed_pong_len_ >= 0) {
    const EncodeResult r = writer_.pong(out_, {owed_pong_, static_cast<std::size_t>(owed_pong_len_)});
    if (!r.ok() && r.error == Error::DestinationTooSmall) return;
    owed_pong_len_ = -1;
  }
  if (owed_close_len_ >= 0) {
    const std::string_view reason(reinterpret_cast<const char*>(owed_reason_),
                                  static_cast<std::size_t>(owed_close_len_));
    const EncodeResult r = owed_close_code_ == CloseCode::NoStatus ? writer_.close(out_)
                                                                    : writer_.close(out_, owed_close_code_, reason);
    if (!r.ok() && r.error == Error::DestinationTooSmall) return;
    owed_close_len_ = -1;
  }
}

EncodeResult Connection::send_ping(Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(state_ != State::Open)) return {0, Error::NotOpen};
  return writer_.ping(out_, payload);
}

EncodeResult Connection::send_pong(Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(state_ != State::Open)) return {0, Error::NotOpen};
  return writer_.pong(out_, payload);
}

EncodeResult Connection::begin_message(Opcode type, Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(state_ != State::Open)) return {0, Error::NotOpen};
  return writer_.begin(out_, type, payload);
}

EncodeResult Connection::continue_message(Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(state_ != State::Open)) return {0, Error::NotOpen};
  return writer_.continue_message(out_, payload);
}

EncodeResult Connection::finish_message(Bytes payload) noexcept {
  if (ABSL_PREDICT_FALSE(state_ != State::Open)) return {0, Error::NotOpen};
  return writer_.finish(out_, payload);
}

EncodeResult Connection::close(CloseCode code, std::string_view reason) noexcept {
  if (state_ != State::Open) return {0, Error::NotOpen};
  // Validate into a scratch frame first, so an invalid Close changes nothing.
  std::uint8_t scratch[kMaxControlPayload + kMaxHeaderSize];
  const EncodeResult check = writer_.close(std::span<std::uint8_t>(scratch), code, reason);
  if (!check.ok()) return check;
  queue_close(code, reason);
  state_ = State::Closing;
  return check;
}

absl::Duration Connection::timeout() const noexcept {
  switch (state_) {
    case State::Connecting: return handshake_timeout_;
    case State::Closing: return close_timeout_;
    default: return absl::InfiniteDuration();
  }
}

void Connection::expire() noexcept {
  if (state_ == State::Connecting) {
    fail({.cause = FailureCause::HandshakeTimeout});
  } else if (state_ == State::Closing) {
    fail({.cause = FailureCause::CloseTimeout});
  }
}

void Connection::abort() noexcept {
  // Nothing queued can be sent any more, even after Closed.
  out_.clear();
  owed_pong_len_ = owed_close_len_ = -1;
  if (state_ == State::Closed || state_ == State::Failed) return;
  fail({.cause = FailureCause::Aborted});
}

}  // namespace tern::ws
