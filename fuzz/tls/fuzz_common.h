// Shared by the TLS fuzz targets: configs built once per process (a fresh
// SSL_CTX and certificate per input would dominate the run time) and the
// feed loop that delivers an input whole or in pieces.
//
// Input format: byte 0 picks the piece size (0 = as much as the ring takes,
// else that many bytes per feed); the rest is ciphertext from the "peer".
#ifndef TERN_FUZZ_TLS_FUZZ_COMMON_H_
#define TERN_FUZZ_TLS_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "fuzz/check.h"
#include "absl/status/statusor.h"
#include "core/buf/read_buf.h"
#include "core/tls/tls_codec.h"
#include "core/tls/tls_config.h"
#include "tests/tls/test_pki.h"

namespace tern::tls::fuzz {

inline void require(bool ok, const char* what) { ::tern::fuzz::check(ok, what); }

inline const TlsConfig& server_config() {
  static const TlsConfig* config = [] {
    const auto& pki = testing::test_pki();
    absl::StatusOr<TlsConfig> c = TlsConfig::server()
                                      .certificate_chain_pem(pki.good.cert_pem)
                                      .private_key_pem(pki.good.key_pem)
                                      .alpn({"http/1.1"})
                                      .build();
    require(c.ok(), "server config");
    return new TlsConfig(*std::move(c));
  }();
  return *config;
}

// verify = false reaches deeper into the server flight (any certificate is
// accepted), verify = true exercises the verification error paths.
inline const TlsConfig& client_config(bool verify) {
  static const TlsConfig* configs[2] = {nullptr, nullptr};
  const TlsConfig*& config = configs[verify ? 1 : 0];
  if (config == nullptr) {
    TlsConfig::Builder b = TlsConfig::client();
    b.use_system_trust_store(false).alpn({"http/1.1"});
    if (verify) {
      b.add_ca_pem(testing::test_pki().ca.cert_pem);
    } else {
      b.dangerously_disable_certificate_verification();
    }
    absl::StatusOr<TlsConfig> c = b.build();
    require(c.ok(), "client config");
    config = new TlsConfig(*std::move(c));
  }
  return *config;
}

struct Outcome {
  Progress progress;
  Error error;
  bool done;
};

// Feeds `input` to `codec` in pieces of `piece` bytes (0 = as much as fits),
// draining its output and running the handshake (then reading plaintext)
// after each piece. Checks the codec's own invariants on the way.
inline Outcome drive(TlsCodec& codec, std::span<const std::uint8_t> input,
                     std::size_t piece) {
  static ReadBuf* plain = new ReadBuf(64 * 1024);
  plain->clear();
  Progress last = Progress::NeedsRead;
  std::size_t fed = 0;
  int stuck = 0;
  while (fed < input.size() && stuck < 2) {
    std::span<const std::uint8_t> rest = input.subspan(fed);
    if (piece != 0 && rest.size() > piece) rest = rest.first(piece);
    std::size_t n = codec.feed_ciphertext(rest);
    fed += n;
    stuck = n == 0 ? stuck + 1 : 0;
    for (;;) {
      last = codec.handshake_done() ? codec.read_plaintext(*plain)
                                    : codec.handshake();
      while (!codec.pending_ciphertext().empty()) {
        codec.consume_ciphertext(codec.pending_ciphertext().size());
      }
      if (last == Progress::OutputFull) {
        plain->clear();
        continue;
      }
      if (last == Progress::NeedsWrite) continue;
      if (last == Progress::Done) {
        last = codec.read_plaintext(*plain);
        if (last == Progress::OutputFull) { plain->clear(); continue; }
      }
      break;
    }
    if (last == Progress::Failed || last == Progress::PeerClosed) break;
  }
  // Sticky failure, and a cause with OpenSSL's text.
  if (codec.failed()) {
    require(last == Progress::Failed, "failed() without Progress::Failed");
    require(codec.handshake() == Progress::Failed, "failure not sticky");
    require(codec.read_plaintext(*plain) == Progress::Failed,
            "failure not sticky (read)");
    require(codec.write_plaintext(input) == 0, "write after failure");
    require(!codec.reason().empty(), "failure without reason text");
  } else {
    require(codec.error() == Error::None, "error without failed()");
  }
  return {last, codec.error(), codec.handshake_done()};
}

}  // namespace tern::tls::fuzz

#endif  // TERN_FUZZ_TLS_FUZZ_COMMON_H_
