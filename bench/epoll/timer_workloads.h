// File: timer_workloads.h
//
// The timer work that timer_bench times and timer_instr counts, run on two
// implementations behind one interface:
//
//   WheelTimers: tern::epoll::TimerWheel, 1 ms tick.
//   HeapTimers:  a binary heap (std::priority_queue) of {deadline, id,
//                generation}, the usual choice (Asio keeps a heap). Cancel is
//                lazy deletion: the node's generation moves on and its stale
//                entry is dropped when it reaches the top, or by a compaction
//                when stale entries outnumber live ones (paid inside
//                schedule). Postpone is cancel + push: a heap entry cannot
//                move later in place.
//
// Each workload has N timers armed in the background (the population) and
// a batch of kBatch operations: prepare() sets the batch up untimed, timed()
// does the measured part and returns the operations it did.
#ifndef TERN_BENCH_EPOLL_TIMER_WORKLOADS_H_
#define TERN_BENCH_EPOLL_TIMER_WORKLOADS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <vector>

#include "backends/epoll/timer_wheel.h"

namespace tern::epoll::bench {

constexpr std::uint64_t kUs = 1'000;
constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSecond = 1'000 * kMs;
constexpr std::uint64_t kDay = 86'400 * kSecond;
constexpr std::size_t kBatch = 1024;

class WheelTimers {
 public:
  static constexpr const char* kName = "wheel";
  explicit WheelTimers(std::size_t nodes) : wheel_(0), nodes_(new TimerNode[nodes]) {}

  void schedule(std::size_t i, std::uint64_t deadline) { wheel_.schedule(nodes_[i], deadline); }
  void cancel(std::size_t i) { wheel_.cancel(nodes_[i]); }
  void postpone(std::size_t i, std::uint64_t deadline) { wheel_.postpone(nodes_[i], deadline); }
  std::size_t advance(std::uint64_t now) {
    return wheel_.advance(now, [this](TimerNode&) { ++fired_; });
  }
  std::uint64_t fired() const { return fired_; }

 private:
  TimerWheel wheel_;
  std::unique_ptr<TimerNode[]> nodes_;
  std::uint64_t fired_ = 0;
};

class HeapTimers {
 public:
  static constexpr const char* kName = "heap";
  explicit HeapTimers(std::size_t nodes) : generation_(nodes, 0), armed_(nodes, 0) {
    queue_.reserve(2 * nodes + 2 * kBatch + 1);
  }

  void schedule(std::size_t i, std::uint64_t deadline) {
    if (armed_[i]) --live_;
    armed_[i] = 1;
    ++live_;
    queue_.push({deadline, static_cast<std::uint32_t>(i), ++generation_[i]});
    if (queue_.size() > 2 * live_ + kBatch) compact();
  }
  void cancel(std::size_t i) {
    if (!armed_[i]) return;
    armed_[i] = 0;
    ++generation_[i];
    --live_;
  }
  void postpone(std::size_t i, std::uint64_t deadline) { schedule(i, deadline); }
  std::size_t advance(std::uint64_t now) {
    std::size_t fired = 0;
    while (!queue_.empty() && queue_.top().deadline <= now) {
      const Entry e = queue_.top();
      queue_.pop();
      if (armed_[e.id] && generation_[e.id] == e.generation) {
        armed_[e.id] = 0;
        --live_;
        ++fired;
      }
    }
    fired_ += fired;
    return fired;
  }
  std::uint64_t fired() const { return fired_; }

 private:
  struct Entry {
    std::uint64_t deadline;
    std::uint32_t id;
    std::uint32_t generation;
    bool operator>(const Entry& other) const { return deadline > other.deadline; }
  };
  // std::priority_queue with its container reachable, for reserve and
  // compaction.
  struct Queue : std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> {
    void reserve(std::size_t n) { c.reserve(n); }
    template <class Stale>
    void erase_if(Stale stale) {
      c.erase(std::remove_if(c.begin(), c.end(), stale), c.end());
      std::make_heap(c.begin(), c.end(), comp);
    }
  };
  void compact() {
    queue_.erase_if([this](const Entry& e) {
      return !armed_[e.id] || generation_[e.id] != e.generation;
    });
  }

  Queue queue_;
  std::vector<std::uint32_t> generation_;
  std::vector<char> armed_;
  std::size_t live_ = 0;
  std::uint64_t fired_ = 0;
};

// Deadlines drawn once, so the generator stays out of the timed part.
inline std::vector<std::uint64_t> random_offsets(std::size_t n, std::uint64_t low,
                                                 std::uint64_t high, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> v(n);
  for (std::uint64_t& x : v) x = low + rng() % (high - low);
  return v;
}

// Population ids are [0, n); batch ids [n, n + kBatch).
template <class Timers>
class Workload {
 protected:
  Workload(std::size_t population, std::uint64_t low, std::uint64_t high)
      : n_(population), timers_(population + kBatch) {
    const auto offsets = random_offsets(population, low, high, 1);
    for (std::size_t i = 0; i < population; ++i) timers_.schedule(i, offsets[i]);
  }
  std::size_t n_;
  Timers timers_;
  std::uint64_t now_ = 0;
};

// Arming kBatch timers 1 ms to 60 s ahead (cancelled again untimed).
template <class Timers>
class Insert : Workload<Timers> {
 public:
  static constexpr const char* kName = "insert";
  explicit Insert(std::size_t n)
      : Workload<Timers>(n, kSecond, 60 * kSecond), deadlines_(random_offsets(kBatch, kMs, 60 * kSecond, 2)) {}
  void prepare() {
    for (std::size_t j = 0; j < kBatch; ++j) this->timers_.cancel(this->n_ + j);
  }
  std::size_t timed() {
    for (std::size_t j = 0; j < kBatch; ++j) this->timers_.schedule(this->n_ + j, deadlines_[j]);
    return kBatch;
  }

 private:
  std::vector<std::uint64_t> deadlines_;
};

// Cancelling kBatch armed timers (armed untimed).
template <class Timers>
class Cancel : Workload<Timers> {
 public:
  static constexpr const char* kName = "cancel";
  explicit Cancel(std::size_t n)
      : Workload<Timers>(n, kSecond, 60 * kSecond), deadlines_(random_offsets(kBatch, kMs, 60 * kSecond, 2)) {}
  void prepare() {
    for (std::size_t j = 0; j < kBatch; ++j) this->timers_.schedule(this->n_ + j, deadlines_[j]);
  }
  std::size_t timed() {
    for (std::size_t j = 0; j < kBatch; ++j) this->timers_.cancel(this->n_ + j);
    return kBatch;
  }

 private:
  std::vector<std::uint64_t> deadlines_;
};

// The read-deadline push: a message every 1 us, round-robin over the N
// connections, each pushing its deadline to now + 30 s. `with_advance`: the
// loop's advance() every kBatch messages is timed too, so the re-filing the
// pushes cause is paid; otherwise it runs untimed in prepare().
template <class Timers, bool with_advance>
class Postpone : Workload<Timers> {
 public:
  static constexpr const char* kName = with_advance ? "read_deadline" : "postpone";
  explicit Postpone(std::size_t n) : Workload<Timers>(n, 29 * kSecond, 30 * kSecond) {}
  void prepare() {
    if (!with_advance) this->timers_.advance(this->now_);
  }
  std::size_t timed() {
    for (std::size_t j = 0; j < kBatch; ++j) {
      this->now_ += kUs;
      this->timers_.postpone(next_, this->now_ + 30 * kSecond);
      if (++next_ == this->n_) next_ = 0;
    }
    if (with_advance) this->timers_.advance(this->now_);
    return kBatch;
  }

 private:
  std::size_t next_ = 0;
};

// Expiry: kBatch timers due within the next 1024 ms, the loop advancing 1 ms
// at a time; operations are the timers fired. The population is 30 to 60
// days out and never fires.
template <class Timers>
class Expire : Workload<Timers> {
 public:
  static constexpr const char* kName = "expire";
  explicit Expire(std::size_t n)
      : Workload<Timers>(n, 30 * kDay, 60 * kDay), offsets_(random_offsets(kBatch, 1, 1024 * kMs, 3)) {}
  void prepare() {
    for (std::size_t j = 0; j < kBatch; ++j) this->timers_.schedule(this->n_ + j, this->now_ + offsets_[j]);
  }
  std::size_t timed() {
    std::size_t fired = 0;
    for (int ms = 0; ms < 1024; ++ms) {
      this->now_ += kMs;
      fired += this->timers_.advance(this->now_);
    }
    return fired;
  }

 private:
  std::vector<std::uint64_t> offsets_;
};

// advance() with nothing due, the clock moving `step` per call. The
// population is 30 to 60 days out: for the wheel that is its top level, the
// most levels to look through.
template <class Timers, std::uint64_t step>
class AdvanceIdle : Workload<Timers> {
 public:
  static constexpr const char* kName = step == kMs ? "idle_advance_1ms" : "idle_advance_1us";
  explicit AdvanceIdle(std::size_t n) : Workload<Timers>(n, 30 * kDay, 60 * kDay) {}
  void prepare() {}
  std::size_t timed() {
    std::size_t fired = 0;
    for (std::size_t j = 0; j < kBatch; ++j) {
      this->now_ += step;
      fired += this->timers_.advance(this->now_);
    }
    return fired == 0 ? kBatch : 0;  // 0: something fired, the run is void
  }
};

}  // namespace tern::epoll::bench

#endif  // TERN_BENCH_EPOLL_TIMER_WORKLOADS_H_
