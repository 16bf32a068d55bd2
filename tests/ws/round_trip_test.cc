// FrameWriter → FrameReader round trips: random messages from 0 B to 1 MiB,
// both roles, random fragmentation with control frames interleaved between
// fragments, fed to the reader in random pieces. Seeds are printed.
#include <random>
#include <string>
#include <vector>

#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "gtest/gtest.h"
#include "tests/ws/ws_test_util.h"

namespace tern::ws {
namespace {

using testing::Bytes;
using testing::Event;
using testing::message_event;

std::string random_utf8(std::mt19937_64& rng, std::size_t n) {
  static const char* const kChars[] = {"a", "Z", " ", "\xC3\xA9", "\xE2\x82\xAC",
                                       "\xF0\x9F\x98\x80", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"};
  std::string s;
  while (s.size() < n) {
    const char* c = kChars[rng() % 8];
    if (s.size() + std::strlen(c) > n) c = "x";
    s += c;
  }
  return s;
}

std::size_t random_size(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0: return 0;
    case 1: { static const std::size_t k[] = {1, 125, 126, 127, 65535, 65536}; return k[rng() % 6]; }
    case 2: return rng() % 70000;
    case 3: return rng() % 5000;
    default: return rng() % 200;
  }
}

int g_huge_messages = 0;  // 1 MiB messages generated, across seeds

void run_seed(std::uint64_t seed, Role writer_role) {
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  FrameWriter w(writer_role);
  const Role reader_role = writer_role == Role::Client ? Role::Server : Role::Client;
  std::vector<std::uint8_t> wire;
  std::vector<Event> expected;
  std::vector<std::uint8_t> scratch((1u << 20) + 64);
  auto emit = [&](EncodeResult r) {
    ASSERT_TRUE(r.ok()) << name(r.error);
    wire.insert(wire.end(), scratch.begin(), scratch.begin() + r.size);
  };
  auto control = [&](bool allow_close) {
    const std::string p = random_utf8(rng, rng() % 120);
    switch (rng() % (allow_close ? 3 : 2)) {
      case 0: emit(w.ping(scratch, as_bytes(p))); expected.push_back(message_event(Opcode::Ping, p)); break;
      case 1: emit(w.pong(scratch, as_bytes(p))); expected.push_back(message_event(Opcode::Pong, p)); break;
      default: {
        const std::string reason = random_utf8(rng, rng() % 100);
        emit(w.close(scratch, CloseCode::GoingAway, reason));
        expected.push_back(message_event(Opcode::Close, "\x03\xE9" + reason, 1001));
      }
    }
  };
  const int messages = 40;
  for (int m = 0; m < messages; ++m) {
    // Every third seed carries one 1 MiB message, the top of the range.
    const bool huge = seed % 3 == 0 && m == static_cast<int>(seed % messages);
    const std::size_t n = huge ? (1u << 20) : random_size(rng);
    g_huge_messages += huge;
    const bool text = rng() % 2;
    std::string payload;
    if (text) {
      payload = random_utf8(rng, n);
    } else {
      payload.resize(n);
      for (char& c : payload) c = static_cast<char>(rng());
    }
    const Opcode op = text ? Opcode::Text : Opcode::Binary;
    if (rng() % 3 == 0) {
      const int fragments = 2 + rng() % 5;
      std::vector<std::size_t> cuts{0, payload.size()};
      for (int f = 1; f < fragments; ++f) cuts.push_back(payload.empty() ? 0 : rng() % (payload.size() + 1));
      std::sort(cuts.begin(), cuts.end());
      std::vector<Event> controls;
      for (std::size_t f = 0; f + 1 < cuts.size(); ++f) {
        const auto piece = as_bytes(std::string_view(payload).substr(cuts[f], cuts[f + 1] - cuts[f]));
        if (f == 0) emit(w.begin(scratch, op, piece));
        else if (f + 2 == cuts.size()) emit(w.finish(scratch, piece));
        else emit(w.continue_message(scratch, piece));
        if (f + 2 < cuts.size() && rng() % 2) control(true);
      }
    } else {
      emit(text ? w.text(scratch, payload) : w.binary(scratch, as_bytes(payload)));
    }
    expected.push_back(message_event(op, payload));
    if (rng() % 4 == 0) control(true);
  }
  // Random pieces, sometimes tiny, sometimes large.
  std::vector<std::size_t> pieces;
  for (std::size_t left = wire.size(); left > 0;) {
    const std::size_t cap = rng() % 4 == 0 ? 8 : 70000;
    const std::size_t k = std::min<std::size_t>(left, 1 + rng() % cap);
    pieces.push_back(k);
    left -= k;
  }
  bool stuck = false;
  const auto got = testing::feed(reader_role, {}, wire, pieces, (1u << 20) + (64u << 10), &stuck);
  ASSERT_FALSE(stuck);
  for (std::size_t i = 0; i < got.size() && i < expected.size(); ++i) {
    ASSERT_EQ(got[i], expected[i]) << "message " << i;
  }
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << "message " << i;
}

TEST(RoundTripTest, ClientToServer) {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) run_seed(seed, Role::Client);
}

TEST(RoundTripTest, ServerToClient) {
  for (std::uint64_t seed = 101; seed <= 112; ++seed) run_seed(seed, Role::Server);
}

// The seeds above must include the 1 MiB end of the range.
TEST(RoundTripTest, SeedsReachOneMebibyte) {
  g_huge_messages = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) run_seed(seed, Role::Client);
  EXPECT_EQ(g_huge_messages, 4);
}

}  // namespace
}  // namespace tern::ws
