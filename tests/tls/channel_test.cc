// tls::Channel without sockets: the plain channel's pass-through (zero copy,
// Data/Input/Closed/Full), and a TLS client Channel talking to a TLS server
// Channel in memory, driven only the way a backend drives it: pull(),
// read_space()/received(), output()/written(); never handshake().
#include "core/tls/channel.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/client_connection.h"
#include "core/http/request_reader.h"
#include "core/http/response_reader.h"
#include "core/http/response_writer.h"
#include "core/tls/error.h"
#include "core/tls/tls_codec.h"
#include "core/tls/tls_config.h"
#include "core/url/url.h"
#include "gtest/gtest.h"
#include "tests/tls/test_pki.h"

namespace tern::tls {

// GoogleTest prints these by name (found by ADL, so outside the anonymous
// namespace).
void PrintTo(Pull p, std::ostream* os) { *os << name(p); }
void PrintTo(Progress p, std::ostream* os) { *os << name(p); }
void PrintTo(Error e, std::ostream* os) { *os << name(e); }

namespace {

using testing::CertAndKey;
using testing::test_pki;

// Plaintext waiting to go out: what a Channel calls a Source.
struct ByteSource {
  std::string bytes;
  std::size_t taken = 0;
  std::span<const std::uint8_t> pending_output() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(bytes.data()) + taken, bytes.size() - taken};
  }
  void consume_output(std::size_t n) noexcept { taken += std::min(n, bytes.size() - taken); }
};

// A WriteBuf as a Source (a server's responses).
struct WriteBufSource {
  WriteBuf& buf;
  std::span<const std::uint8_t> pending_output() const noexcept { return buf.data(); }
  void consume_output(std::size_t n) noexcept { buf.consume(n); }
};

std::string text(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string random_text(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TlsConfig client_config() {
  absl::StatusOr<TlsConfig> c =
      TlsConfig::client().use_system_trust_store(false).add_ca_pem(test_pki().ca.cert_pem).build();
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

TlsConfig server_config(const CertAndKey& id = test_pki().good, Version max = Version::Tls13) {
  absl::StatusOr<TlsConfig> c = TlsConfig::server()
                                    .certificate_chain_pem(id.cert_pem)
                                    .private_key_pem(id.key_pem)
                                    .max_version(max)
                                    .build();
  EXPECT_TRUE(c.ok()) << c.status();
  return *std::move(c);
}

// --- plain ------------------------------------------------------------------

TEST(PlainChannel, OutputIsTheSourcesOwnBytes) {
  Channel ch = Channel::plain();
  EXPECT_FALSE(ch.secure());
  EXPECT_EQ(ch.codec(), nullptr);
  EXPECT_FALSE(ch.failed());
  EXPECT_EQ(ch.handshake(), Progress::Done);
  ByteSource src{"GET / HTTP/1.1\r\n\r\n"};
  std::span<const std::uint8_t> out = ch.output(src);
  EXPECT_EQ(out.data(), src.pending_output().data());  // no copy
  EXPECT_EQ(out.size(), src.bytes.size());
  ch.written(src, 4);
  EXPECT_EQ(src.taken, 4u);
  out = ch.output(src);
  EXPECT_EQ(out.data(), src.pending_output().data());
  EXPECT_EQ(text(out), "/ HTTP/1.1\r\n\r\n");
  ch.written(src, out.size());
  EXPECT_TRUE(ch.output(src).empty());
  EXPECT_EQ(ch.close_notify(), Progress::Done);

  // The same holds for the connection objects: output() is pending_output().
  http::ClientConnection conn({.read_buffer_size = 1024, .write_buffer_size = 1024});
  ASSERT_EQ(conn.queue_request(src.pending_output().subspan(0, 0)), http::QueueError::Empty);
  const std::string_view req = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(conn.queue_request({reinterpret_cast<const std::uint8_t*>(req.data()), req.size()}),
            http::QueueError::None);
  EXPECT_EQ(ch.output(conn).data(), conn.pending_output().data());
  ch.written(conn, 3);
  EXPECT_FALSE(conn.nothing_sent());
  EXPECT_EQ(text(ch.output(conn)), req.substr(3));
}

TEST(PlainChannel, ReadSpaceIsTheBuffersSpare) {
  Channel ch = Channel::plain();
  ReadBuf buf(64);
  std::span<std::uint8_t> space = ch.read_space(buf);
  EXPECT_EQ(space.data(), buf.spare().data());
  EXPECT_EQ(space.size(), buf.spare().size());
  EXPECT_EQ(ch.pull(buf), Pull::Input);  // nothing received yet

  std::memcpy(space.data(), "hello", 5);
  ch.received(5, buf);
  EXPECT_EQ(text(buf.data()), "hello");  // received in place
  EXPECT_EQ(ch.pull(buf), Pull::Data);
  EXPECT_EQ(ch.pull(buf), Pull::Input);  // Data once per arrival

  // Two arrivals before a pull are one Data.
  space = ch.read_space(buf);
  std::memcpy(space.data(), " w", 2);
  ch.received(2, buf);
  space = ch.read_space(buf);
  std::memcpy(space.data(), "orld", 4);
  ch.received(4, buf);
  EXPECT_EQ(ch.pull(buf), Pull::Data);
  EXPECT_EQ(ch.pull(buf), Pull::Input);
  EXPECT_EQ(text(buf.data()), "hello world");

  // A full tail is compacted to make room; nothing is lost.
  buf.consume(6);
  space = ch.read_space(buf);
  std::memset(space.data(), '.', space.size());
  ch.received(space.size() + 10, buf);  // clamped to the space
  EXPECT_EQ(buf.size(), 64u - 6u);
  space = ch.read_space(buf);
  EXPECT_EQ(space.size(), 6u);
  EXPECT_EQ(space.data(), buf.spare().data());
  EXPECT_EQ(text(buf.data()).substr(0, 5), "world");

  // EOF: the data first, then Closed for good.
  std::memcpy(space.data(), "!", 1);
  ch.received(1, buf);
  ch.received_eof();
  EXPECT_EQ(ch.pull(buf), Pull::Data);
  EXPECT_EQ(ch.pull(buf), Pull::Closed);
  EXPECT_EQ(ch.pull(buf), Pull::Closed);
  EXPECT_FALSE(ch.failed());
}

// A plain channel whose plaintext buffer is full, even compacted, says Full
// (never Input with an empty read_space()), then carries on once drained.
TEST(PlainChannel, FullBufferIsFullThenDrains) {
  Channel ch = Channel::plain();
  ReadBuf buf(16);
  const std::string wire = "0123456789abcdefGHIJ";
  std::span<std::uint8_t> space = ch.read_space(buf);
  ASSERT_EQ(space.size(), 16u);
  std::memcpy(space.data(), wire.data(), 16);
  ch.received(16, buf);
  EXPECT_EQ(ch.pull(buf), Pull::Data);
  EXPECT_EQ(ch.pull(buf), Pull::Full) << "no room, even compacted";
  EXPECT_TRUE(ch.read_space(buf).empty());
  std::string got = text(buf.data().first(8));
  buf.consume(8);
  space = ch.read_space(buf);
  ASSERT_EQ(space.size(), 8u);
  std::memcpy(space.data(), wire.data() + 16, 4);
  ch.received(4, buf);
  EXPECT_EQ(ch.pull(buf), Pull::Data);
  got += text(buf.data());
  EXPECT_EQ(got, wire);
}

// --- TLS in memory ----------------------------------------------------------

// One end of a connection: its channel, its plaintext buffer, what it has
// to send and what it got.
struct End {
  Channel ch;
  ReadBuf plain;
  ByteSource out;
  std::string got;
  Pull last = Pull::Input;
  bool saw_full = false;
  bool keep_data = false;  // leave plaintext in the buffer until Full
  // A network that buffers: the transport takes all of output(), the peer
  // receives it later in pieces (Wire::Buffered).
  std::string in_network;
  std::size_t delivered = 0;

  End(Channel c, std::size_t plain_size = 64 << 10) : ch(std::move(c)), plain(plain_size) {}

  // Pulls until the channel wants the network (or ended), taking the
  // plaintext; returns the last non-Data answer.
  Pull pull_all() {
    for (int i = 0; i < 1000; ++i) {
      last = ch.pull(plain);
      if (last == Pull::Data) {
        if (!keep_data) take();
        continue;
      }
      if (last == Pull::Full) {
        saw_full = true;
        if (plain.empty()) return last;  // nothing to drain: stuck
        take();
        continue;
      }
      return last;
    }
    ADD_FAILURE() << "pull() never asked for input";
    return last;
  }
  void take() {
    got += text(plain.data());
    plain.consume(plain.size());
  }
  bool ended() const { return last == Pull::Closed || last == Pull::Failed; }
};

// Moves one piece (at most `limit` bytes) of `from`'s output into `to`
// through read_space()/received(); returns the count.
std::size_t transfer(End& from, End& to, std::size_t limit) {
  std::span<const std::uint8_t> out = from.ch.output(from.out);
  if (out.empty()) return 0;
  std::span<std::uint8_t> space = to.ch.read_space(to.plain);
  const std::size_t n = std::min({out.size(), space.size(), limit});
  if (n == 0) return 0;
  std::memcpy(space.data(), out.data(), n);
  to.ch.received(n, to.plain);
  from.ch.written(from.out, n);
  return n;
}

// Like transfer(), but the sender's transport takes everything output()
// has at once, and the network delivers it to `to` in pieces: the receiver
// sees the given split without the sender draining in that split.
std::size_t transfer_buffered(End& from, End& to, std::size_t limit) {
  std::size_t moved = 0;
  for (std::span<const std::uint8_t> out = from.ch.output(from.out); !out.empty();
       out = from.ch.output(from.out)) {
    from.in_network += text(out);
    from.ch.written(from.out, out.size());
    moved += out.size();
  }
  std::span<std::uint8_t> space = to.ch.read_space(to.plain);
  const std::size_t n = std::min({from.in_network.size() - from.delivered, space.size(), limit});
  if (n == 0) return moved;
  std::memcpy(space.data(), from.in_network.data() + from.delivered, n);
  to.ch.received(n, to.plain);
  from.delivered += n;
  return moved + n;
}

enum class Wire { Direct, Buffered };

using Split = std::function<std::size_t()>;
Split whole() {
  return [] { return std::size_t{1} << 30; };
}
Split bytewise() {
  return [] { return std::size_t{1}; };
}
Split random_pieces(std::uint64_t seed, std::size_t max) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng, max] { return 1 + (*rng)() % max; };
}

// Runs both ends until each got `expect` bytes (or ended), or nothing
// moves any more. Returns the rounds used.
int run(End& c, End& s, const Split& split, std::size_t expect_c, std::size_t expect_s,
        Wire wire = Wire::Direct, int max_rounds = 4 << 20) {
  auto move = wire == Wire::Direct ? transfer : transfer_buffered;
  int idle = 0, round = 0;
  for (; round < max_rounds; ++round) {
    const std::size_t before = c.got.size() + s.got.size();
    c.pull_all();
    s.pull_all();
    std::size_t moved = move(c, s, split()) + move(s, c, split());
    moved += c.got.size() + s.got.size() - before;
    const bool done_c = c.got.size() >= expect_c || c.ended();
    const bool done_s = s.got.size() >= expect_s || s.ended();
    if (done_c && done_s && moved == 0) break;
    idle = moved == 0 ? idle + 1 : 0;
    if (idle > 3) break;
  }
  return round;
}

struct Pair {
  TlsConfig ccfg = client_config();
  TlsConfig scfg;
  End client;
  End server;
  Pair(const CertAndKey& id = test_pki().good, std::string_view host = "localhost",
       std::size_t plain_size = 64 << 10, Version max = Version::Tls13)
      : scfg(server_config(id, max)),
        client(*Channel::client(ccfg, host), plain_size),
        server(*Channel::server(scfg), plain_size) {}
};

class TlsChannelVersions : public ::testing::TestWithParam<Version> {};

TEST_P(TlsChannelVersions, HandshakeRunsInsidePullAndOutput) {
  Pair p(test_pki().good, "localhost", 64 << 10, GetParam());
  EXPECT_TRUE(p.client.ch.secure());
  EXPECT_EQ(p.client.ch.codec()->role(), Role::Client);
  EXPECT_EQ(p.server.ch.codec()->role(), Role::Server);
  p.client.out.bytes = "ping";
  // Before the handshake output() is the ClientHello and takes nothing from
  // the source.
  std::span<const std::uint8_t> hello = p.client.ch.output(p.client.out);
  EXPECT_FALSE(hello.empty());
  EXPECT_EQ(hello[0], 0x16);  // handshake record
  EXPECT_EQ(p.client.out.taken, 0u);
  EXPECT_EQ(p.server.ch.pull(p.server.plain), Pull::Input);  // nothing received

  p.server.out.bytes = "pong";
  run(p.client, p.server, whole(), 4, 4);
  EXPECT_TRUE(p.client.ch.codec()->handshake_done());
  EXPECT_TRUE(p.server.ch.codec()->handshake_done());
  EXPECT_EQ(p.server.got, "ping");
  EXPECT_EQ(p.client.got, "pong");
  EXPECT_EQ(p.client.out.taken, 4u);
  EXPECT_EQ(p.server.ch.codec()->server_name(), "localhost");
  EXPECT_FALSE(p.client.ch.failed());
  EXPECT_EQ(p.client.last, Pull::Input);
  EXPECT_EQ(p.client.ch.codec()->version(), GetParam());
}

TEST_P(TlsChannelVersions, HandshakeAndDataOneByteAtATime) {
  Pair p(test_pki().good, "localhost", 64 << 10, GetParam());
  p.client.out.bytes = random_text(40000, 3);
  p.server.out.bytes = random_text(40000, 4);
  run(p.client, p.server, bytewise(), 40000, 40000);
  EXPECT_TRUE(p.server.got == p.client.out.bytes);
  EXPECT_TRUE(p.client.got == p.server.out.bytes);
}

INSTANTIATE_TEST_SUITE_P(Versions, TlsChannelVersions,
                         ::testing::Values(Version::Tls13, Version::Tls12),
                         [](const ::testing::TestParamInfo<Version>& i) {
                           return i.param == Version::Tls13 ? "Tls13" : "Tls12";
                         });

// A caller that wants the handshake done before anything else loops on
// handshake(), moving output() and read_space()/received() between calls.
TEST(TlsChannel, ExplicitHandshakeLoop) {
  Pair p;
  Progress pc = Progress::NeedsRead, ps = Progress::NeedsRead;
  for (int i = 0; i < 100 && (pc != Progress::Done || ps != Progress::Done); ++i) {
    pc = p.client.ch.handshake();
    ps = p.server.ch.handshake();
    transfer(p.client, p.server, 1 << 30);
    transfer(p.server, p.client, 1 << 30);
  }
  EXPECT_EQ(pc, Progress::Done);
  EXPECT_EQ(ps, Progress::Done);
  EXPECT_EQ(Channel::plain().handshake(), Progress::Done);
  p.client.out.bytes = "after";
  run(p.client, p.server, whole(), 0, 5);
  EXPECT_EQ(p.server.got, "after");
}

TEST(TlsChannel, OneMebibyteBothWaysWholeBytewiseAndInRandomPieces) {
  struct Row {
    const char* name;
    Split split;
    Wire wire;
  };
  Row rows[] = {{"whole", whole(), Wire::Direct},
                {"random 3000", random_pieces(7, 3000), Wire::Direct},
                {"random 100", random_pieces(8, 100), Wire::Direct},
                {"bytewise", bytewise(), Wire::Buffered},
                {"random 700 buffered", random_pieces(10, 700), Wire::Buffered}};
  for (Row& row : rows) {
    SCOPED_TRACE(row.name);
    Pair p;
    p.client.out.bytes = random_text(1 << 20, 1);
    p.server.out.bytes = random_text(1 << 20, 2);
    run(p.client, p.server, row.split, 1 << 20, 1 << 20, row.wire);
    EXPECT_EQ(p.server.got.size(), p.client.out.bytes.size());
    EXPECT_TRUE(p.server.got == p.client.out.bytes);
    EXPECT_TRUE(p.client.got == p.server.out.bytes);
    EXPECT_FALSE(p.client.ch.failed()) << p.client.ch.codec()->reason();
    EXPECT_FALSE(p.server.ch.failed()) << p.server.ch.codec()->reason();
  }
}

TEST(TlsChannel, FullPlaintextBufferThenDrainsWithoutLoss) {
  Pair p(test_pki().good, "localhost", 1000);
  p.client.keep_data = true;  // the application does not keep up
  p.server.out.bytes = random_text(50000, 5);
  p.client.out.bytes = "x";
  run(p.client, p.server, random_pieces(9, 5000), 50000, 1);
  p.client.take();
  EXPECT_TRUE(p.client.saw_full);
  EXPECT_EQ(p.client.got.size(), p.server.out.bytes.size());
  EXPECT_TRUE(p.client.got == p.server.out.bytes);
  EXPECT_FALSE(p.client.ch.failed());
}

TEST(TlsChannel, CloseNotifyIsClosedOnTheOtherSide) {
  Pair p;
  p.client.out.bytes = "last words";
  run(p.client, p.server, whole(), 0, 10);
  ASSERT_EQ(p.server.got, "last words");
  EXPECT_EQ(p.client.ch.close_notify(), Progress::NeedsWrite);
  run(p.client, p.server, whole(), 0, 10);
  EXPECT_EQ(p.client.ch.close_notify(), Progress::Done);  // written
  EXPECT_EQ(p.server.last, Pull::Closed);
  EXPECT_EQ(p.server.ch.pull(p.server.plain), Pull::Closed);  // stays
  EXPECT_FALSE(p.server.ch.failed());

  // Half-close (RFC 8446 §6.1): the server may still answer, then close.
  p.server.out.bytes = "bye";
  run(p.client, p.server, whole(), 3, 0);
  EXPECT_EQ(p.client.got, "bye");
  EXPECT_EQ(p.server.ch.close_notify(), Progress::NeedsWrite);
  run(p.client, p.server, whole(), 3, 0);
  EXPECT_EQ(p.client.last, Pull::Closed);
  EXPECT_FALSE(p.client.ch.failed());
}

TEST(TlsChannel, EofWithoutCloseNotifyIsTruncation) {
  Pair p;
  p.server.out.bytes = "partial";
  run(p.client, p.server, whole(), 7, 0);
  ASSERT_EQ(p.client.got, "partial");
  p.server.out.bytes += " and more";
  // The server's records reach the client, then the transport ends.
  std::span<const std::uint8_t> out = p.server.ch.output(p.server.out);
  std::span<std::uint8_t> space = p.client.ch.read_space(p.client.plain);
  ASSERT_GE(space.size(), out.size());
  std::memcpy(space.data(), out.data(), out.size());
  p.client.ch.received(out.size(), p.client.plain);
  p.server.ch.written(p.server.out, out.size());
  p.client.ch.received_eof();
  EXPECT_EQ(p.client.pull_all(), Pull::Failed);
  EXPECT_EQ(p.client.got, "partial and more");  // what came before the cut
  EXPECT_TRUE(p.client.ch.failed());
  EXPECT_EQ(p.client.ch.codec()->error(), Error::TruncatedStream)
      << p.client.ch.codec()->reason();
  EXPECT_EQ(p.client.ch.pull(p.client.plain), Pull::Failed);  // sticky
}

TEST(TlsChannel, EofDuringHandshakeFails) {
  Pair p;
  // ClientHello out, then the server's transport closes without a word.
  transfer(p.client, p.server, 1 << 30);
  p.client.ch.received_eof();
  EXPECT_EQ(p.client.pull_all(), Pull::Failed);
  EXPECT_EQ(p.client.ch.codec()->error(), Error::TruncatedStream);
}

TEST(TlsChannel, WrongHostFailsThroughPull) {
  Pair p(test_pki().wrong_host);
  p.client.out.bytes = "secret";
  run(p.client, p.server, whole(), 0, 0);
  EXPECT_EQ(p.client.last, Pull::Failed);
  EXPECT_TRUE(p.client.ch.failed());
  EXPECT_EQ(p.client.ch.codec()->error(), Error::HostnameMismatch)
      << p.client.ch.codec()->reason();
  EXPECT_EQ(p.client.out.taken, 0u);  // nothing was encrypted for it
  EXPECT_EQ(p.server.got, "");
  // The alert went out through output(): the server fails too.
  EXPECT_EQ(p.server.last, Pull::Failed);
}

TEST(TlsChannel, ForUrlPicksPlainOrTls) {
  const TlsConfig config = client_config();
  const struct {
    std::string_view url;
    bool secure;
  } rows[] = {
      {"ws://localhost/feed", false},
      {"http://localhost:8080/", false},
      {"wss://localhost/feed", true},
      {"https://localhost:8443/api", true},
      {"WSS://127.0.0.1:9443/", true},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.url);
    Url url;
    ASSERT_EQ(parse_url(row.url, url), UrlError::kNone);
    absl::StatusOr<Channel> ch = Channel::for_url(url, &config);
    ASSERT_TRUE(ch.ok()) << ch.status();
    EXPECT_EQ(ch->secure(), row.secure);
    if (row.secure) {
      EXPECT_EQ(ch->codec()->role(), Role::Client);
    }
    // The system trust store when no config is given.
    absl::StatusOr<Channel> sys = Channel::for_url(url, nullptr);
    ASSERT_TRUE(sys.ok()) << sys.status();
    EXPECT_EQ(sys->secure(), row.secure);
  }
  // The TLS channel for_url() makes is a working client for the URL's host.
  Url url;
  ASSERT_EQ(parse_url("wss://localhost:9443/", url), UrlError::kNone);
  const TlsConfig scfg = server_config();
  End client(*Channel::for_url(url, &config));
  End server(*Channel::server(scfg));
  client.out.bytes = "hi";
  run(client, server, whole(), 0, 2);
  EXPECT_EQ(server.got, "hi");
  EXPECT_EQ(server.ch.codec()->server_name(), "localhost");

  // A server config cannot make a client.
  EXPECT_FALSE(Channel::client(scfg, "localhost").ok());
  EXPECT_FALSE(Channel::server(config).ok());
}

// The layering the header describes: an http::ClientConnection is the
// Source, its read buffer the plaintext buffer; a server answers with a
// RequestReader and a ResponseWriter.
TEST(TlsChannel, HttpClientConnectionOverTls) {
  const TlsConfig ccfg = client_config();
  const TlsConfig scfg = server_config();
  Channel cch = *Channel::client(ccfg, "localhost");
  Channel sch = *Channel::server(scfg);
  http::ClientConnection conn({.read_buffer_size = 64 << 10, .write_buffer_size = 16 << 10});
  http::ResponseReader response;
  ReadBuf server_in(16 << 10);
  WriteBuf server_out(256 << 10);
  WriteBufSource server_src{server_out};
  http::RequestReader request;
  auto writer = http::ResponseWriter::create({});
  ASSERT_TRUE(writer.ok());

  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    const std::string r = "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_EQ(conn.queue_request({reinterpret_cast<const std::uint8_t*>(r.data()), r.size()}),
              http::QueueError::None);
  }
  std::vector<std::string> bodies;
  auto move = [](Channel& from, auto& src, Channel& to, ReadBuf& to_plain) {
    std::span<const std::uint8_t> out = from.output(src);
    std::span<std::uint8_t> space = to.read_space(to_plain);
    const std::size_t n = std::min({out.size(), space.size(), std::size_t{700}});
    if (n == 0) return std::size_t{0};
    std::memcpy(space.data(), out.data(), n);
    to.received(n, to_plain);
    from.written(src, n);
    return n;
  };
  for (int round = 0; round < 100000 && bodies.size() < kRequests; ++round) {
    // Server: requests in, responses out.
    for (Pull sp = sch.pull(server_in); sp == Pull::Data; sp = sch.pull(server_in)) {
      while (request.next(server_in) == http::Progress::Complete) {
        const std::string body = std::string(request.target()) + " " + random_text(3000, round);
        ASSERT_TRUE(writer->start(server_out, 200).body(body).ok());
      }
    }
    // Client: responses in.
    for (Pull cp = cch.pull(conn.read_buffer()); cp == Pull::Data;
         cp = cch.pull(conn.read_buffer())) {
      while (conn.next(response) == http::Progress::Complete) {
        bodies.emplace_back(response.body().substr(0, response.body().find(' ')));
      }
    }
    move(cch, conn, sch, server_in);
    move(sch, server_src, cch, conn.read_buffer());
  }
  ASSERT_EQ(bodies.size(), static_cast<std::size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(bodies[i], "/" + std::to_string(i));
  EXPECT_TRUE(conn.reusable());
  EXPECT_EQ(conn.in_flight(), 0u);
}

TEST(TlsChannel, MovedChannelKeepsWorking) {
  Pair p;
  p.client.out.bytes = "before";
  run(p.client, p.server, whole(), 0, 6);
  Channel moved = std::move(p.client.ch);
  p.client.ch = std::move(moved);
  p.client.out.bytes += " after";
  run(p.client, p.server, whole(), 0, 12);
  EXPECT_EQ(p.server.got, "before after");
}

// When the transport drains ciphertext in small pieces while the source has
// more to send, output() waits for room for a whole record instead of
// encrypting a record per drained piece (which would multiply the
// overhead: 11x at 1-byte writes).
TEST(TlsChannel, BackedUpTransportStillGetsFullRecords) {
  Pair p;
  run(p.client, p.server, whole(), 0, 0);  // the handshake
  ASSERT_TRUE(p.client.ch.codec()->handshake_done());
  constexpr std::size_t kSize = 64 << 10;
  p.client.out.bytes = random_text(kSize, 11);
  std::size_t wire = 0;
  for (int i = 0; i < 100000 && p.server.got.size() < kSize; ++i) {
    wire += transfer(p.client, p.server, 100);  // a transport taking 100 bytes a write
    p.server.pull_all();
  }
  ASSERT_TRUE(p.server.got == p.client.out.bytes);
  EXPECT_LT(static_cast<double>(wire) / kSize, 1.01)
      << wire << " bytes of ciphertext for " << kSize << " of plaintext";
}

TEST(TlsChannel, PullNamesAreDistinct) {
  const Pull all[] = {Pull::Data, Pull::Input, Pull::Flush, Pull::Closed, Pull::Full, Pull::Failed};
  for (Pull a : all) {
    EXPECT_NE(name(a), "Unknown");
    for (Pull b : all) {
      if (a != b) {
        EXPECT_NE(name(a), name(b));
      }
    }
  }
}

}  // namespace
}  // namespace tern::tls
