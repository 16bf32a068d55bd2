// Records handshake bytes from in-memory client<->server runs and writes them
// as seed inputs for tls_server_fuzz and tls_client_fuzz (byte 0 = piece
// size / mode, see fuzz_common.h). Run:
//   bazel run //fuzz/tls:make_corpus -- $PWD/fuzz/tls/corpus
// The keys behind these bytes are regenerated on every run and discarded;
// the seeds hold only public handshake messages.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tls/tls_codec.h"
#include "core/tls/tls_config.h"
#include "tests/tls/test_pki.h"

namespace {

using namespace tern::tls;
using Bytes = std::vector<std::uint8_t>;

void move_all(TlsCodec& from, TlsCodec& to, Bytes& record) {
  for (auto p = from.pending_ciphertext(); !p.empty();
       p = from.pending_ciphertext()) {
    std::size_t n = to.feed_ciphertext(p);
    record.insert(record.end(), p.begin(), p.begin() + n);
    from.consume_ciphertext(n);
    if (n == 0) break;
  }
}

struct Recording {
  Bytes client_hello;   // client's first flight
  Bytes client_flight;  // everything the client sent
  Bytes server_flight;  // everything the server sent
};

Recording record(Version client_max, Version server_max,
                 std::vector<std::string> client_alpn) {
  const auto& pki = tern::tls::testing::test_pki();
  absl::StatusOr<TlsConfig> cc = TlsConfig::client()
                                     .use_system_trust_store(false)
                                     .add_ca_pem(pki.ca.cert_pem)
                                     .max_version(client_max)
                                     .alpn(client_alpn)
                                     .build();
  absl::StatusOr<TlsConfig> sc = TlsConfig::server()
                                     .certificate_chain_pem(pki.good.cert_pem)
                                     .private_key_pem(pki.good.key_pem)
                                     .max_version(server_max)
                                     .alpn({"http/1.1"})
                                     .build();
  absl::StatusOr<TlsCodec> c = TlsCodec::client(*cc, "localhost");
  absl::StatusOr<TlsCodec> s = TlsCodec::server(*sc);
  Recording r;
  c->handshake();
  std::span<const std::uint8_t> hello = c->pending_ciphertext();
  r.client_hello.assign(hello.begin(), hello.end());
  for (int i = 0; i < 50; ++i) {
    c->handshake();
    move_all(*c, *s, r.client_flight);
    s->handshake();
    move_all(*s, *c, r.server_flight);
  }
  return r;
}

void write(const std::string& dir, const std::string& name, std::uint8_t mode,
           const Bytes& body) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(body.data()),
            static_cast<std::streamsize>(body.size()));
  std::printf("%s/%s: %zu bytes\n", dir.c_str(), name.c_str(), body.size() + 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus OUT_DIR (with server/ client/)\n");
    return 2;
  }
  std::string server = std::string(argv[1]) + "/server";
  std::string client = std::string(argv[1]) + "/client";
  Recording r13 = record(Version::Tls13, Version::Tls13, {"http/1.1"});
  Recording r12 = record(Version::Tls12, Version::Tls12, {});
  Recording mismatch = record(Version::Tls13, Version::Tls13, {"h2"});

  write(server, "client_hello_tls13", 0, r13.client_hello);
  write(server, "client_hello_tls13_split7", 7, r13.client_hello);
  write(server, "client_hello_tls12", 0, r12.client_hello);
  write(server, "client_hello_alpn_h2", 0, mismatch.client_hello);
  write(server, "client_flight_tls13", 0, r13.client_flight);
  write(server, "client_flight_tls12_split33", 33, r12.client_flight);
  const std::string http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  write(server, "plain_http", 0, Bytes(http.begin(), http.end()));

  write(client, "server_flight_tls13_noverify", 0x00, r13.server_flight);
  write(client, "server_flight_tls13_verify", 0x80, r13.server_flight);
  write(client, "server_flight_tls12_noverify_split5", 0x05, r12.server_flight);
  write(client, "server_flight_tls12_verify", 0x80, r12.server_flight);
  const Bytes alert = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
  write(client, "handshake_failure_alert", 0x00, alert);
  return 0;
}
