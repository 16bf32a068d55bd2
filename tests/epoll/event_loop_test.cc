#include "backends/epoll/event_loop.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

#include "backends/epoll/backend.h"
#include "backends/epoll/task.h"
#include "backends/frame_pool.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::epoll {
namespace {

Task<absl::StatusOr<int>> leaf(int v) { co_return v; }

Task<absl::StatusOr<int>> chain(int depth) {
  if (depth == 0) co_return co_await leaf(1);
  absl::StatusOr<int> below = co_await chain(depth - 1);
  if (!below.ok()) co_return below.status();
  co_return *below + 1;
}

TEST(EventLoop, RunsSpawnedTasksAndReturnsWhenNoneIsLeft) {
  EventLoop loop;
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    loop.spawn([&, i]() -> Task<absl::Status> {
      absl::Status st = co_await loop.sleep_for(absl::Milliseconds(2 * i));
      ++done;
      co_return st;
    });
  }
  const std::uint64_t start = EventLoop::clock_ns();
  loop.run();
  EXPECT_EQ(done, 3);
  EXPECT_GE(EventLoop::clock_ns() - start, 4'000'000u);
  EXPECT_EQ(loop.tasks(), 0u);
}

TEST(EventLoop, LongChainsOfCompletedAwaitsDoNotGrowTheStack) {
  // Two million awaits of tasks that finish at once, in one loop: a resume
  // per completion (or symmetric transfer without a tail call, as GCC emits
  // at -O0 and under ASan) would overflow the stack long before.
  EventLoop loop;
  long sum = 0;
  loop.spawn([&]() -> Task<absl::Status> {
    for (int i = 0; i < 2'000'000; ++i) {
      absl::StatusOr<int> v = co_await leaf(1);
      if (!v.ok()) co_return v.status();
      sum += *v;
    }
    co_return absl::OkStatus();
  });
  loop.run();
  EXPECT_EQ(sum, 2'000'000);
}

TEST(EventLoop, TasksThatSuspendResumeTheirCallerWhenTheyEnd) {
  EventLoop loop;
  std::vector<int> order;
  auto sleeper = [&](int id) -> Task<absl::StatusOr<int>> {
    co_await loop.sleep_for(absl::Milliseconds(1));
    order.push_back(id);
    co_return id;
  };
  loop.spawn([&]() -> Task<absl::Status> {
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<int> v = co_await sleeper(i);
      if (!v.ok() || *v != i) co_return absl::InternalError("wrong value");
    }
    absl::StatusOr<int> nested = co_await chain(1000);
    if (!nested.ok() || *nested != 1001) co_return absl::InternalError("wrong chain");
    co_return absl::OkStatus();
  }, [&](absl::Status st) { EXPECT_TRUE(st.ok()) << st; });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, FailuresOfDetachedTasksAreObservable) {
  EventLoop loop;
  absl::Status seen;
  loop.spawn([]() -> Task<absl::Status> { co_return absl::InternalError("boom"); },
             [&](absl::Status st) { seen = st; });
  loop.spawn([]() -> Task<absl::Status> { co_return absl::DataLossError("lost"); });
  loop.run();
  EXPECT_TRUE(absl::IsInternal(seen)) << seen;
  EXPECT_EQ(loop.failed_tasks(), 1u);
  EXPECT_TRUE(absl::IsDataLoss(loop.last_task_failure()));
}

TEST(EventLoop, PostFromOtherThreadsRunsOnTheLoop) {
  EventLoop loop;
  std::atomic<int> ran{0};
  const std::thread::id loop_thread = std::this_thread::get_id();
  bool all_on_loop = true;
  constexpr int kThreads = 4, kPosts = 500;
  // Keeps run() going until every post has run.
  loop.spawn([&]() -> Task<absl::Status> {
    for (int i = 0; i < 5000 && ran.load() < kThreads * kPosts; ++i) {
      co_await loop.sleep_for(absl::Milliseconds(1));
    }
    co_return absl::OkStatus();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPosts; ++i) {
        loop.post([&] {
          if (std::this_thread::get_id() != loop_thread) all_on_loop = false;
          ran.fetch_add(1);
        });
      }
    });
  }
  loop.run();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ran.load(), kThreads * kPosts);
  EXPECT_TRUE(all_on_loop);
}

TEST(EventLoop, StopCancelsEveryWaiterAndFreesEveryFrame) {
  EventLoop loop;
  constexpr int kTasks = 1000;
  int cancelled = 0, finished = 0;
  for (int i = 0; i < kTasks; ++i) {
    loop.spawn([&]() -> Task<absl::Status> {
      absl::Status st = co_await loop.sleep_for(absl::Hours(1));
      if (absl::IsCancelled(st)) ++cancelled;
      // Awaits made while the loop unwinds are cancelled too.
      absl::Status again = co_await loop.sleep_for(absl::Hours(1));
      EXPECT_TRUE(absl::IsCancelled(again));
      ++finished;
      co_return st;
    });
  }
  loop.spawn([&]() -> Task<absl::Status> {
    co_await loop.sleep_for(absl::Milliseconds(5));
    loop.stop();
    co_return absl::OkStatus();
  });
  loop.run();
  EXPECT_EQ(cancelled, kTasks);
  EXPECT_EQ(finished, kTasks);
  EXPECT_EQ(loop.tasks(), 0u);
}

TEST(EventLoop, StopDestroysTasksThatIgnoreCancellation) {
  EventLoop loop;
  int iterations = 0;
  loop.spawn([&]() -> Task<absl::Status> {
    for (;;) {  // ignores every error
      (void)co_await loop.sleep_for(absl::Hours(1));
      ++iterations;
    }
  });
  loop.spawn([&]() -> Task<absl::Status> {
    co_await loop.yield();
    loop.stop();
    co_return absl::OkStatus();
  });
  loop.run();
  EXPECT_EQ(loop.tasks(), 0u);  // destroyed after the unwinding rounds
  EXPECT_GT(iterations, 0);
  EXPECT_LT(iterations, 1000);
}

TEST(EventLoop, StopFromAnotherThread) {
  EventLoop loop;
  loop.spawn([&]() -> Task<absl::Status> { co_return co_await loop.sleep_for(absl::Hours(1)); });
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.stop();
  });
  loop.run();
  t.join();
  EXPECT_EQ(loop.tasks(), 0u);
}

TEST(EventLoop, RunForReturnsAtItsDeadlineAndKeepsTasks) {
  EventLoop loop;
  int woke = 0;
  loop.spawn([&]() -> Task<absl::Status> {
    co_await loop.sleep_for(absl::Milliseconds(40));
    ++woke;
    co_return absl::OkStatus();
  });
  loop.run_for(absl::Milliseconds(5));
  EXPECT_EQ(woke, 0);
  EXPECT_EQ(loop.tasks(), 1u);
  loop.run();
  EXPECT_EQ(woke, 1);
}

TEST(EventLoop, RunUntilReturnsOnceItsTaskEndsWhileOthersSleep) {
  // The awaited task ends in the round's ready queue; the loop must not go on
  // to wait for the sleeper's timer (an hour away) before returning.
  EventLoop loop;
  loop.spawn([&]() -> Task<absl::Status> {
    co_await loop.sleep_for(absl::Hours(1));
    co_return absl::OkStatus();
  });
  const absl::Time start = absl::Now();
  const absl::Status st = Backend::run(loop, [&]() -> Task<absl::Status> {
    co_await loop.sleep_for(absl::Milliseconds(1));
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));  // liveness, not speed
  EXPECT_EQ(loop.tasks(), 1u);
}

TEST(EventLoop, SteadyStateSpawnsAndAwaitsAllocateNothing) {
  EventLoop loop;
  auto round_of_work = [&] {
    for (int i = 0; i < 100; ++i) {
      loop.spawn([&]() -> Task<absl::Status> {
        absl::StatusOr<int> v = co_await chain(8);
        co_await loop.yield();
        co_return v.status();
      });
    }
    loop.run();
  };
  round_of_work();  // warms the frame pool
  testing::AllocCounter count;
  for (int r = 0; r < 50; ++r) round_of_work();
  EXPECT_EQ(count.allocations(), 0u);
}

}  // namespace
}  // namespace tern::epoll
