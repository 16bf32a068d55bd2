#include <array>
#include <cstdint>
#include <cstring>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern {
namespace {

std::span<const std::uint8_t> bytes(const char* s) {
  return {reinterpret_cast<const std::uint8_t*>(s), std::strlen(s)};
}

TEST(ReadBuf, CommitConsumeAndDrainReset) {
  ReadBuf buf(8);
  EXPECT_EQ(buf.spare().size(), 8u);
  std::memcpy(buf.spare().data(), "abcde", 5);
  ASSERT_TRUE(buf.commit(5));
  EXPECT_EQ(buf.size(), 5u);
  EXPECT_EQ(buf.spare().size(), 3u);
  buf.consume(2);
  EXPECT_EQ(std::string(buf.data().begin(), buf.data().end()), "cde");
  EXPECT_EQ(buf.consumed_front(), 2u);
  buf.consume(100);  // clamped
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(buf.spare().size(), 8u) << "drained buffer rewinds";
}

TEST(ReadBuf, OverflowIsRejectedNotGrown) {
  ReadBuf buf(4);
  EXPECT_FALSE(buf.commit(5));
  EXPECT_EQ(buf.size(), 0u);
  ASSERT_TRUE(buf.commit(4));
  EXPECT_TRUE(buf.spare().empty());
  EXPECT_FALSE(buf.commit(1));
  EXPECT_EQ(buf.capacity(), 4u);
}

TEST(ReadBuf, CompactMovesUnreadToFront) {
  ReadBuf buf(6);
  std::memcpy(buf.spare().data(), "xyzabc", 6);
  ASSERT_TRUE(buf.commit(6));
  buf.consume(3);
  EXPECT_TRUE(buf.spare().empty());
  buf.compact();
  EXPECT_EQ(buf.spare().size(), 3u);
  EXPECT_EQ(std::string(buf.data().begin(), buf.data().end()), "abc");
}

TEST(ReadBuf, PaddingIsReadableAroundData) {
  ReadBuf buf(16);
  // The kernels may load kPadding bytes on either side; ASan would flag this
  // if the padding were not part of the allocation.
  const std::uint8_t* p = buf.data().data();
  // Every load is kept: the sum is read through a volatile.
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i < ReadBuf::kPadding; ++i) sum = static_cast<std::uint8_t>(sum + p[-1 - static_cast<long>(i)]);
  for (std::size_t i = 16; i < 16 + ReadBuf::kPadding; ++i) sum = static_cast<std::uint8_t>(sum + p[i]);
  const volatile std::uint8_t kept = sum;
  EXPECT_EQ(kept, 0);
}

TEST(WriteBuf, PrependHeaderInFrontOfPayload) {
  WriteBuf out(16, 4);
  ASSERT_TRUE(out.append(bytes("payload")));
  ASSERT_TRUE(out.prepend(bytes("HD")));
  EXPECT_EQ(std::string(out.data().begin(), out.data().end()), "HDpayload");
  EXPECT_EQ(out.headroom(), 2u);
  EXPECT_FALSE(out.prepend(bytes("abc"))) << "only 2 bytes of headroom left";
  EXPECT_EQ(out.size(), 9u);
}

TEST(WriteBuf, OverflowIsRejectedAndChangesNothing) {
  WriteBuf out(4, 2);
  EXPECT_FALSE(out.append(bytes("12345")));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(out.append(bytes("1234")));
  EXPECT_FALSE(out.append(bytes("5")));
  EXPECT_FALSE(out.commit(1));
  EXPECT_EQ(out.size(), 4u);
}

TEST(WriteBuf, PartialSendThenClearRestoresHeadroom) {
  WriteBuf out(8, 3);
  ASSERT_TRUE(out.append(bytes("abcdef")));
  out.consume(4);
  EXPECT_EQ(std::string(out.data().begin(), out.data().end()), "ef");
  out.consume(2);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.headroom(), 3u);
  ASSERT_TRUE(out.append(bytes("xy")));
  out.truncate(1);
  EXPECT_EQ(out.size(), 1u);
}

TEST(Buffers, NoAllocationAfterConstruction) {
  ReadBuf in(1024);
  WriteBuf out(1024);
  testing::AllocCounter count;
  for (int i = 0; i < 100000; ++i) {
    std::memset(in.spare().data(), 'a', 100);
    ASSERT_TRUE(in.commit(100));
    in.consume(60);
    if (in.spare().size() < 100) in.compact();
    ASSERT_TRUE(out.append(in.data().subspan(0, 40)));
    ASSERT_TRUE(out.prepend(bytes("h")));
    out.consume(out.size());
    in.consume(in.size());
  }
  EXPECT_EQ(count.allocations(), 0u);
}

}  // namespace
}  // namespace tern
