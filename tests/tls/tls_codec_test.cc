#include "core/tls/tls_codec.h"

#include <openssl/err.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/buf/read_buf.h"
#include "core/tls/error.h"
#include "core/tls/tls_config.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/split_feed.h"
#include "tests/tls/pump.h"
#include "tests/tls/test_pki.h"

namespace tern::tls {
namespace {

using testing::CertAndKey;
using testing::HandshakeOutcome;
using testing::Pump;
using testing::test_pki;

struct ClientOpts {
  bool trust_test_ca = true;
  bool system_store = false;
  bool verify = true;
  bool tls13_only = false;
  std::vector<std::string> alpn;
};

TlsConfig client_config(const ClientOpts& o = {}) {
  TlsConfig::Builder b = TlsConfig::client();
  b.use_system_trust_store(o.system_store).alpn(o.alpn);
  if (o.trust_test_ca) b.add_ca_pem(test_pki().ca.cert_pem);
  if (!o.verify) b.dangerously_disable_certificate_verification();
  if (o.tls13_only) b.tls13_only();
  absl::StatusOr<TlsConfig> c = b.build();
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

TlsConfig server_config(const CertAndKey& id, Version max = Version::Tls13,
                        std::vector<std::string> alpn = {}) {
  absl::StatusOr<TlsConfig> c = TlsConfig::server()
                                    .certificate_chain_pem(id.cert_pem)
                                    .private_key_pem(id.key_pem)
                                    .max_version(max)
                                    .alpn(std::move(alpn))
                                    .build();
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

TlsCodec make_client(const TlsConfig& c, std::string_view host = "localhost") {
  absl::StatusOr<TlsCodec> codec = TlsCodec::client(c, host);
  EXPECT_TRUE(codec.ok()) << codec.status();
  return *std::move(codec);
}

TlsCodec make_server(const TlsConfig& c) {
  absl::StatusOr<TlsCodec> codec = TlsCodec::server(c);
  EXPECT_TRUE(codec.ok()) << codec.status();
  return *std::move(codec);
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A connected pair after a successful handshake.
struct Connected {
  TlsConfig client_cfg;
  TlsConfig server_cfg;
  TlsCodec client;
  TlsCodec server;
};

Connected connect(Version max = Version::Tls13) {
  TlsConfig cc = client_config();
  TlsConfig sc = server_config(test_pki().good, max);
  TlsCodec c = make_client(cc);
  TlsCodec s = make_server(sc);
  Pump pump(c, s);
  HandshakeOutcome out = pump.handshake();
  EXPECT_EQ(out.client, Progress::Done) << c.reason();
  EXPECT_EQ(out.server, Progress::Done) << s.reason();
  return {std::move(cc), std::move(sc), std::move(c), std::move(s)};
}

void expect_roundtrip(TlsCodec& c, TlsCodec& s, testing::SplitFn split,
                      std::size_t size, std::uint64_t seed) {
  std::vector<std::uint8_t> up = random_bytes(size, seed);
  std::vector<std::uint8_t> down = random_bytes(size, seed + 1);
  std::vector<std::uint8_t> server_got, client_got;
  Pump pump(c, s, std::move(split));
  ASSERT_TRUE(pump.exchange(up, down, server_got, client_got))
      << "seed=" << seed << " client: " << c.reason()
      << " server: " << s.reason();
  EXPECT_TRUE(server_got == up) << "seed=" << seed;
  EXPECT_TRUE(client_got == down) << "seed=" << seed;
}

// --- handshake ---------------------------------------------------------------

class HandshakeTest : public ::testing::TestWithParam<Version> {};

TEST_P(HandshakeTest, CompletesWholeBytewiseAndInRandomPieces) {
  const Version v = GetParam();
  TlsConfig cc = client_config();
  TlsConfig sc = server_config(test_pki().good, v);
  struct Plan {
    std::string name;
    testing::SplitFn split;
  };
  std::vector<Plan> plans = {{"whole", testing::whole()},
                             {"bytewise", testing::bytewise()}};
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    plans.push_back({"random seed=" + std::to_string(seed),
                     testing::random_pieces(seed, 700)});
  }
  for (Plan& plan : plans) {
    SCOPED_TRACE(plan.name);
    TlsCodec c = make_client(cc);
    TlsCodec s = make_server(sc);
    EXPECT_EQ(c.handshake(), Progress::NeedsWrite);  // ClientHello
    EXPECT_EQ(s.handshake(), Progress::NeedsRead);
    Pump pump(c, s, plan.split);
    HandshakeOutcome out = pump.handshake();
    ASSERT_EQ(out.client, Progress::Done) << c.reason();
    ASSERT_EQ(out.server, Progress::Done) << s.reason();
    EXPECT_TRUE(c.handshake_done());
    EXPECT_EQ(c.version(), v);
    EXPECT_EQ(s.version(), v);
    EXPECT_EQ(s.server_name(), "localhost");  // RFC 6066 §3 SNI
    EXPECT_EQ(c.error(), Error::None);
    EXPECT_TRUE(c.reason().empty());
    expect_roundtrip(c, s, plan.split, 3000, 42);
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, HandshakeTest,
                         ::testing::Values(Version::Tls12, Version::Tls13),
                         [](const auto& info) {
                           return info.param == Version::Tls12 ? "Tls12"
                                                               : "Tls13";
                         });

TEST(TlsCodec, AlpnAgreement) {
  ClientOpts o;
  o.alpn = {"h2", "http/1.1"};
  TlsConfig cc = client_config(o);
  // RFC 7301 §3.2: the server's preference wins.
  TlsConfig sc = server_config(test_pki().good, Version::Tls13,
                               {"http/1.1", "h2"});
  TlsCodec c = make_client(cc);
  TlsCodec s = make_server(sc);
  HandshakeOutcome out = Pump(c, s).handshake();
  ASSERT_EQ(out.client, Progress::Done);
  EXPECT_EQ(c.alpn(), "http/1.1");
  EXPECT_EQ(s.alpn(), "http/1.1");
}

TEST(TlsCodec, AlpnAbsentOnBothSides) {
  Connected p = connect();
  EXPECT_EQ(p.client.alpn(), "");
  EXPECT_EQ(p.server.alpn(), "");
}

TEST(TlsCodec, AlpnNoOverlapFailsBothSides) {
  ClientOpts o;
  o.alpn = {"h2"};
  TlsConfig cc = client_config(o);
  TlsConfig sc = server_config(test_pki().good, Version::Tls13, {"http/1.1"});
  TlsCodec c = make_client(cc);
  TlsCodec s = make_server(sc);
  HandshakeOutcome out = Pump(c, s).handshake();
  EXPECT_EQ(out.server, Progress::Failed);
  EXPECT_EQ(s.error(), Error::NoApplicationProtocol) << s.reason();
  EXPECT_EQ(out.client, Progress::Failed);
  EXPECT_EQ(c.error(), Error::NoApplicationProtocol) << c.reason();
  EXPECT_NE(c.reason().find("no application protocol"), std::string::npos)
      << c.reason();
}

// Each handshake flight fed whole, byte by byte, cut at every offset and in
// random pieces (tests/support/split_feed.h): the receiver must report
// NeedsRead and write nothing until the flight's last byte, then answer, and
// the handshake must complete.
class FlightSplitTest : public ::testing::TestWithParam<Version> {};

std::vector<std::uint8_t> take_all(TlsCodec& c) {
  std::vector<std::uint8_t> out;
  for (auto p = c.pending_ciphertext(); !p.empty(); p = c.pending_ciphertext()) {
    out.insert(out.end(), p.begin(), p.end());
    c.consume_ciphertext(p.size());
  }
  return out;
}

TEST_P(FlightSplitTest, ClientHelloAtEveryCut) {
  TlsConfig cc = client_config();
  TlsConfig sc = server_config(test_pki().good, GetParam());
  TlsCodec probe = make_client(cc);
  probe.handshake();
  const std::size_t hello_size = take_all(probe).size();
  for (const auto& plan : tern::testing::split_plans(hello_size, 7)) {
    SCOPED_TRACE(plan.name);
    TlsCodec c = make_client(cc);
    TlsCodec s = make_server(sc);
    ASSERT_EQ(c.handshake(), Progress::NeedsWrite);
    std::vector<std::uint8_t> hello = take_all(c);
    ASSERT_EQ(hello.size(), hello_size);  // same shape every time
    std::size_t at = 0;
    for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
      ASSERT_EQ(s.feed_ciphertext(std::span(hello).subspan(at, plan.pieces[i])),
                plan.pieces[i]);
      at += plan.pieces[i];
      Progress p = s.handshake();
      if (i + 1 < plan.pieces.size()) {
        ASSERT_EQ(p, Progress::NeedsRead) << "piece " << i;
      } else {
        ASSERT_EQ(p, Progress::NeedsWrite) << s.reason();
      }
    }
    HandshakeOutcome out = Pump(c, s).handshake();
    ASSERT_EQ(out.client, Progress::Done) << c.reason();
    ASSERT_EQ(out.server, Progress::Done) << s.reason();
  }
}

TEST_P(FlightSplitTest, ServerFlightAtEveryCut) {
  TlsConfig cc = client_config();
  TlsConfig sc = server_config(test_pki().good, GetParam());
  // The server's first flight is nearly the same size in every run (same
  // certificate, fixed-size key shares), but an ECDSA signature's DER length
  // varies by a byte or two: each plan is fitted to its run's flight.
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    TlsCodec probe_c = make_client(cc);
    TlsCodec probe_s = make_server(sc);
    probe_c.handshake();
    probe_s.feed_ciphertext(take_all(probe_c));
    probe_s.handshake();
    const std::size_t approx = take_all(probe_s).size();
    for (const auto& plan : tern::testing::split_plans(approx, seed, 4)) {
      SCOPED_TRACE(plan.name);
      TlsCodec c = make_client(cc);
      TlsCodec s = make_server(sc);
      c.handshake();
      s.feed_ciphertext(take_all(c));
      ASSERT_EQ(s.handshake(), Progress::NeedsWrite);
      std::vector<std::uint8_t> flight = take_all(s);
      // Scale the plan to this run's flight length (the last piece absorbs
      // a difference of a few bytes in signature length).
      std::vector<std::size_t> pieces = plan.pieces;
      std::size_t planned = approx;
      while (planned > flight.size() && !pieces.empty()) {
        std::size_t cut = std::min(pieces.back(), planned - flight.size());
        pieces.back() -= cut;
        planned -= cut;
        if (pieces.back() == 0) pieces.pop_back();
      }
      if (planned < flight.size()) pieces.push_back(flight.size() - planned);
      std::size_t at = 0;
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        ASSERT_EQ(c.feed_ciphertext(std::span(flight).subspan(at, pieces[i])),
                  pieces[i]);
        at += pieces[i];
        Progress p = c.handshake();
        if (i + 1 < pieces.size()) {
          ASSERT_EQ(p, Progress::NeedsRead) << "piece " << i << " " << c.reason();
        } else {
          ASSERT_EQ(p, Progress::NeedsWrite) << c.reason();
        }
      }
      HandshakeOutcome out = Pump(c, s).handshake();
      ASSERT_EQ(out.client, Progress::Done) << c.reason();
      ASSERT_EQ(out.server, Progress::Done) << s.reason();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, FlightSplitTest,
                         ::testing::Values(Version::Tls12, Version::Tls13),
                         [](const auto& info) {
                           return info.param == Version::Tls12 ? "Tls12"
                                                               : "Tls13";
                         });

// --- certificate verification -------------------------------------------------

struct BadCertCase {
  const char* name;
  const CertAndKey* id;
  const char* host;
  Error expected;
  const char* reason_part;
};

TEST(TlsCodec, EachBadCertificateRejectedWithItsCause) {
  const auto& pki = test_pki();
  const BadCertCase cases[] = {
      // RFC 6125 §6.4: DNS-ID must match the reference identity.
      {"wrong host", &pki.wrong_host, "localhost", Error::HostnameMismatch,
       "hostname mismatch"},
      {"good cert, other name", &pki.good, "example.com",
       Error::HostnameMismatch, "hostname mismatch"},
      // RFC 5280 §6.1.3 (a)(2): validity period.
      {"expired", &pki.expired, "localhost", Error::CertificateExpired,
       "certificate has expired"},
      {"not yet valid", &pki.not_yet_valid, "localhost",
       Error::CertificateNotYetValid, "not yet valid"},
      {"self-signed", &pki.self_signed, "localhost",
       Error::UntrustedCertificate, "self-signed"},
      // RFC 5280 §4.2.1.6: an IP reference identity matches iPAddress only.
      {"IP mismatch", &pki.good, "127.0.0.2", Error::HostnameMismatch,
       "IP address mismatch"},
  };
  TlsConfig cc = client_config();
  for (const BadCertCase& tc : cases) {
    SCOPED_TRACE(tc.name);
    TlsConfig sc = server_config(*tc.id);
    TlsCodec c = make_client(cc, tc.host);
    TlsCodec s = make_server(sc);
    HandshakeOutcome out = Pump(c, s).handshake();
    EXPECT_EQ(out.client, Progress::Failed);
    EXPECT_EQ(c.error(), tc.expected) << name(c.error()) << ": " << c.reason();
    EXPECT_NE(c.reason().find(tc.reason_part), std::string::npos)
        << c.reason();
    // The client's alert reaches the server, which fails too.
    EXPECT_EQ(out.server, Progress::Failed);
    EXPECT_EQ(s.error(), Error::HandshakeFailed) << s.reason();
    EXPECT_NE(s.reason().find("alert"), std::string::npos) << s.reason();
  }
}

TEST(TlsCodec, UnknownCaIsUntrusted) {
  ClientOpts o;
  o.trust_test_ca = false;
  o.system_store = true;
  TlsConfig cc = client_config(o);
  TlsConfig sc = server_config(test_pki().good);
  TlsCodec c = make_client(cc);
  TlsCodec s = make_server(sc);
  HandshakeOutcome out = Pump(c, s).handshake();
  EXPECT_EQ(out.client, Progress::Failed);
  EXPECT_EQ(c.error(), Error::UntrustedCertificate) << c.reason();
  EXPECT_NE(c.reason().find("unable to get local issuer certificate"),
            std::string::npos)
      << c.reason();
}

TEST(TlsCodec, IpLiteralHostnameVerification) {
  TlsConfig cc = client_config();
  TlsConfig sc = server_config(test_pki().good);
  for (const char* host : {"127.0.0.1", "::1", "[::1]"}) {
    SCOPED_TRACE(host);
    TlsCodec c = make_client(cc, host);
    TlsCodec s = make_server(sc);
    HandshakeOutcome out = Pump(c, s).handshake();
    EXPECT_EQ(out.client, Progress::Done) << c.reason();
    EXPECT_EQ(out.server, Progress::Done) << s.reason();
    // RFC 6066 §3: IP literals are not sent as SNI.
    EXPECT_EQ(s.server_name(), "");
  }
}

TEST(TlsCodec, DangerouslyDisabledVerificationAcceptsAnything) {
  ClientOpts o;
  o.trust_test_ca = false;
  o.verify = false;
  TlsConfig cc = client_config(o);
  for (const CertAndKey* id : {&test_pki().self_signed, &test_pki().expired,
                               &test_pki().wrong_host}) {
    TlsConfig sc = server_config(*id);
    TlsCodec c = make_client(cc, "localhost");
    TlsCodec s = make_server(sc);
    HandshakeOutcome out = Pump(c, s).handshake();
    EXPECT_EQ(out.client, Progress::Done) << c.reason();
  }
}

TEST(TlsCodec, Tls13OnlyClientAgainstTls12OnlyServerFailsCleanly) {
  ClientOpts o;
  o.tls13_only = true;
  TlsConfig cc = client_config(o);
  TlsConfig sc = server_config(test_pki().good, Version::Tls12);
  TlsCodec c = make_client(cc);
  TlsCodec s = make_server(sc);
  HandshakeOutcome out = Pump(c, s).handshake();
  EXPECT_EQ(out.server, Progress::Failed);
  EXPECT_EQ(s.error(), Error::UnsupportedVersion) << s.reason();
  EXPECT_EQ(out.client, Progress::Failed);
  EXPECT_EQ(c.error(), Error::UnsupportedVersion) << c.reason();
  EXPECT_NE(c.reason().find("protocol version"), std::string::npos)
      << c.reason();
}

// --- data ----------------------------------------------------------------------

TEST(TlsCodec, SixteenMebibytesBothWaysIntact) {
  for (Version v : {Version::Tls13, Version::Tls12}) {
    Connected p = connect(v);
    expect_roundtrip(p.client, p.server, testing::whole(), 16 << 20, 7);
  }
}

TEST(TlsCodec, DataInRandomPiecesAndBytewise) {
  Connected p = connect();
  for (std::uint64_t seed = 100; seed < 104; ++seed) {
    expect_roundtrip(p.client, p.server, testing::random_pieces(seed, 3000),
                     200 * 1024, seed);
  }
  expect_roundtrip(p.client, p.server, testing::bytewise(), 20000, 9);
}

TEST(TlsCodec, ZeroCopyCiphertextSpace) {
  Connected p = connect();
  const std::string msg = "hello over zero-copy";
  ASSERT_EQ(p.client.write_plaintext(bytes(msg)), msg.size());
  for (;;) {
    std::span<const std::uint8_t> out = p.client.pending_ciphertext();
    if (out.empty()) break;
    std::span<std::uint8_t> in = p.server.ciphertext_space();
    std::size_t n = std::min(out.size(), in.size());
    ASSERT_GT(n, 0u);
    std::memcpy(in.data(), out.data(), n);  // stands in for read(2)
    p.server.commit_ciphertext(n);
    p.client.consume_ciphertext(n);
  }
  ReadBuf buf(1024);
  EXPECT_EQ(p.server.read_plaintext(buf), Progress::NeedsRead);
  EXPECT_EQ(std::string(buf.data().begin(), buf.data().end()), msg);
}

TEST(TlsCodec, BoundedRingsPushBack) {
  Connected p = connect();
  std::vector<std::uint8_t> big = random_bytes(1 << 20, 3);
  std::size_t accepted = p.client.write_plaintext(big);
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, TlsCodec::kDefaultBufferSize);  // nothing drained yet
  EXPECT_EQ(p.client.write_plaintext(std::span(big).subspan(accepted)), 0u);
  // The server's inbound ring is bounded the same way.
  std::vector<std::uint8_t> junk(1 << 20, 0x17);
  EXPECT_EQ(p.server.feed_ciphertext(junk), TlsCodec::kDefaultBufferSize);
}

TEST(TlsCodec, ReadIntoFullBufferReportsOutputFull) {
  Connected p = connect();
  std::vector<std::uint8_t> data = random_bytes(1000, 5);
  ASSERT_EQ(p.client.write_plaintext(data), data.size());
  Pump pump(p.client, p.server);
  while (pump.transfer_once(p.client, p.server) > 0) {
  }
  ReadBuf small(300);
  std::vector<std::uint8_t> got;
  EXPECT_EQ(p.server.read_plaintext(small), Progress::OutputFull);
  while (got.size() < data.size()) {
    got.insert(got.end(), small.data().begin(), small.data().end());
    small.consume(small.size());
    Progress pr = p.server.read_plaintext(small);
    ASSERT_TRUE(pr == Progress::OutputFull || pr == Progress::NeedsRead);
    if (pr == Progress::NeedsRead) {
      got.insert(got.end(), small.data().begin(), small.data().end());
      small.consume(small.size());
    }
  }
  EXPECT_TRUE(got == data);
}

// --- close_notify and EOF -------------------------------------------------------

TEST(TlsCodec, CloseNotifyBothWays) {
  for (Version v : {Version::Tls13, Version::Tls12}) {
    Connected p = connect(v);
    Pump pump(p.client, p.server);
    const std::string last = "last words";
    ASSERT_EQ(p.client.write_plaintext(bytes(last)), last.size());
    EXPECT_EQ(p.client.shutdown(), Progress::NeedsWrite);
    EXPECT_EQ(p.client.write_plaintext(bytes(last)), 0u);  // closed for writing
    EXPECT_EQ(p.client.shutdown(), Progress::NeedsWrite);  // idempotent
    while (pump.transfer_once(p.client, p.server) > 0) {
    }
    ReadBuf buf(1024);
    EXPECT_EQ(p.server.read_plaintext(buf), Progress::PeerClosed);
    EXPECT_EQ(std::string(buf.data().begin(), buf.data().end()), last);
    EXPECT_TRUE(p.server.peer_closed());
    EXPECT_FALSE(p.server.failed());
    EXPECT_EQ(p.server.read_plaintext(buf), Progress::PeerClosed);  // sticky

    // The server may still write after the client's close_notify
    // (RFC 8446 §6.1 half-close), then closes too.
    const std::string reply = "bye";
    ASSERT_EQ(p.server.write_plaintext(bytes(reply)), reply.size());
    while (pump.transfer_once(p.server, p.client) > 0) {
    }
    // A second shutdown() must not swallow data the peer still sends.
    EXPECT_EQ(p.client.shutdown(), Progress::Done);
    EXPECT_EQ(p.server.shutdown(), Progress::NeedsWrite);
    while (pump.transfer_once(p.server, p.client) > 0) {
    }
    ReadBuf cbuf(1024);
    EXPECT_EQ(p.client.read_plaintext(cbuf), Progress::PeerClosed);
    EXPECT_EQ(std::string(cbuf.data().begin(), cbuf.data().end()), reply);
    EXPECT_FALSE(p.client.failed());
  }
}

TEST(TlsCodec, EofAfterCloseNotifyIsClean) {
  Connected p = connect();
  EXPECT_EQ(p.server.shutdown(), Progress::NeedsWrite);
  Pump pump(p.client, p.server);
  while (pump.transfer_once(p.server, p.client) > 0) {
  }
  p.client.feed_eof();
  ReadBuf buf(1024);
  EXPECT_EQ(p.client.read_plaintext(buf), Progress::PeerClosed);
  EXPECT_FALSE(p.client.failed());
}

TEST(TlsCodec, EofWithoutCloseNotifyIsTruncation) {
  Connected p = connect();
  const std::string msg = "partial";
  ASSERT_EQ(p.server.write_plaintext(bytes(msg)), msg.size());
  Pump pump(p.client, p.server);
  while (pump.transfer_once(p.server, p.client) > 0) {
  }
  p.client.feed_eof();
  ReadBuf buf(1024);
  EXPECT_EQ(p.client.read_plaintext(buf), Progress::Failed);
  EXPECT_EQ(std::string(buf.data().begin(), buf.data().end()), msg);
  EXPECT_EQ(p.client.error(), Error::TruncatedStream) << p.client.reason();
}

TEST(TlsCodec, EofDuringHandshakeIsTruncation) {
  TlsConfig cc = client_config();
  TlsCodec c = make_client(cc);
  EXPECT_EQ(c.handshake(), Progress::NeedsWrite);
  c.consume_ciphertext(c.pending_ciphertext().size());
  c.feed_eof();
  EXPECT_EQ(c.handshake(), Progress::Failed);
  EXPECT_EQ(c.error(), Error::TruncatedStream) << c.reason();
}

TEST(TlsCodec, ServerAlpnIgnoredWhenClientOffersNone) {
  // RFC 7301 §3.1: ALPN applies only when the client sends the extension.
  TlsConfig cc = client_config();
  TlsConfig sc = server_config(test_pki().good, Version::Tls13, {"http/1.1"});
  TlsCodec c = make_client(cc);
  TlsCodec s = make_server(sc);
  HandshakeOutcome out = Pump(c, s).handshake();
  EXPECT_EQ(out.client, Progress::Done) << c.reason();
  EXPECT_EQ(out.server, Progress::Done) << s.reason();
  EXPECT_EQ(s.alpn(), "");
}

TEST(TlsCodec, InboundRingFullLeavesNoSpace) {
  TlsConfig sc = server_config(test_pki().good);
  TlsCodec s = make_server(sc);
  std::size_t total = 0;
  for (std::span<std::uint8_t> in = s.ciphertext_space(); !in.empty();
       in = s.ciphertext_space()) {
    std::memset(in.data(), 0, in.size());
    s.commit_ciphertext(in.size());
    total += in.size();
  }
  EXPECT_EQ(total, TlsCodec::kDefaultBufferSize);
  const std::uint8_t one = 0;
  EXPECT_EQ(s.feed_ciphertext({&one, 1}), 0u);
}

// --- failures --------------------------------------------------------------------

TEST(TlsCodec, GarbageClientHelloFailsServerAndSticks) {
  TlsConfig sc = server_config(test_pki().good);
  TlsCodec s = make_server(sc);
  const std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(s.feed_ciphertext(bytes(junk)), junk.size());
  EXPECT_EQ(s.handshake(), Progress::Failed);
  EXPECT_EQ(s.error(), Error::HandshakeFailed);
  EXPECT_NE(s.reason().find("error:"), std::string::npos) << s.reason();
  ReadBuf buf(64);
  EXPECT_EQ(s.read_plaintext(buf), Progress::Failed);
  EXPECT_EQ(s.handshake(), Progress::Failed);
  EXPECT_EQ(s.shutdown(), Progress::Failed);
  EXPECT_EQ(s.write_plaintext(bytes(junk)), 0u);
  EXPECT_EQ(s.error(), Error::HandshakeFailed);
}

TEST(TlsCodec, TamperedRecordIsProtocolFailure) {
  Connected p = connect();
  const std::string msg = "integrity matters";
  ASSERT_EQ(p.client.write_plaintext(bytes(msg)), msg.size());
  std::span<const std::uint8_t> rec = p.client.pending_ciphertext();
  std::vector<std::uint8_t> copy(rec.begin(), rec.end());
  p.client.consume_ciphertext(copy.size());
  copy[copy.size() - 3] ^= 0x40;  // inside the AEAD tag (RFC 8446 §5.2)
  ASSERT_EQ(p.server.feed_ciphertext(copy), copy.size());
  ReadBuf buf(1024);
  EXPECT_EQ(p.server.read_plaintext(buf), Progress::Failed);
  EXPECT_EQ(p.server.error(), Error::ProtocolFailure);
  EXPECT_NE(p.server.reason().find("bad record mac"), std::string::npos)
      << p.server.reason();
  EXPECT_TRUE(buf.empty());
  // The bad_record_mac alert waits for the caller to flush.
  EXPECT_FALSE(p.server.pending_ciphertext().empty());
}

TEST(TlsCodec, StaleErrorsFromOtherCodeDoNotFailTheCodec) {
  Connected p = connect();
  // Someone else on this thread left an error in OpenSSL's queue; without
  // clearing it SSL_get_error() would report SSL_ERROR_SSL on WANT_READ.
  ERR_raise(ERR_LIB_SSL, ERR_R_INTERNAL_ERROR);
  ASSERT_NE(ERR_peek_error(), 0u);
  expect_roundtrip(p.client, p.server, testing::whole(), 100, 1);
  ERR_raise(ERR_LIB_SSL, ERR_R_INTERNAL_ERROR);
  ReadBuf buf(64);
  EXPECT_EQ(p.server.read_plaintext(buf), Progress::NeedsRead);
  EXPECT_FALSE(p.server.failed());
}

TEST(TlsCodec, WriteBeforeHandshakeAcceptsNothing) {
  TlsConfig cc = client_config();
  TlsCodec c = make_client(cc);
  EXPECT_EQ(c.write_plaintext(bytes("early")), 0u);
  EXPECT_EQ(c.shutdown(), Progress::Done);
  EXPECT_FALSE(c.failed());
}

TEST(TlsCodec, MovedCodecKeepsWorkingAndOutlivesConfig) {
  TlsCodec c = [] {
    TlsConfig cc = client_config();
    return make_client(cc);  // config handle dropped here
  }();
  TlsConfig sc = server_config(test_pki().good);
  TlsCodec s = make_server(sc);
  TlsCodec moved = std::move(c);
  HandshakeOutcome out = Pump(moved, s).handshake();
  EXPECT_EQ(out.client, Progress::Done);
  EXPECT_EQ(out.server, Progress::Done);
}

TEST(TlsError, NamesAreDistinct) {
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Error::InternalError); ++i) {
    std::string_view n = name(static_cast<Error>(i));
    EXPECT_NE(n, "Unknown");
    for (std::string_view seen : names) EXPECT_NE(n, seen);
    names.push_back(n);
  }
  EXPECT_EQ(name(Error::HostnameMismatch), "HostnameMismatch");
  EXPECT_EQ(name(Progress::PeerClosed), "PeerClosed");
}

// --- allocation ----------------------------------------------------------------

TEST(TlsCodec, SteadyStateAllocatesNothingThroughOperatorNew) {
  Connected p = connect();
  ReadBuf sbuf(64 * 1024);
  ReadBuf cbuf(64 * 1024);
  std::vector<std::uint8_t> msg = random_bytes(128, 11);
  auto round = [&] {
    std::size_t n = p.client.write_plaintext(msg);
    for (std::span<const std::uint8_t> out = p.client.pending_ciphertext();
         !out.empty(); out = p.client.pending_ciphertext()) {
      std::size_t fed = p.server.feed_ciphertext(out);
      p.client.consume_ciphertext(fed);
    }
    Progress pr = p.server.read_plaintext(sbuf);
    sbuf.consume(sbuf.size());
    std::size_t m = p.server.write_plaintext(msg);
    for (std::span<const std::uint8_t> out = p.server.pending_ciphertext();
         !out.empty(); out = p.server.pending_ciphertext()) {
      std::size_t fed = p.client.feed_ciphertext(out);
      p.server.consume_ciphertext(fed);
    }
    Progress pc = p.client.read_plaintext(cbuf);
    cbuf.consume(cbuf.size());
    return n == msg.size() && m == msg.size() && pr == Progress::NeedsRead &&
           pc == Progress::NeedsRead;
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(round());  // session tickets etc.
  tern::testing::AllocCounter count;
  for (int i = 0; i < 2000; ++i) {
    if (!round()) FAIL() << "round " << i;
  }
  EXPECT_EQ(count.allocations(), 0u);
}

}  // namespace
}  // namespace tern::tls
