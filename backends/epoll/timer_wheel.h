// File: timer_wheel.h
//
// TimerWheel holds the epoll loop's timers: connect timeouts, read deadlines,
// the close-handshake wait, heartbeats and backoff. It is a hierarchical
// timing wheel (Varghese and Lauck, 1987): 6 levels of 64 slots, each level
// 64x coarser than the one below, so a tick of 1 ms (the default) covers
// 2^36 ms, about 795 days. Deadlines further out are filed at the edge of
// that range and re-filed when it comes round; no timer is ever lost.
//
// Intrusive: the owner embeds a TimerNode (in a connection, a coroutine
// awaiter) and the wheel links it into a slot; the wheel owns no node and
// never allocates. A node cancels itself when destroyed, and the wheel
// disarms the nodes still linked when it is destroyed, so either may go
// first.
//
// Time is the caller's: every call takes nanoseconds of a monotonic clock
// (the loop's `now`) and the wheel never reads a clock. Deadlines are rounded
// up to the tick and `now` down, so a timer fires at the first advance() with
// now >= its deadline rounded up to the tick: never early, at most one tick
// late. The loop sleeps until next_expiry() and calls advance() when it
// wakes:
//
//   tern::epoll::TimerWheel wheel(clock_ns());
//   wheel.schedule(conn.read_deadline, clock_ns() + 30'000'000'000);
//   // on every message: one compare and one store
//   wheel.postpone(conn.read_deadline, now + 30'000'000'000);
//   // in the loop
//   wheel.advance(clock_ns(), [](tern::epoll::TimerNode& n) { ... });
//   std::uint64_t wake_at = wheel.next_expiry();
//
// Precision is why this is not the Linux kernel's design. The kernel
// (kernel/time/timer.c) never cascades: a timer stays in its coarse slot and
// fires up to about 1/8 of its delay late (a 64 ms timer up to 8 ms, a 40 s
// one up to 4 s), and one beyond its last level is fired early, at the
// cut-off; fine for timeouts that are almost always cancelled. Heartbeats
// and connect deadlines must be exact, so, as in tokio, a coarse slot is
// emptied when the clock reaches it and its nodes re-filed into finer
// levels: each node moves at most once per level. Costs:
//
//   schedule, cancel, ~TimerNode       O(1)
//   postpone to a later deadline       O(1): one compare and one store
//   advance with nothing due           O(1): a compare, or O(levels) bit
//                                      operations when the clock jumps
//   advance that fires k timers        O(k + slots emptied + nodes re-filed)
//   next_expiry                        O(levels) bit operations
//
// One thread, no locks: the wheel and its nodes belong to the loop thread.
#ifndef TERN_BACKENDS_EPOLL_TIMER_WHEEL_H_
#define TERN_BACKENDS_EPOLL_TIMER_WHEEL_H_

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>

namespace tern::epoll {

class TimerWheel;

namespace detail {
// A link of a circular doubly linked list. Every list has a sentinel, so a
// node unlinks itself without knowing which list holds it.
struct TimerLink {
  TimerLink* next;
  TimerLink* prev;
};
}  // namespace detail

// TimerNode is one timer, embedded by its owner. Armed (scheduled()) from
// schedule() or postpone() until it fires, is cancelled or is destroyed; in
// one wheel at a time. It can be neither copied nor moved, since the wheel
// holds its address. To reach the owner from the expiry callback, derive
// from TimerNode and static_cast, or embed it and subtract its offset.
class TimerNode : private detail::TimerLink {
 public:
  TimerNode() noexcept : detail::TimerLink{nullptr, nullptr} {}
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;
  // Cancels the timer if it is armed: O(1).
  ~TimerNode();

  bool scheduled() const noexcept { return wheel_ != nullptr; }
  // The deadline last given to schedule() or postpone(), in nanoseconds.
  std::uint64_t deadline() const noexcept { return deadline_ns_; }

 private:
  friend class TimerWheel;

  TimerWheel* wheel_ = nullptr;
  std::uint64_t deadline_ns_ = 0;
  // postpone() to a deadline at or after this only stores the deadline: the
  // slot the node sits in is processed no later than this.
  std::uint64_t lazy_from_ns_ = 0;
  std::uint32_t slot_ = 0;  // index into TimerWheel::slots_, or kDueSlot
};

// TimerWheel: the timers of one event loop. Not copyable or movable (nodes
// point into it).
//
// The expiry callback, on_expire(TimerNode&), runs inside advance() with the
// node already disarmed. It may:
//   - schedule, postpone or cancel any node, including the one firing and
//     nodes due in this same advance (a cancelled one does not fire);
//   - destroy any node, including the one firing.
// A node armed from a callback with a deadline already due fires at the next
// advance(), never in the current one, so a callback that re-arms itself for
// "now" cannot hold the loop. The callback must not call advance() or
// destroy the wheel, and must not throw.
class TimerWheel {
 public:
  static constexpr std::uint64_t kDefaultTickNs = 1'000'000;  // 1 ms
  // next_expiry() when no timer is armed.
  static constexpr std::uint64_t kNever = UINT64_MAX;
  static constexpr int kLevels = 6;
  static constexpr int kSlotBits = 6;
  static constexpr int kSlots = 1 << kSlotBits;  // per level
  // The furthest a node is filed ahead of the current tick; a later deadline
  // is filed there and re-filed when that slot is processed. Just under
  // 2^36 ticks: the top level's 63 slots ahead of the current one.
  static constexpr std::uint64_t kMaxSpanTicks =
      (std::uint64_t{1} << (kSlotBits * kLevels)) -
      (std::uint64_t{1} << (kSlotBits * (kLevels - 1))) - 1;

  // Counts the work advance() did, for tests and tuning: the slots it
  // emptied and the nodes it took out of them (cascades and re-filed
  // postponed nodes included). advance() with nothing due changes neither.
  struct Counters {
    std::uint64_t slots_visited = 0;
    std::uint64_t nodes_visited = 0;
  };

  // `now_ns` is the loop clock at creation; tick_ns (>= 1) is the resolution.
  // Deadlines and times must stay below 2^63 ns.
  explicit TimerWheel(std::uint64_t now_ns,
                      std::uint64_t tick_ns = kDefaultTickNs) noexcept;
  // Disarms every node still armed; the nodes stay valid.
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms `node` to fire at `deadline_ns`, exactly (re-filing it if it was
  // armed). A deadline already due fires at the next advance().
  void schedule(TimerNode& node, std::uint64_t deadline_ns) noexcept {
    assert(node.wheel_ == nullptr || node.wheel_ == this);
    if (node.wheel_ != nullptr) {
      unlink(node);
    } else {
      node.wheel_ = this;
      ++size_;
    }
    node.deadline_ns_ = deadline_ns;
    file(node);
  }

  // Moves an armed node's deadline, the read-deadline push done on every
  // message. A later deadline is one compare and one store: the node stays
  // in its slot and is re-filed, not fired, when that slot comes due (so
  // next_expiry() may be early by it, never late). An earlier deadline, a
  // node already due or a node not armed is schedule().
  void postpone(TimerNode& node, std::uint64_t deadline_ns) noexcept {
    if (node.wheel_ == this && deadline_ns >= node.lazy_from_ns_) {
      node.deadline_ns_ = deadline_ns;
      return;
    }
    schedule(node, deadline_ns);
  }

  // Disarms `node`; nothing if it is not armed.
  void cancel(TimerNode& node) noexcept {
    if (node.wheel_ == nullptr) return;
    assert(node.wheel_ == this);
    unlink(node);
    node.wheel_ = nullptr;
    --size_;
  }

  // Moves the clock to `now_ns` and calls on_expire(TimerNode&) for every
  // timer due by then (see the class comment for what it may do). Timers
  // that came due by the clock fire in deadline order (same tick: any
  // order); ones armed with a deadline already due fire first. Returns the
  // number fired. A `now_ns` earlier than the last one moves nothing.
  template <class OnExpire>
  std::size_t advance(std::uint64_t now_ns, OnExpire&& on_expire);

  // When the loop must next call advance(): never later than the earliest
  // deadline rounded up to the tick. Exact when that timer is in level 0
  // (due before the clock's next multiple of 64 ticks); earlier when a
  // coarse slot must first be re-filed (once per level on a timer's way
  // down) or a postponed node is still filed at its old deadline. now() when
  // something is already due; kNever when nothing is armed. Re-arm the
  // kernel timeout only when this changes.
  std::uint64_t next_expiry() const noexcept {
    if (due_.next != &due_) return elapsed_ns_;
    const Event e = next_event();
    return e.level < 0 ? kNever : e.tick * tick_ns_;
  }

  // The clock as of the last advance(), rounded down to the tick.
  std::uint64_t now() const noexcept { return elapsed_ns_; }
  std::uint64_t tick_ns() const noexcept { return tick_ns_; }
  std::size_t size() const noexcept { return size_; }
  const Counters& counters() const noexcept { return counters_; }

 private:
  static constexpr std::uint32_t kDueSlot = kLevels * kSlots;

  // The next slot to process: the first occupied one after the current
  // position at the lowest occupied level, and the tick its range starts.
  struct Event {
    int level;  // -1: none
    unsigned slot;
    std::uint64_t tick;
  };

  Event next_event() const noexcept {
    for (int level = 0; level < kLevels; ++level) {
      const std::uint64_t bits = occupied_[level];
      if (bits == 0) continue;
      const int shift = level * kSlotBits;
      const std::uint64_t here = elapsed_ >> shift;  // current slot, absolute
      // Occupied slots lie strictly ahead, within one turn of the level.
      const unsigned ahead = static_cast<unsigned>(
          std::countr_zero(std::rotr(bits, static_cast<int>((here + 1) & (kSlots - 1))))) + 1;
      return {level, static_cast<unsigned>((here + ahead) & (kSlots - 1)),
              (here + ahead) << shift};
    }
    return {-1, 0, 0};
  }

  static void link_back(detail::TimerLink& head, detail::TimerLink& link) noexcept {
    link.next = &head;
    link.prev = head.prev;
    head.prev->next = &link;
    head.prev = &link;
  }

  // Moves all of `from` onto the empty list `to`.
  static void splice(detail::TimerLink& from, detail::TimerLink& to) noexcept {
    if (from.next == &from) return;
    to.next = from.next;
    to.prev = from.prev;
    to.next->prev = &to;
    to.prev->next = &to;
    from.next = from.prev = &from;
  }

  void unlink(TimerNode& node) noexcept {
    node.next->prev = node.prev;
    node.prev->next = node.next;
    // Only the sentinel left (its neighbours are one link): slot now empty.
    if (node.slot_ != kDueSlot && node.next == node.prev) {
      occupied_[node.slot_ >> kSlotBits] &= ~(std::uint64_t{1} << (node.slot_ & (kSlots - 1)));
    }
  }

  // Files an armed node by its deadline, relative to the current tick.
  void file(TimerNode& node) noexcept {
    const std::uint64_t deadline = node.deadline_ns_;
    std::uint64_t tick = deadline / tick_ns_ + (deadline % tick_ns_ != 0);
    if (tick <= elapsed_) {
      file_due(node);
      return;
    }
    node.lazy_from_ns_ = deadline;
    if (tick - elapsed_ > kMaxSpanTicks) tick = elapsed_ + kMaxSpanTicks;
    // The level is the 6-bit group of the highest bit in which the tick
    // differs from the current one; beyond the top level the top level's
    // slots are taken round the turn (kMaxSpanTicks keeps it within one).
    const int high_bit = 63 - std::countl_zero((elapsed_ ^ tick) | (kSlots - 1));
    const int level = high_bit / kSlotBits < kLevels ? high_bit / kSlotBits : kLevels - 1;
    const unsigned slot = static_cast<unsigned>(tick >> (level * kSlotBits)) & (kSlots - 1);
    node.slot_ = static_cast<std::uint32_t>(level * kSlots) + slot;
    link_back(slots_[node.slot_], node);
    occupied_[level] |= std::uint64_t{1} << slot;
    const std::uint64_t slot_start = tick >> (level * kSlotBits) << (level * kSlotBits);
    if (slot_start < wake_tick_) wake_tick_ = slot_start;
  }

  // A due node never postpones lazily: postpone() re-files it, so
  // everything on the due list is due and fires.
  void file_due(TimerNode& node) noexcept {
    node.lazy_from_ns_ = kNever;
    node.slot_ = kDueSlot;
    link_back(due_, node);
  }

  // Moves the clock to floor(now_ns / tick), emptying every slot whose range
  // starts on the way and re-filing its nodes (due ones go to due_).
  void advance_clock(std::uint64_t now_ns) noexcept;
  // Out of line, so that advance() with nothing due stays a few
  // instructions at the caller.
  template <class OnExpire>
  [[gnu::noinline]] std::size_t fire_due(OnExpire& on_expire);

  void set_elapsed(std::uint64_t tick) noexcept {
    elapsed_ = tick;
    elapsed_ns_ = tick * tick_ns_;
    next_tick_ns_ = elapsed_ns_ + tick_ns_;
  }

  std::uint64_t tick_ns_;
  std::uint64_t elapsed_;       // current tick: every earlier tick is processed
  std::uint64_t elapsed_ns_;    // elapsed_ * tick_ns_
  std::uint64_t next_tick_ns_;  // (elapsed_ + 1) * tick_ns_: below it, no work
  // No slot needs processing before this tick (the earliest slot start, or
  // earlier after a cancel): advance() short of it only moves the clock.
  std::uint64_t wake_tick_ = kNever;
  std::size_t size_ = 0;
  bool firing_ = false;
  Counters counters_;
  std::uint64_t occupied_[kLevels] = {};  // bit s: slot s of the level is non-empty
  detail::TimerLink due_;                 // due, waiting for advance() to fire them
  detail::TimerLink slots_[kLevels * kSlots];
};

inline TimerNode::~TimerNode() {
  if (wheel_ != nullptr) wheel_->cancel(*this);
}

template <class OnExpire>
std::size_t TimerWheel::advance(std::uint64_t now_ns, OnExpire&& on_expire) {
  assert(!firing_ && "advance() called from an expiry callback");
  if (now_ns >= next_tick_ns_) {
    // One tick on and no slot starts there: the usual wake-up, no division.
    if (now_ns - next_tick_ns_ < tick_ns_ && elapsed_ + 1 < wake_tick_) {
      set_elapsed(elapsed_ + 1);
    } else {
      advance_clock(now_ns);
    }
  }
  if (due_.next == &due_) return 0;
  return fire_due(on_expire);
}

template <class OnExpire>
std::size_t TimerWheel::fire_due(OnExpire& on_expire) {
  // Fire from a private list: what callbacks arm goes to due_ and waits for
  // the next advance(); what they cancel unlinks itself from this one.
  detail::TimerLink firing;
  splice(due_, firing);
  firing_ = true;
  std::size_t fired = 0;
  while (firing.next != &firing) {
    TimerNode& node = static_cast<TimerNode&>(*firing.next);
    firing.next = node.next;
    node.next->prev = &firing;
    assert(node.deadline_ns_ <= elapsed_ns_);
    node.wheel_ = nullptr;
    --size_;
    ++fired;
    on_expire(node);
  }
  firing_ = false;
  return fired;
}

}  // namespace tern::epoll

#endif  // TERN_BACKENDS_EPOLL_TIMER_WHEEL_H_
