#include "backends/session/outbox.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::session {
namespace {

std::vector<std::string> texts(const Outbox& out) {
  std::vector<std::string> v;
  for (const Outbox::Record& r : out) v.emplace_back(r.text());
  return v;
}

TEST(OutboxTest, KeepsRecordsInOrderWithKindAndAuth) {
  Outbox out(256);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(out.add_text("login", /*auth=*/true));
  const std::uint8_t bin[] = {0, 1, 2, 255};
  ASSERT_TRUE(out.add_binary(bin));
  ASSERT_TRUE(out.add_text(""));
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(out.bytes_used(), 3 * Outbox::kRecordOverhead + 5 + 4);
  auto it = out.begin();
  Outbox::Record r = *it;
  EXPECT_EQ(r.kind, Outbox::Kind::Text);
  EXPECT_TRUE(r.auth);
  EXPECT_EQ(r.text(), "login");
  r = *++it;
  EXPECT_EQ(r.kind, Outbox::Kind::Binary);
  EXPECT_FALSE(r.auth);
  EXPECT_EQ(std::vector<std::uint8_t>(r.bytes.begin(), r.bytes.end()), std::vector<std::uint8_t>({0, 1, 2, 255}));
  r = *it++;
  EXPECT_EQ(r.kind, Outbox::Kind::Binary);
  EXPECT_TRUE((*it).bytes.empty());
  EXPECT_EQ(++it, out.end());
}

TEST(OutboxTest, AuthPrefixCountsLeadingAuthRecordsOnly) {
  Outbox out(256);
  ASSERT_TRUE(out.add_text("a1", true));
  ASSERT_TRUE(out.add_text("a2", true));
  ASSERT_TRUE(out.add_text("sub"));
  ASSERT_TRUE(out.add_text("late auth", true));
  EXPECT_EQ(out.auth_prefix(), 2u);
}

TEST(OutboxTest, RefusesWhatDoesNotFitAndNeverGrows) {
  Outbox out(Outbox::kRecordOverhead + 5);
  EXPECT_FALSE(out.add_text("toolong"));
  EXPECT_TRUE(out.overflowed());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.bytes_used(), 0u);
  ASSERT_TRUE(out.add_text("hello"));  // exactly full
  EXPECT_EQ(out.bytes_used(), out.capacity());
  EXPECT_FALSE(out.add_text(""));  // not even a header
  EXPECT_EQ(texts(out), std::vector<std::string>({"hello"}));
  EXPECT_TRUE(out.spare().empty());
  EXPECT_EQ(out.capacity(), Outbox::kRecordOverhead + 5);
}

TEST(OutboxTest, EncodesInPlace) {
  Outbox out(64);
  std::span<std::uint8_t> room = out.spare();
  ASSERT_EQ(room.size(), 64 - Outbox::kRecordOverhead);
  const int n = std::snprintf(reinterpret_cast<char*>(room.data()), room.size(),
                              R"({"op":"subscribe","args":["%s"]})", "BTC");
  ASSERT_GT(n, 0);
  ASSERT_TRUE(out.commit(Outbox::Kind::Text, static_cast<std::size_t>(n)));
  EXPECT_EQ(texts(out), std::vector<std::string>({R"({"op":"subscribe","args":["BTC"]})"}));
  EXPECT_FALSE(out.overflowed());
  // Claiming more than spare() offers is refused like an add.
  EXPECT_FALSE(out.commit(Outbox::Kind::Binary, out.spare().size() + 1));
  EXPECT_TRUE(out.overflowed());
  EXPECT_EQ(out.size(), 1u);
}

TEST(OutboxTest, ClearKeepsTheArena) {
  Outbox out(32);
  ASSERT_TRUE(out.add_text("x", true));
  EXPECT_FALSE(out.add_text(std::string(40, 'y')));
  out.clear();
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(out.overflowed());
  EXPECT_EQ(out.auth_prefix(), 0u);
  EXPECT_EQ(out.begin(), out.end());
  EXPECT_EQ(out.capacity(), 32u);
  ASSERT_TRUE(out.add_text("again"));
  EXPECT_EQ(texts(out), std::vector<std::string>({"again"}));
}

// A driver pacing a replay keeps one iterator as "next to send".
TEST(OutboxTest, AnIteratorAtEndReachesLaterRecords) {
  Outbox out(128);
  ASSERT_TRUE(out.add_text("one"));
  auto next = out.begin();
  ++next;
  EXPECT_EQ(next, out.end());
  ASSERT_TRUE(out.add_text("two"));
  ASSERT_NE(next, out.end());
  EXPECT_EQ((*next).text(), "two");
}

TEST(OutboxTest, ZeroCapacityAndMove) {
  Outbox none(0);
  EXPECT_FALSE(none.add_text(""));
  EXPECT_EQ(none.begin(), none.end());
  Outbox a(64);
  ASSERT_TRUE(a.add_text("kept"));
  Outbox b = std::move(a);
  EXPECT_EQ(texts(b), std::vector<std::string>({"kept"}));
  EXPECT_EQ(b.capacity(), 64u);
  EXPECT_EQ(a.capacity(), 0u);  // NOLINT: moved-from is empty by contract here
  EXPECT_FALSE(a.add_text(""));
}

TEST(OutboxTest, AddingAndIteratingAllocateNothing) {
  Outbox out(1 << 12);
  const std::uint8_t bin[16] = {};
  tern::testing::AllocCounter count;
  std::size_t seen = 0;
  for (int round = 0; round < 1000; ++round) {
    out.clear();
    while (out.add_text(R"({"op":"subscribe","args":["trades.BTCUSDT"]})") && out.add_binary(bin)) {
    }
    for (const Outbox::Record& r : out) seen += r.bytes.size();
  }
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_GT(seen, 0u);
}

}  // namespace
}  // namespace tern::session
