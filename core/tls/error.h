// File: error.h
//
// tern::tls::Error names why a TlsCodec failed. Each enumerator is one cause a
// caller may want to branch on (show "certificate expired" to an operator,
// retry on another host after a hostname mismatch, give up on a protocol
// failure). The codec also keeps OpenSSL's own reason text beside the cause
// (TlsCodec::reason()). "Needs more bytes" is never an Error: it is
// Progress::NeedsRead. A clean close_notify from the peer is not an Error
// either: it is Progress::PeerClosed.
#ifndef TERN_CORE_TLS_ERROR_H_
#define TERN_CORE_TLS_ERROR_H_

#include <cstdint>
#include <string_view>

namespace tern::tls {

enum class Error : std::uint8_t {
  None = 0,
  // The peer's chain does not lead to a trusted root (unknown issuer,
  // self-signed leaf or chain, bad signature in the chain).
  UntrustedCertificate,
  // The chain is trusted but names neither the DNS name nor the IP address
  // the client asked for (RFC 6125 §6; RFC 5280 §4.2.1.6 iPAddress).
  HostnameMismatch,
  // A certificate in the chain is past its notAfter (RFC 5280 §4.1.2.5).
  CertificateExpired,
  // A certificate in the chain is before its notBefore.
  CertificateNotYetValid,
  // Any other verification failure (bad extensions, purpose, path length...).
  CertificateInvalid,
  // The peer presented no certificate where one was required.
  NoPeerCertificate,
  // No TLS version both sides allow (RFC 8446 §4.2.1, RFC 5246 §E.1).
  UnsupportedVersion,
  // ALPN offered but no protocol in common (RFC 7301 §3.2).
  NoApplicationProtocol,
  // The peer sent a fatal alert during the handshake, or the handshake
  // messages were malformed or inconsistent.
  HandshakeFailed,
  // A record after the handshake failed to decrypt or parse, or the peer sent
  // a fatal alert (RFC 8446 §5.2, §6).
  ProtocolFailure,
  // The transport reached EOF without a close_notify (RFC 8446 §6.1): the
  // stream may have been cut by an attacker.
  TruncatedStream,
  // OpenSSL could not allocate or hit an internal error.
  InternalError,
};

// Stable, human-readable enumerator name ("HostnameMismatch").
std::string_view name(Error error) noexcept;

}  // namespace tern::tls

#endif  // TERN_CORE_TLS_ERROR_H_
