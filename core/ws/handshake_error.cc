#include "core/ws/handshake_error.h"

namespace tern::ws {

std::string_view name(HandshakeError e) noexcept {
  switch (e) {
    case HandshakeError::None: return "None";
    case HandshakeError::Http: return "Http";
    case HandshakeError::BufferFull: return "BufferFull";
    case HandshakeError::InvalidHeader: return "InvalidHeader";
    case HandshakeError::InvalidSubprotocol: return "InvalidSubprotocol";
    case HandshakeError::RandomFailure: return "RandomFailure";
    case HandshakeError::NotSwitchingProtocols: return "NotSwitchingProtocols";
    case HandshakeError::MissingUpgrade: return "MissingUpgrade";
    case HandshakeError::MissingConnectionUpgrade: return "MissingConnectionUpgrade";
    case HandshakeError::BadAccept: return "BadAccept";
    case HandshakeError::UnrequestedExtension: return "UnrequestedExtension";
    case HandshakeError::UnrequestedSubprotocol: return "UnrequestedSubprotocol";
    case HandshakeError::NotGet: return "NotGet";
    case HandshakeError::NotHttp11: return "NotHttp11";
    case HandshakeError::MissingHost: return "MissingHost";
    case HandshakeError::RequestHasBody: return "RequestHasBody";
    case HandshakeError::MissingKey: return "MissingKey";
    case HandshakeError::BadKey: return "BadKey";
    case HandshakeError::UnsupportedVersion: return "UnsupportedVersion";
    case HandshakeError::NotUpgradeRequest: return "NotUpgradeRequest";
    case HandshakeError::SubprotocolNotOffered: return "SubprotocolNotOffered";
  }
  return "Unknown";
}

int reject_status(HandshakeError e, int http_error_status) noexcept {
  if (e == HandshakeError::UnsupportedVersion) return 426;
  if (e == HandshakeError::Http) return http_error_status;
  return 400;
}

}  // namespace tern::ws
