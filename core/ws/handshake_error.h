// File: handshake_error.h
//
// Why an opening handshake (RFC 6455 §4) failed, on either side. Client-side
// causes describe the server's response; server-side causes describe the
// client's upgrade request and decide the rejection status (400, or 426 for a
// version other than 13).
#ifndef TERN_CORE_WS_HANDSHAKE_ERROR_H_
#define TERN_CORE_WS_HANDSHAKE_ERROR_H_

#include <cstdint>
#include <string_view>

namespace tern::ws {

enum class HandshakeError : std::uint8_t {
  None = 0,
  // Either side.
  Http,                   // the HTTP message did not parse: see http_error()
  BufferFull,             // the request or reply does not fit the WriteBuf
  InvalidHeader,          // an extra header given by the caller is malformed
  InvalidSubprotocol,     // a subprotocol given by the caller is not a token
  RandomFailure,          // the CSPRNG could not produce a key
  // Client: the server's response (RFC 6455 §4.1, items 1–6 of the checks).
  NotSwitchingProtocols,  // status other than 101 (status() has it)
  MissingUpgrade,         // no "Upgrade: websocket"
  MissingConnectionUpgrade,  // no "upgrade" token in Connection
  BadAccept,              // Sec-WebSocket-Accept missing or wrong
  UnrequestedExtension,   // Sec-WebSocket-Extensions present; none offered
  UnrequestedSubprotocol, // a subprotocol that was not offered
  // Server: the client's request (RFC 6455 §4.2.1).
  NotGet,                 // method other than GET
  NotHttp11,              // HTTP/1.0 (1.1 or later is required)
  MissingHost,
  RequestHasBody,         // an upgrade GET carrying a body
  MissingKey,             // Sec-WebSocket-Key absent or repeated
  BadKey,                 // not base64 of 16 bytes
  UnsupportedVersion,     // Sec-WebSocket-Version not 13: reply 426
  NotUpgradeRequest,      // a valid request, but not asking for WebSocket
  SubprotocolNotOffered,  // the server chose one the client did not offer
};

std::string_view name(HandshakeError e) noexcept;

// The status a server sends when rejecting a request for this cause: 426
// for UnsupportedVersion, 431 for oversized headers, otherwise 400.
int reject_status(HandshakeError e, int http_error_status = 400) noexcept;

}  // namespace tern::ws

#endif  // TERN_CORE_WS_HANDSHAKE_ERROR_H_
