// The wss:// shape end to end, in memory: FrameWriter -> TlsCodec (client)
// -> ciphertext -> TlsCodec (server) -> FrameReader, and back. Messages of
// seeded random sizes and opcodes must arrive byte-identical, whatever the
// ciphertext piece sizes.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/tls/tls_codec.h"
#include "core/tls/tls_config.h"
#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "gtest/gtest.h"
#include "tests/tls/pump.h"
#include "tests/tls/test_pki.h"

namespace tern::tls {
namespace {

struct Sent {
  ws::Opcode opcode;
  std::vector<std::uint8_t> payload;
};

// One direction of a WebSocket-over-TLS connection.
class Direction {
 public:
  Direction(TlsCodec& from, TlsCodec& to, ws::Role writer_role)
      : from_(from),
        to_(to),
        writer_(writer_role),
        reader_(writer_role == ws::Role::Client ? ws::Role::Server
                                                : ws::Role::Client),
        out_(80 * 1024),
        in_(80 * 1024) {}

  // Encodes one message and pushes it through TLS; true when accepted whole.
  bool send(const Sent& m) {
    out_.clear();
    ws::EncodeResult r =
        m.opcode == ws::Opcode::Text
            ? writer_.text(out_, std::string_view(
                                     reinterpret_cast<const char*>(m.payload.data()),
                                     m.payload.size()))
            : writer_.binary(out_, m.payload);
    if (!r.ok()) return false;
    pending_ = out_.data();
    return true;
  }

  // Moves plaintext in, one ciphertext piece across, and parses what
  // arrived. Returns false on any failure.
  bool step(testing::Pump& pump) {
    if (!pending_.empty()) {
      std::size_t n = from_.write_plaintext(pending_);
      pending_ = pending_.subspan(n);
    }
    pump.transfer_once(from_, to_);
    for (;;) {
      Progress p = to_.read_plaintext(in_);
      if (p == Progress::Failed) return false;
      for (;;) {
        ws::ReadResult r = reader_.next(in_);
        if (r.status == ws::ReadStatus::Error) return false;
        if (r.status == ws::ReadStatus::NeedMore) break;
        got_.push_back({r.message.opcode,
                        {r.message.payload.begin(), r.message.payload.end()}});
      }
      if (p != Progress::OutputFull) return true;
    }
  }

  bool idle() { return pending_.empty() && from_.pending_ciphertext().empty(); }
  const std::vector<Sent>& got() const { return got_; }

 private:
  TlsCodec& from_;
  TlsCodec& to_;
  ws::FrameWriter writer_;
  ws::FrameReader reader_;
  WriteBuf out_;
  ReadBuf in_;
  std::span<const std::uint8_t> pending_;
  std::vector<Sent> got_;
};

std::vector<Sent> random_messages(std::uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  const std::size_t sizes[] = {0, 1, 77, 125, 126, 127, 65535, 65536};
  std::vector<Sent> out;
  for (int i = 0; i < count; ++i) {
    std::size_t size = rng() % 3 == 0 ? sizes[rng() % 8] : rng() % 3000;
    Sent m;
    m.opcode = rng() % 2 ? ws::Opcode::Text : ws::Opcode::Binary;
    m.payload.resize(size);
    // ASCII keeps Text valid UTF-8 (RFC 6455 §8.1).
    for (auto& b : m.payload) {
      b = static_cast<std::uint8_t>(m.opcode == ws::Opcode::Text
                                        ? 0x20 + rng() % 0x5f
                                        : rng());
    }
    out.push_back(std::move(m));
  }
  return out;
}

void run(testing::SplitFn split, std::uint64_t seed, int count) {
  const auto& pki = testing::test_pki();
  absl::StatusOr<TlsConfig> cc = TlsConfig::client()
                                     .use_system_trust_store(false)
                                     .add_ca_pem(pki.ca.cert_pem)
                                     .alpn({"http/1.1"})
                                     .build();
  absl::StatusOr<TlsConfig> sc = TlsConfig::server()
                                     .certificate_chain_pem(pki.good.cert_pem)
                                     .private_key_pem(pki.good.key_pem)
                                     .alpn({"http/1.1"})
                                     .build();
  ASSERT_TRUE(cc.ok() && sc.ok());
  absl::StatusOr<TlsCodec> c = TlsCodec::client(*cc, "localhost");
  absl::StatusOr<TlsCodec> s = TlsCodec::server(*sc);
  ASSERT_TRUE(c.ok() && s.ok());
  testing::Pump pump(*c, *s, std::move(split));
  ASSERT_EQ(pump.handshake().client, Progress::Done);

  std::vector<Sent> up = random_messages(seed, count);
  std::vector<Sent> down = random_messages(seed + 1000, count);
  Direction c2s(*c, *s, ws::Role::Client);  // masked (RFC 6455 §5.3)
  Direction s2c(*s, *c, ws::Role::Server);
  std::size_t next_up = 0, next_down = 0;
  for (int rounds = 0; rounds < 50'000'000; ++rounds) {
    if (c2s.idle() && next_up < up.size()) {
      ASSERT_TRUE(c2s.send(up[next_up++]));
    }
    if (s2c.idle() && next_down < down.size()) {
      ASSERT_TRUE(s2c.send(down[next_down++]));
    }
    ASSERT_TRUE(c2s.step(pump)) << "seed=" << seed << " " << s->reason();
    ASSERT_TRUE(s2c.step(pump)) << "seed=" << seed << " " << c->reason();
    if (c2s.got().size() == up.size() && s2c.got().size() == down.size()) {
      break;
    }
  }
  ASSERT_EQ(c2s.got().size(), up.size()) << "seed=" << seed;
  ASSERT_EQ(s2c.got().size(), down.size()) << "seed=" << seed;
  for (std::size_t i = 0; i < up.size(); ++i) {
    EXPECT_EQ(c2s.got()[i].opcode, up[i].opcode) << "seed=" << seed << " #" << i;
    EXPECT_TRUE(c2s.got()[i].payload == up[i].payload)
        << "seed=" << seed << " #" << i;
    EXPECT_TRUE(s2c.got()[i].payload == down[i].payload)
        << "seed=" << seed << " #" << i;
  }
}

TEST(WssRoundTrip, WholeCiphertext) { run(testing::whole(), 1, 200); }

TEST(WssRoundTrip, RandomCiphertextPieces) {
  for (std::uint64_t seed = 2; seed < 5; ++seed) {
    run(testing::random_pieces(seed, 1500), seed, 60);
  }
}

TEST(WssRoundTrip, BytewiseCiphertext) { run(testing::bytewise(), 9, 6); }

}  // namespace
}  // namespace tern::tls
