#include "backends/asio/handler_memory.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::asio::detail {
namespace {

TEST(HandlerMemory, BlocksAreReusedAndOverflowGoesToTheHeap) {
  HandlerMemory memory;
  std::vector<void*> blocks;
  blocks.reserve(HandlerMemory::kBlocks);
  tern::testing::AllocCounter count;
  for (std::size_t i = 0; i < HandlerMemory::kBlocks; ++i) {
    void* p = memory.allocate(HandlerMemory::kBlockSize, alignof(std::max_align_t));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u);
    blocks.push_back(p);
  }
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_EQ(memory.overflows(), 0u);
  // Every block taken: the heap, counted.
  void* extra = memory.allocate(16, 8);
  EXPECT_EQ(memory.overflows(), 1u);
  // Too large for a block: the heap too.
  void* large = memory.allocate(HandlerMemory::kBlockSize + 1, 8);
  EXPECT_EQ(memory.overflows(), 2u);
  memory.deallocate(extra, 16, 8);
  memory.deallocate(large, HandlerMemory::kBlockSize + 1, 8);
  // A freed block is handed out again.
  memory.deallocate(blocks[3], HandlerMemory::kBlockSize, alignof(std::max_align_t));
  EXPECT_EQ(memory.allocate(64, 8), blocks[3]);
  for (void* p : blocks) memory.deallocate(p, HandlerMemory::kBlockSize, alignof(std::max_align_t));
}

TEST(HandlerMemory, AllocatorRebindsAndComparesByMemory) {
  HandlerMemory a, b;
  HandlerAllocator<void> va(&a);
  HandlerAllocator<std::uint64_t> ua(va);
  std::uint64_t* p = ua.allocate(4);
  p[3] = 7;
  ua.deallocate(p, 4);
  EXPECT_TRUE(va == HandlerAllocator<void>(&a));
  EXPECT_TRUE(va != HandlerAllocator<void>(&b));
  EXPECT_EQ(a.overflows(), 0u);
}

// Asio frees an operation's memory on the thread that completes it, which
// may not be the thread allocating the next one (a strand on a pool).
TEST(HandlerMemory, ConcurrentAllocateAndRelease) {
  HandlerMemory memory;
  auto worker = [&memory] {
    for (int i = 0; i < 20000; ++i) {
      void* p = memory.allocate(128, 8);
      static_cast<unsigned char*>(p)[0] = static_cast<unsigned char>(i);
      memory.deallocate(p, 128, 8);
    }
  };
  std::thread t1(worker), t2(worker);
  t1.join();
  t2.join();
  EXPECT_EQ(memory.overflows(), 0u);
}

}  // namespace
}  // namespace tern::asio::detail
