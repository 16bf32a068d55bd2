#include "core/ws/close_code.h"

namespace tern::ws {

std::string_view name(CloseCode code) noexcept {
  switch (code) {
    case CloseCode::Normal: return "Normal";
    case CloseCode::GoingAway: return "GoingAway";
    case CloseCode::ProtocolError: return "ProtocolError";
    case CloseCode::UnsupportedData: return "UnsupportedData";
    case CloseCode::Reserved1004: return "Reserved1004";
    case CloseCode::NoStatus: return "NoStatus";
    case CloseCode::Abnormal: return "Abnormal";
    case CloseCode::InvalidPayload: return "InvalidPayload";
    case CloseCode::PolicyViolation: return "PolicyViolation";
    case CloseCode::MessageTooBig: return "MessageTooBig";
    case CloseCode::MandatoryExtension: return "MandatoryExtension";
    case CloseCode::InternalError: return "InternalError";
    case CloseCode::ServiceRestart: return "ServiceRestart";
    case CloseCode::TryAgainLater: return "TryAgainLater";
    case CloseCode::BadGateway: return "BadGateway";
    case CloseCode::TlsHandshake: return "TlsHandshake";
  }
  const std::uint16_t v = to_int(code);
  return v >= 3000 && v <= 4999 ? "Application" : "Unknown";
}

}  // namespace tern::ws
