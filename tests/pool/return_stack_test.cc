// Tests of the return stack: order and emptiness on one thread, then four
// threads returning slots at once to one acquirer that hands them back,
// every slot coming back exactly once per hand-out with what its holder
// wrote before the push. Run under --config=tsan as well.
#include "backends/pool/return_stack.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::pool {
namespace {

std::vector<std::uint32_t> drain(ReturnStack::Batch batch) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t s = batch.pop(); s != ReturnStack::kEmpty; s = batch.pop()) out.push_back(s);
  return out;
}

TEST(ReturnStackTest, BatchIsOldestPushFirst) {
  ReturnStack stack(8);
  EXPECT_TRUE(stack.looks_empty());
  EXPECT_TRUE(stack.take_all().empty());
  stack.push(3);
  stack.push(1);
  stack.push(7);
  EXPECT_FALSE(stack.looks_empty());
  EXPECT_EQ(drain(stack.take_all()), (std::vector<std::uint32_t>{3, 1, 7}));
  EXPECT_TRUE(stack.looks_empty());
  EXPECT_TRUE(drain(stack.take_all()).empty());
}

TEST(ReturnStackTest, SlotsMayBePushedAgainWhileTheBatchIsWalked) {
  ReturnStack stack(4);
  stack.push(0);
  stack.push(1);
  stack.push(2);
  ReturnStack::Batch batch = stack.take_all();
  EXPECT_EQ(batch.pop(), 0u);
  stack.push(0);  // handed out and returned again before the batch is done
  EXPECT_EQ(batch.pop(), 1u);
  EXPECT_EQ(batch.pop(), 2u);
  EXPECT_EQ(batch.pop(), ReturnStack::kEmpty);
  EXPECT_EQ(drain(stack.take_all()), (std::vector<std::uint32_t>{0}));
}

TEST(ReturnStackTest, PushAndTakeAllocateNothing) {
  ReturnStack stack(16);
  testing::AllocCounter count;
  for (int round = 0; round < 1000; ++round) {
    for (std::uint32_t s = 0; s < 16; ++s) stack.push(s);
    ReturnStack::Batch b = stack.take_all();
    for (std::uint32_t s = 0; s < 16; ++s) ASSERT_EQ(b.pop(), s);
  }
  EXPECT_EQ(count.allocations(), 0u);
}

// Four holder threads return slots while the acquirer (this thread) takes
// them and hands each back to its holder through that holder's own
// ReturnStack (a mailbox with one pusher, the acquirer). Before each push
// the holder writes the slot's next sequence number into plain memory; the
// acquirer checks it, so a slot lost, duplicated or read before its
// holder's write was published shows up as a wrong number (and, under TSan,
// as a race).
TEST(ReturnStackTest, ManyThreadsReturnEverySlotExactlyOnce) {
  constexpr int kThreads = 4;
  constexpr std::uint32_t kSlotsPerThread = 16;
  constexpr std::uint32_t kSlots = kThreads * kSlotsPerThread;
  constexpr int kReturnsPerThread = 20'000;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);

  ReturnStack returns(kSlots);
  std::vector<std::unique_ptr<ReturnStack>> mailbox;
  for (int t = 0; t < kThreads; ++t) mailbox.push_back(std::make_unique<ReturnStack>(kSlots));
  std::array<std::uint64_t, kSlots> written{};  // plain: published by push()
  std::atomic<bool> abort{false};

  std::vector<std::thread> holders;
  for (int t = 0; t < kThreads; ++t) {
    holders.emplace_back([&, t] {
      std::vector<std::uint32_t> held;
      for (std::uint32_t i = 0; i < kSlotsPerThread; ++i) held.push_back(t * kSlotsPerThread + i);
      for (int done = 0; done < kReturnsPerThread && !abort.load(std::memory_order_relaxed);) {
        if (held.empty()) {
          ReturnStack::Batch b = mailbox[t]->take_all();
          for (std::uint32_t s = b.pop(); s != ReturnStack::kEmpty; s = b.pop()) held.push_back(s);
          if (held.empty()) std::this_thread::yield();
          continue;
        }
        const std::uint32_t s = held.back();
        held.pop_back();
        ++written[s];
        returns.push(s);
        ++done;
      }
    });
  }

  std::array<std::uint64_t, kSlots> received{};
  std::uint64_t total = 0;
  bool ok = true;
  while (total < std::uint64_t{kThreads} * kReturnsPerThread) {
    if (absl::Now() > deadline) {
      ADD_FAILURE() << "timed out after " << total << " returns";
      break;
    }
    ReturnStack::Batch b = returns.take_all();
    if (b.empty()) std::this_thread::yield();
    for (std::uint32_t s = b.pop(); s != ReturnStack::kEmpty; s = b.pop()) {
      ++total;
      if (s >= kSlots || written[s] != ++received[s]) {
        ADD_FAILURE() << "slot " << s << " came back out of turn";
        ok = false;
        break;
      }
      mailbox[s / kSlotsPerThread]->push(s);  // hand it back
    }
    if (!ok) break;
  }
  abort = true;
  for (std::thread& h : holders) h.join();
  EXPECT_EQ(total, std::uint64_t{kThreads} * kReturnsPerThread);
  std::uint64_t sum = 0;
  for (std::uint32_t s = 0; s < kSlots; ++s) {
    EXPECT_EQ(received[s], written[s]) << s;
    sum += received[s];
  }
  EXPECT_EQ(sum, total);
  EXPECT_TRUE(returns.looks_empty());
}

}  // namespace
}  // namespace tern::pool
