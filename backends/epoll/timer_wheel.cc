#include "backends/epoll/timer_wheel.h"

namespace tern::epoll {

TimerWheel::TimerWheel(std::uint64_t now_ns, std::uint64_t tick_ns) noexcept
    : tick_ns_(tick_ns) {
  assert(tick_ns >= 1);
  due_.next = due_.prev = &due_;
  for (detail::TimerLink& head : slots_) head.next = head.prev = &head;
  set_elapsed(now_ns / tick_ns_);
}

TimerWheel::~TimerWheel() {
  auto disarm_all = [](detail::TimerLink& head) {
    for (detail::TimerLink* link = head.next; link != &head; link = link->next) {
      static_cast<TimerNode*>(link)->wheel_ = nullptr;
    }
  };
  disarm_all(due_);
  for (int level = 0; level < kLevels; ++level) {
    for (std::uint64_t bits = occupied_[level]; bits != 0; bits &= bits - 1) {
      disarm_all(slots_[level * kSlots + std::countr_zero(bits)]);
    }
  }
}

void TimerWheel::advance_clock(std::uint64_t now_ns) noexcept {
  const std::uint64_t target =
      now_ns - next_tick_ns_ < tick_ns_ ? elapsed_ + 1 : now_ns / tick_ns_;
  if (target < wake_tick_) {
    set_elapsed(target);
    return;
  }
  // Slots are processed in the order their ranges start, so the clock never
  // passes a slot that still holds nodes.
  Event e = next_event();
  for (; e.level >= 0 && e.tick <= target; e = next_event()) {
    set_elapsed(e.tick);
    detail::TimerLink& head = slots_[e.level * kSlots + e.slot];
    occupied_[e.level] &= ~(std::uint64_t{1} << e.slot);
    detail::TimerLink list{&list, &list};
    splice(head, list);
    ++counters_.slots_visited;
    // file() never returns a node to this slot: relative to its first tick,
    // each node is due, in a finer level, or (postponed) further on.
    for (detail::TimerLink* link = list.next; link != &list;) {
      detail::TimerLink* next = link->next;
      TimerNode& node = *static_cast<TimerNode*>(link);
      ++counters_.nodes_visited;
      if (node.deadline_ns_ <= elapsed_ns_) {
        file_due(node);
      } else {
        file(node);
      }
      link = next;
    }
  }
  set_elapsed(target);
  wake_tick_ = e.level < 0 ? kNever : e.tick;  // still the first: none before target
}

}  // namespace tern::epoll
