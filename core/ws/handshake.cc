#include "core/ws/handshake.h"

#include "absl/strings/str_cat.h"
#include "core/http/tokens.h"

namespace tern::ws {
namespace {

absl::Status invalid(HandshakeError e, std::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(
      "tern::ws::HandshakeError::", absl::string_view(name(e).data(), name(e).size()),
      ": ", absl::string_view(detail.data(), detail.size())));
}

int status_for_http_error(http::Error e) {
  switch (e) {
    case http::Error::HeaderTooLarge:
    case http::Error::TooManyHeaders:
    case http::Error::BufferFull:  // the request's head outgrew the read buffer
      return 431;  // RFC 6585 §5
    case http::Error::BodyTooLarge:
      return 413;
    default:
      return 400;
  }
}

}  // namespace

absl::StatusOr<ClientHandshake> ClientHandshake::create(const Url& url, Options options) {
  if (!url.websocket()) return invalid(HandshakeError::InvalidHeader, "URL scheme is not ws or wss");
  std::string protocols;
  for (const std::string& p : options.subprotocols) {
    if (!http::is_token(p)) return invalid(HandshakeError::InvalidSubprotocol, p);
    absl::StrAppend(&protocols, protocols.empty() ? "" : ", ", p);
  }
  http::RequestWriter::Options w;
  w.host = host_field(url);
  w.default_headers = {
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Version", "13"},
  };
  if (!protocols.empty()) w.default_headers.emplace_back("Sec-WebSocket-Protocol", protocols);
  for (auto& h : options.extra_headers) w.default_headers.push_back(std::move(h));
  absl::StatusOr<http::RequestWriter> writer = http::RequestWriter::create(std::move(w));
  if (!writer.ok()) {
    return invalid(HandshakeError::InvalidHeader,
                   std::string_view(writer.status().message().data(), writer.status().message().size()));
  }
  std::string target(url.path);
  if (url.has_query) absl::StrAppend(&target, "?", absl::string_view(url.query.data(), url.query.size()));
  return ClientHandshake(*std::move(writer), std::move(target),
                         std::move(options.subprotocols), options.limits);
}

HandshakeError ClientHandshake::write_request(WriteBuf& out) noexcept {
  reader_.reset();
  reader_.set_request_method(http::Method::Get);
  chosen_ = {};
  status_ = 0;
  if (!make_client_key(key_)) return error_ = HandshakeError::RandomFailure;
  expected_accept_ = compute_accept(view(key_));
  http::WriteResult r = writer_.start(out, http::Method::Get, target_)
                            .header("Sec-WebSocket-Key", view(key_))
                            .finish();
  if (!r.ok()) {
    return error_ = r.error == http::Error::BufferFull ? HandshakeError::BufferFull
                                                       : HandshakeError::InvalidHeader;
  }
  return error_ = HandshakeError::None;
}

http::Progress ClientHandshake::read_response(ReadBuf& in) noexcept {
  return validate(in, reader_.next(in));
}

http::Progress ClientHandshake::finish(ReadBuf& in) noexcept {
  return validate(in, reader_.finish(in));
}

http::Progress ClientHandshake::validate(ReadBuf& in, http::Progress p) noexcept {
  if (p == http::Progress::NeedMore) return p;
  if (p == http::Progress::Failed) {
    error_ = HandshakeError::Http;
    return p;
  }
  status_ = reader_.status();
  const http::HeaderList h = reader_.headers();
  // RFC 6455 §4.1, the client's checks of the server's handshake, in order.
  if (status_ != 101) {
    error_ = HandshakeError::NotSwitchingProtocols;
  } else if (!h.has_token("Upgrade", "websocket")) {
    error_ = HandshakeError::MissingUpgrade;
  } else if (!h.has_token("Connection", "upgrade")) {
    error_ = HandshakeError::MissingConnectionUpgrade;
  } else if (h.count("Sec-WebSocket-Accept") != 1 ||
             h.get("Sec-WebSocket-Accept") != view(expected_accept_)) {
    error_ = HandshakeError::BadAccept;
  } else if (!h.get("Sec-WebSocket-Extensions").empty()) {
    error_ = HandshakeError::UnrequestedExtension;
  } else {
    error_ = HandshakeError::None;
    if (const http::Header* proto = h.find("Sec-WebSocket-Protocol")) {
      error_ = HandshakeError::UnrequestedSubprotocol;
      if (h.count("Sec-WebSocket-Protocol") == 1) {
        for (const std::string& offered : subprotocols_) {
          if (offered == proto->value) {
            chosen_ = offered;
            error_ = HandshakeError::None;
            break;
          }
        }
      }
    }
  }
  // Frames may already follow the reply in the same read: keep only them.
  reader_.consume(in);
  return p;
}

absl::StatusOr<ServerHandshake> ServerHandshake::create(Options options) {
  absl::StatusOr<http::ResponseWriter> writer =
      http::ResponseWriter::create({std::move(options.extra_headers)});
  if (!writer.ok()) {
    return invalid(HandshakeError::InvalidHeader,
                   std::string_view(writer.status().message().data(), writer.status().message().size()));
  }
  return ServerHandshake(*std::move(writer), options.limits);
}

void ServerHandshake::reset() noexcept {
  reader_.reset();
  error_ = HandshakeError::None;
  complete_ = false;
}

http::Progress ServerHandshake::read_request(ReadBuf& in) noexcept {
  // Sticky: a verdict stands until accept(), reject() or reset().
  if (error_ != HandshakeError::None) return http::Progress::Failed;
  if (complete_) return http::Progress::Complete;
  const http::Progress p = reader_.next(in);
  if (p == http::Progress::NeedMore) return p;
  if (p == http::Progress::Failed) {
    error_ = HandshakeError::Http;
    return p;
  }
  complete_ = true;
  error_ = validate();
  return error_ == HandshakeError::None ? p : http::Progress::Failed;
}

HandshakeError ServerHandshake::validate() noexcept {
  const http::HeaderList h = reader_.headers();
  // RFC 6455 §4.2.1, the server's checks of the client's request.
  if (reader_.method() != http::Method::Get) return HandshakeError::NotGet;
  if (reader_.version_minor() < 1) return HandshakeError::NotHttp11;
  if (h.count("Host") != 1 || h.get("Host").empty()) return HandshakeError::MissingHost;
  if (!h.has_token("Upgrade", "websocket") || !h.has_token("Connection", "upgrade")) {
    return HandshakeError::NotUpgradeRequest;
  }
  if (h.count("Sec-WebSocket-Version") != 1 || h.get("Sec-WebSocket-Version") != "13") {
    return HandshakeError::UnsupportedVersion;
  }
  if (h.count("Sec-WebSocket-Key") != 1) return HandshakeError::MissingKey;
  const std::string_view key = h.get("Sec-WebSocket-Key");
  if (!is_valid_client_key(key)) return HandshakeError::BadKey;
  if (!reader_.body().empty() || reader_.chunked()) return HandshakeError::RequestHasBody;
  accept_ = compute_accept(key);
  return HandshakeError::None;
}

bool ServerHandshake::offers_subprotocol(std::string_view protocol) const noexcept {
  return reader_.headers().has_token("Sec-WebSocket-Protocol", protocol);
}

HandshakeError ServerHandshake::accept(ReadBuf& in, WriteBuf& out,
                                       std::string_view subprotocol) noexcept {
  if (!complete_ || error_ != HandshakeError::None) return error_;
  if (!subprotocol.empty() && !offers_subprotocol(subprotocol)) {
    return HandshakeError::SubprotocolNotOffered;
  }
  http::ResponseBuilder b = writer_.start(out, 101);
  b.header("Upgrade", "websocket")
      .header("Connection", "Upgrade")
      .header("Sec-WebSocket-Accept", view(accept_));
  if (!subprotocol.empty()) b.header("Sec-WebSocket-Protocol", subprotocol);
  const http::WriteResult r = b.finish();
  if (!r.ok()) {
    return r.error == http::Error::BufferFull ? HandshakeError::BufferFull
                                              : HandshakeError::InvalidHeader;
  }
  reader_.consume(in);
  complete_ = false;
  return HandshakeError::None;
}

int ServerHandshake::reject_status() const noexcept {
  const HandshakeError cause = error_ == HandshakeError::None ? HandshakeError::NotUpgradeRequest : error_;
  return ws::reject_status(cause, status_for_http_error(reader_.error()));
}

HandshakeError ServerHandshake::reject(ReadBuf& in, WriteBuf& out) noexcept {
  const int status = reject_status();
  http::ResponseBuilder b = writer_.start(out, status);
  b.header("Connection", "close");
  // RFC 6455 §4.4: tell the client which version this server speaks.
  if (status == 426) b.header("Sec-WebSocket-Version", "13");
  const http::WriteResult r = b.finish();
  if (complete_) reader_.consume(in);
  complete_ = false;
  if (!r.ok()) return HandshakeError::BufferFull;
  return HandshakeError::None;
}

}  // namespace tern::ws
