// File: handshake.h
//
// The WebSocket opening handshake (RFC 6455 §4) as two sans-IO objects that
// ride on the HTTP core: no second HTTP parser, no sockets.
//
// ClientHandshake writes the upgrade GET for a ws:// or wss:// URL (fresh
// 16-byte key from OpenSSL's CSPRNG, version 13, optional subprotocols and
// extra headers) and validates the server's 101 reply: status, Upgrade and
// Connection tokens (case-insensitive), Sec-WebSocket-Accept, no extension
// (tern offers none), and a subprotocol only among those offered. When
// read_response() returns Complete, the reply has been consumed from the
// ReadBuf and whatever follows it is WebSocket frames: hand the same buffer
// to a client-role FrameReader.
//
// ServerHandshake parses an upgrade request with http::RequestReader and
// checks GET, HTTP/1.1, Host, Upgrade, Connection, a base64 16-byte key and
// version 13; accept() writes the 101 and drops the request from the buffer,
// reject() writes 400 (426 with "Sec-WebSocket-Version: 13" for a wrong
// version, 431 for oversized headers).
//
// Both are configured by create(), which allocates; the handshake itself
// calls no operator new (OpenSSL's own use of memory is not counted). Views (target(), headers()) borrow the ReadBuf and live
// until accept(), reject() or the buffer is changed.
//
//   auto hs = tern::ws::ClientHandshake::create(url, {.subprotocols = {"v1"}});
//   hs->write_request(out);  ... send out ...
//   while (hs->read_response(in) == tern::http::Progress::NeedMore) read_more(in);
//   if (hs->error() == tern::ws::HandshakeError::None) /* frames follow in `in` */;
#ifndef TERN_CORE_WS_HANDSHAKE_H_
#define TERN_CORE_WS_HANDSHAKE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/error.h"
#include "core/http/headers.h"
#include "core/http/limits.h"
#include "core/http/request_reader.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/http/response_writer.h"
#include "core/url/url.h"
#include "core/ws/handshake_error.h"
#include "core/ws/handshake_key.h"

namespace tern::ws {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

class ClientHandshake {
 public:
  struct Options {
    // Offered in order of preference (Sec-WebSocket-Protocol); each a token.
    std::vector<std::string> subprotocols;
    // Sent with the upgrade request (Origin, Authorization, cookies, ...).
    HeaderPairs extra_headers;
    // Bounds on the server's reply.
    http::Limits limits;
  };

  // InvalidArgument naming the HandshakeError for a URL that is not ws/wss,
  // an extra header that is malformed or reserved, or a bad subprotocol.
  static absl::StatusOr<ClientHandshake> create(const Url& url, Options options);

  // Appends the upgrade request to `out`, with a new key. Resets any
  // previous response state.
  HandshakeError write_request(WriteBuf& out) noexcept;

  // Parses and validates the reply from `in`. Complete: the handshake
  // succeeded if error() is None; either way the reply's bytes are gone from
  // `in`. Failed: error() (Http: http_error()) says why.
  http::Progress read_response(ReadBuf& in) noexcept;
  // The transport hit EOF: completes a close-delimited error reply, else fails.
  http::Progress finish(ReadBuf& in) noexcept;

  HandshakeError error() const noexcept { return error_; }
  http::Error http_error() const noexcept { return reader_.error(); }
  int status() const noexcept { return status_; }
  // The subprotocol the server chose (one of Options::subprotocols, owned by
  // the handshake), or empty.
  std::string_view subprotocol() const noexcept { return chosen_; }
  // The key of the last request, for logs and tests.
  std::string_view key() const noexcept { return view(key_); }

 private:
  ClientHandshake(http::RequestWriter writer, std::string target,
                  std::vector<std::string> subprotocols, const http::Limits& limits)
      : writer_(std::move(writer)), target_(std::move(target)),
        subprotocols_(std::move(subprotocols)), reader_(limits) {}
  http::Progress validate(ReadBuf& in, http::Progress p) noexcept;

  http::RequestWriter writer_;
  std::string target_;
  std::vector<std::string> subprotocols_;
  http::ResponseReader reader_;
  ClientKey key_{};
  AcceptKey expected_accept_{};
  std::string_view chosen_;
  HandshakeError error_ = HandshakeError::None;
  int status_ = 0;
};

class ServerHandshake {
 public:
  struct Options {
    // Sent with every 101 and rejection (e.g. Server).
    HeaderPairs extra_headers;
    // Bounds on the client's request.
    http::Limits limits;
  };

  static absl::StatusOr<ServerHandshake> create(Options options);

  // Parses the upgrade request in `in`. Complete: a valid WebSocket upgrade;
  // call accept() (or reject() to refuse it). Failed: error() says why; call
  // reject() to answer and then close the connection. Either verdict is
  // repeated by later calls until accept(), reject() or reset().
  http::Progress read_request(ReadBuf& in) noexcept;

  HandshakeError error() const noexcept { return error_; }
  http::Error http_error() const noexcept { return reader_.error(); }

  // After Complete (also after NotUpgradeRequest, so a server can route a
  // plain request): the request target and fields, borrowed from `in`.
  std::string_view target() const noexcept { return reader_.target(); }
  http::HeaderList headers() const noexcept { return reader_.headers(); }
  // True if the client listed `protocol` in Sec-WebSocket-Protocol.
  bool offers_subprotocol(std::string_view protocol) const noexcept;

  // Writes the 101 (naming `subprotocol` if not empty; it must be offered)
  // to `out` and drops the request from `in`: what remains is frames.
  HandshakeError accept(ReadBuf& in, WriteBuf& out,
                        std::string_view subprotocol = {}) noexcept;
  // Writes the rejection for error() (400, 426 or 431; 400 if called after
  // a successful read) with "Connection: close", and drops whatever of the
  // request was parsed.
  HandshakeError reject(ReadBuf& in, WriteBuf& out) noexcept;
  // The status reject() sends for the current verdict (400, 426 or 431).
  int reject_status() const noexcept;

  // Ready for another connection.
  void reset() noexcept;

 private:
  ServerHandshake(http::ResponseWriter writer, const http::Limits& limits)
      : writer_(std::move(writer)), reader_(limits) {}
  HandshakeError validate() noexcept;

  http::ResponseWriter writer_;
  http::RequestReader reader_;
  AcceptKey accept_{};
  HandshakeError error_ = HandshakeError::None;
  bool complete_ = false;
};

}  // namespace tern::ws

#endif  // TERN_CORE_WS_HANDSHAKE_H_
