#include "core/tls/error.h"

namespace tern::tls {

std::string_view name(Error error) noexcept {
  switch (error) {
    case Error::None: return "None";
    case Error::UntrustedCertificate: return "UntrustedCertificate";
    case Error::HostnameMismatch: return "HostnameMismatch";
    case Error::CertificateExpired: return "CertificateExpired";
    case Error::CertificateNotYetValid: return "CertificateNotYetValid";
    case Error::CertificateInvalid: return "CertificateInvalid";
    case Error::NoPeerCertificate: return "NoPeerCertificate";
    case Error::UnsupportedVersion: return "UnsupportedVersion";
    case Error::NoApplicationProtocol: return "NoApplicationProtocol";
    case Error::HandshakeFailed: return "HandshakeFailed";
    case Error::ProtocolFailure: return "ProtocolFailure";
    case Error::TruncatedStream: return "TruncatedStream";
    case Error::InternalError: return "InternalError";
  }
  return "Unknown";
}

}  // namespace tern::tls
