// TLS record cost after the handshake, in memory (no sockets): tern's
// TlsCodec beside plain OpenSSL SSL_write/SSL_read over the same kind of BIO
// pair, same SSL_CTX settings, same cipher suite (OpenSSL's default TLS 1.3
// choice, TLS_AES_256_GCM_SHA384).
//
//   tls_roundtrip_{77,128}   encrypt one message, move the record, decrypt
//   tls_bulk_16384           the same with full 16 KiB records (bytes/s)
//   tls_ws_parse_77          decrypt + RFC 6455 parse of a 77 B text frame
//                            (records pre-encrypted in batches outside the
//                            timed region; nexus-net's "TLS decrypt + parse")
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/tls/tls_codec.h"
#include "core/tls/tls_config.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "tests/tls/test_pki.h"

namespace {

using namespace tern::tls;

void die(const char* what) {
  std::fprintf(stderr, "tls_bench: %s\n", what);
  std::abort();
}

const TlsConfig& client_config() {
  static const TlsConfig* c = [] {
    auto r = TlsConfig::client()
                 .use_system_trust_store(false)
                 .add_ca_pem(testing::test_pki().ca.cert_pem)
                 .build();
    if (!r.ok()) die("client config");
    return new TlsConfig(*std::move(r));
  }();
  return *c;
}

const TlsConfig& server_config() {
  static const TlsConfig* c = [] {
    auto r = TlsConfig::server()
                 .certificate_chain_pem(testing::test_pki().good.cert_pem)
                 .private_key_pem(testing::test_pki().good.key_pem)
                 .build();
    if (!r.ok()) die("server config");
    return new TlsConfig(*std::move(r));
  }();
  return *c;
}

void move_ciphertext(TlsCodec& from, TlsCodec& to) {
  for (auto p = from.pending_ciphertext(); !p.empty();
       p = from.pending_ciphertext()) {
    std::size_t n = to.feed_ciphertext(p);
    from.consume_ciphertext(n);
    if (n == 0) break;
  }
}

struct TernPair {
  TlsCodec client;
  TlsCodec server;
};

TernPair tern_pair() {
  auto c = TlsCodec::client(client_config(), "localhost");
  auto s = TlsCodec::server(server_config());
  if (!c.ok() || !s.ok()) die("codec");
  for (int i = 0; i < 100; ++i) {
    c->handshake();
    move_ciphertext(*c, *s);
    s->handshake();
    move_ciphertext(*s, *c);
  }
  if (!c->handshake_done() || !s->handshake_done()) die("tern handshake");
  // Let the client absorb the NewSessionTickets before timing.
  tern::ReadBuf buf(1024);
  c->read_plaintext(buf);
  return {*std::move(c), *std::move(s)};
}

// ---- tern --------------------------------------------------------------------

template <std::size_t size>
void roundtrip_tern(benchmark::State& state) {
  TernPair p = tern_pair();
  std::vector<std::uint8_t> msg(size, 'x');
  tern::ReadBuf buf(64 * 1024);
  for (auto _ : state) {
    if (p.client.write_plaintext(msg) != size) die("write");
    move_ciphertext(p.client, p.server);
    p.server.read_plaintext(buf);
    if (buf.size() != size) die("read");
    benchmark::DoNotOptimize(buf.data().data());
    buf.consume(size);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  state.SetLabel(SSL_get_cipher_name(p.client.native_handle()));
}

// ---- plain OpenSSL --------------------------------------------------------------

struct RawEnd {
  SSL* ssl = nullptr;
  BIO* net = nullptr;
  ~RawEnd() {
    SSL_free(ssl);
    BIO_free(net);
  }
};

void raw_init(RawEnd& e, SSL_CTX* ctx, bool client) {
  e.ssl = SSL_new(ctx);
  BIO* internal = nullptr;
  if (BIO_new_bio_pair(&internal, TlsCodec::kDefaultBufferSize, &e.net,
                       TlsCodec::kDefaultBufferSize) != 1) {
    die("bio pair");
  }
  SSL_set_bio(e.ssl, internal, internal);
  if (client) {
    SSL_set_connect_state(e.ssl);
    SSL_set_tlsext_host_name(e.ssl, "localhost");
    SSL_set1_host(e.ssl, "localhost");
  } else {
    SSL_set_accept_state(e.ssl);
  }
}

void raw_move(RawEnd& from, RawEnd& to) {
  for (;;) {
    char* p = nullptr;
    int n = BIO_nread0(from.net, &p);
    if (n <= 0) break;
    int w = BIO_write(to.net, p, n);
    if (w <= 0) break;
    BIO_nread(from.net, &p, w);
  }
}

template <int size>
void roundtrip_openssl(benchmark::State& state) {
  RawEnd c, s;
  raw_init(c, client_config().native_handle(), true);
  raw_init(s, server_config().native_handle(), false);
  for (int i = 0; i < 100; ++i) {
    SSL_do_handshake(c.ssl);
    raw_move(c, s);
    SSL_do_handshake(s.ssl);
    raw_move(s, c);
  }
  if (!SSL_is_init_finished(c.ssl) || !SSL_is_init_finished(s.ssl)) {
    die("openssl handshake");
  }
  std::vector<char> msg(static_cast<std::size_t>(size), 'x');
  std::vector<char> buf(64 * 1024);
  SSL_read(c.ssl, buf.data(), 1);  // absorb tickets
  ERR_clear_error();
  for (auto _ : state) {
    if (SSL_write(c.ssl, msg.data(), size) != size) die("SSL_write");
    raw_move(c, s);
    if (SSL_read(s.ssl, buf.data(), static_cast<int>(buf.size())) != size) {
      die("SSL_read");
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  state.SetLabel(SSL_get_cipher_name(c.ssl));
}

// ---- decrypt + WebSocket parse ----------------------------------------------------

template <std::size_t size>
void ws_parse_tern(benchmark::State& state) {
  TernPair p = tern_pair();
  // Server -> client, as a market-data feed: unmasked frames (RFC 6455 §5.1).
  tern::ws::FrameWriter writer(tern::ws::Role::Server);
  tern::ws::FrameReader reader(tern::ws::Role::Client);
  const std::string payload(size, 'x');
  tern::WriteBuf frame(4096);
  if (!writer.text(frame, payload).ok()) die("frame");
  tern::ReadBuf buf(64 * 1024);
  constexpr int kBatch = 1000;
  std::vector<std::uint8_t> records;
  std::vector<std::size_t> ends;
  int next = kBatch;
  auto refill = [&] {
    records.clear();
    ends.clear();
    for (int i = 0; i < kBatch; ++i) {
      if (p.server.write_plaintext(frame.data()) != frame.size()) die("write");
      auto out = p.server.pending_ciphertext();
      records.insert(records.end(), out.begin(), out.end());
      p.server.consume_ciphertext(out.size());
      ends.push_back(records.size());
    }
    next = 0;
  };
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      refill();
      state.ResumeTiming();
    }
    std::size_t begin = next == 0 ? 0 : ends[next - 1];
    std::span<const std::uint8_t> rec(records.data() + begin,
                                      ends[next] - begin);
    ++next;
    // Stands in for read(2) into ciphertext_space().
    if (p.client.feed_ciphertext(rec) != rec.size()) die("feed");
    p.client.read_plaintext(buf);
    tern::ws::ReadResult r = reader.next(buf);
    if (r.status != tern::ws::ReadStatus::Message ||
        r.message.payload.size() != size) {
      die("parse");
    }
    benchmark::DoNotOptimize(r.message.payload.data());
    // As a receive loop does: next() until NeedMore, which also releases
    // the message's bytes so the ReadBuf drains back to its start.
    if (reader.next(buf).status != tern::ws::ReadStatus::NeedMore) {
      die("need more");
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  state.SetLabel(SSL_get_cipher_name(p.client.native_handle()));
}

}  // namespace

BENCHMARK(roundtrip_tern<77>)->Name("tls_roundtrip_77/tern");
BENCHMARK(roundtrip_openssl<77>)->Name("tls_roundtrip_77/openssl");
BENCHMARK(roundtrip_tern<128>)->Name("tls_roundtrip_128/tern");
BENCHMARK(roundtrip_openssl<128>)->Name("tls_roundtrip_128/openssl");
BENCHMARK(roundtrip_tern<16384>)->Name("tls_bulk_16384/tern");
BENCHMARK(roundtrip_openssl<16384>)->Name("tls_bulk_16384/openssl");
BENCHMARK(ws_parse_tern<77>)->Name("tls_ws_parse_77/tern");
