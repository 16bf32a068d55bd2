// Random bytes into a server-role TlsCodec: ClientHello and the rest of the
// client's handshake flight, delivered whole and in pieces (byte 0). Beyond
// "no crash": the same outcome (progress and cause) whichever way the bytes
// are split, sticky failure with reason text, and never a certificate
// verification cause (the server verifies nothing).
#include <cstddef>
#include <cstdint>

#include "fuzz/tls/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace tern::tls;
  if (size < 1) return 0;
  std::span<const std::uint8_t> input(data + 1, size - 1);
  std::size_t piece = data[0];

  absl::StatusOr<TlsCodec> whole = TlsCodec::server(fuzz::server_config());
  absl::StatusOr<TlsCodec> split = TlsCodec::server(fuzz::server_config());
  fuzz::require(whole.ok() && split.ok(), "codec");
  fuzz::Outcome a = fuzz::drive(*whole, input, 0);
  fuzz::Outcome b = fuzz::drive(*split, input, piece);
  fuzz::require(a.error == b.error, "cause depends on how bytes are split");
  fuzz::require(a.done == b.done, "handshake state depends on split");
  switch (a.error) {
    case Error::UntrustedCertificate:
    case Error::HostnameMismatch:
    case Error::CertificateExpired:
    case Error::CertificateNotYetValid:
    case Error::CertificateInvalid:
      fuzz::require(false, "server reported a certificate cause");
      break;
    default:
      break;
  }
  return 0;
}
