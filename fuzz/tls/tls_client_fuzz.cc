// Random bytes into a client-role TlsCodec after it sent its ClientHello:
// ServerHello and the rest of the server's flight (and, should a handshake
// ever complete, records after it). Byte 0 picks the piece size; its top bit
// picks a verifying client (test CA) or one with verification disabled, which
// gets past the certificate into later messages. Beyond "no crash": the same
// cause whichever way the bytes are split, sticky failure with reason text.
#include <cstddef>
#include <cstdint>

#include "fuzz/tls/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace tern::tls;
  if (size < 1) return 0;
  std::span<const std::uint8_t> input(data + 1, size - 1);
  bool verify = (data[0] & 0x80) != 0;
  std::size_t piece = data[0] & 0x7f;
  const TlsConfig& config = fuzz::client_config(verify);

  absl::StatusOr<TlsCodec> whole = TlsCodec::client(config, "localhost");
  absl::StatusOr<TlsCodec> split = TlsCodec::client(config, "localhost");
  fuzz::require(whole.ok() && split.ok(), "codec");
  for (TlsCodec* c : {&*whole, &*split}) {
    fuzz::require(c->handshake() == Progress::NeedsWrite, "no ClientHello");
    while (!c->pending_ciphertext().empty()) {
      c->consume_ciphertext(c->pending_ciphertext().size());
    }
  }
  fuzz::Outcome a = fuzz::drive(*whole, input, 0);
  fuzz::Outcome b = fuzz::drive(*split, input, piece);
  fuzz::require(a.error == b.error, "cause depends on how bytes are split");
  fuzz::require(a.done == b.done, "handshake state depends on split");
  return 0;
}
