// File: close_code.h
//
// RFC 6455 §7.4 status codes carried in Close frames. CloseCode names the
// registered codes; any 16-bit value may be held in it (application codes
// 3000–4999 are cast in). is_valid_close_code() decides which codes may appear
// on the wire, modelled on Beast's is_valid_close_code switch.
#ifndef TERN_CORE_WS_CLOSE_CODE_H_
#define TERN_CORE_WS_CLOSE_CODE_H_

#include <cstdint>
#include <string_view>

namespace tern::ws {

enum class CloseCode : std::uint16_t {
  Normal = 1000,              // purpose fulfilled
  GoingAway = 1001,           // server shutting down, page navigated away
  ProtocolError = 1002,       // peer violated RFC 6455
  UnsupportedData = 1003,     // e.g. binary where only text is accepted
  Reserved1004 = 1004,        // reserved, never sent
  NoStatus = 1005,            // local only: Close frame had no payload
  Abnormal = 1006,            // local only: connection dropped without Close
  InvalidPayload = 1007,      // data inconsistent with type (bad UTF-8)
  PolicyViolation = 1008,     // generic policy refusal
  MessageTooBig = 1009,       // message or frame exceeds a limit
  MandatoryExtension = 1010,  // client wanted an extension the server lacks
  InternalError = 1011,       // unexpected condition on this side
  ServiceRestart = 1012,      // IANA registry
  TryAgainLater = 1013,       // IANA registry
  BadGateway = 1014,          // IANA registry
  TlsHandshake = 1015,        // local only: TLS handshake failed
};

constexpr std::uint16_t to_int(CloseCode c) noexcept {
  return static_cast<std::uint16_t>(c);
}

// True if `code` may be sent in a Close frame (RFC 6455 §7.4.1, §7.4.2 and the
// IANA "WebSocket Close Code Number Registry"):
//   1000–1003, 1007–1014      registered, valid;
//   1004, 1005, 1006, 1015    reserved or local-only, never on the wire;
//   1016–2999                 reserved for future protocol use;
//   3000–3999 (libraries), 4000–4999 (private use) valid;
//   0–999 and 5000+           not defined, invalid.
// 1012–1014 are accepted because they are registered with IANA (Beast accepts
// 1012 and 1013 too); Autobahn's case 7.7 lists them as valid.
constexpr bool is_valid_close_code(std::uint16_t code) noexcept {
  switch (code) {
    case 1000: case 1001: case 1002: case 1003:
    case 1007: case 1008: case 1009: case 1010: case 1011:
    case 1012: case 1013: case 1014:
      return true;
    case 1004: case 1005: case 1006: case 1015:
      return false;
    default:
      return code >= 3000 && code <= 4999;
  }
}
constexpr bool is_valid_close_code(CloseCode code) noexcept {
  return is_valid_close_code(to_int(code));
}

// "Normal", "ProtocolError", …; "Application" for 3000–4999, "Unknown" else.
std::string_view name(CloseCode code) noexcept;

}  // namespace tern::ws

#endif  // TERN_CORE_WS_CLOSE_CODE_H_
