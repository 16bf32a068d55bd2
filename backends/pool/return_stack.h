// File: return_stack.h
//
// ReturnStack is AtomicClientPool's way back: slots handed out by its one
// acquirer thread are returned from any thread, without a lock, and the
// acquirer collects them all at once before it next consults the pool's
// policy. It is a Treiber stack of slot indices, intrusive: the links are an
// array with one entry (one cache line) per slot, allocated at
// construction with the acquirer's batch array, so push and take_all never
// allocate.
//
//   tern::pool::ReturnStack returns(n);
//   returns.push(slot);                     // any thread, the slot's holder
//   auto batch = returns.take_all();        // the acquirer
//   for (auto s = batch.pop(); s != ReturnStack::kEmpty; s = batch.pop()) {
//     policy.release(s, stamped_release_time[s], stamped_outcome[s]);
//   }
//
// push() is a release operation: what the holder wrote before it (the
// slot's outcome, its release time, its buffers) is visible to the acquirer
// once take_all() has returned the slot. A batch yields slots oldest push
// first, so applying them in order leaves the most recently returned slot
// on top of the policy's LIFO stack.
//
// Why there is no ABA. The classic Treiber failure is in pop(): read head A
// and A's link B, be preempted while A is popped, B popped and A pushed
// again, then CAS the head from A to the stale B. Here nobody removes one
// node. The consumer takes the whole list with one exchange and never
// compares a head it read earlier; a pusher's CAS succeeds only if the head
// still equals the value h it linked its own slot to, and since a pusher
// never reads h's link, a head that went from h to something else and back
// to h is still a correct successor. What would break the stack is a slot
// linked twice; that cannot happen because a slot is pushed only by its
// current holder, once per hand-out, and the acquirer hands it out again
// only after take_all() has removed it. The links are plain memory for the
// same reason: a slot's link is written only by its holder, before its
// push, and read only by the acquirer, after the take that removed it.
//
// Progress: push() is lock-free (a CAS that fails means another push or the
// take succeeded); take_all() is wait-free (one exchange, skipped when the
// stack looks empty, then a walk of the k slots it took).
#ifndef TERN_BACKENDS_POOL_RETURN_STACK_H_
#define TERN_BACKENDS_POOL_RETURN_STACK_H_

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tern::pool {

class ReturnStack {
 public:
  // No slot; also the end of a batch.
  static constexpr std::uint32_t kEmpty = UINT32_MAX;

  // The slots returned by one take_all(), oldest push first. It reads the
  // acquirer's own copy of the list, so the slots in it may be handed out
  // and pushed again while it is walked; it is valid until the next
  // take_all().
  class Batch {
   public:
    bool empty() const noexcept { return left_ == 0; }
    std::size_t size() const noexcept { return left_; }
    // The next slot, or kEmpty when the batch is used up.
    std::uint32_t pop() noexcept { return left_ == 0 ? kEmpty : newest_first_[--left_]; }

   private:
    friend class ReturnStack;
    Batch(const std::uint32_t* newest_first, std::size_t size) noexcept
        : newest_first_(newest_first), left_(size) {}
    const std::uint32_t* newest_first_;
    std::size_t left_;
  };

  // Slots 0..slots-1 (slots < kEmpty). Allocates the links.
  explicit ReturnStack(std::size_t slots)
      : links_(new Link[slots]), taken_(new std::uint32_t[slots]), size_(slots) {
    assert(slots < kEmpty);
  }
  ReturnStack(const ReturnStack&) = delete;
  ReturnStack& operator=(const ReturnStack&) = delete;

  std::size_t size() const noexcept { return size_; }

  // Any thread; only the slot's current holder, once per hand-out.
  void push(std::uint32_t slot) noexcept {
    assert(slot < size_);
    // Guess "empty" instead of loading the head first: the acquirer
    // empties the stack often, and when the head's cache line is on
    // another core, a load would fetch it shared and the CAS fetch it again
    // for writing; a CAS fetches it once. A wrong guess costs a retry on a
    // line that is now local.
    std::uint32_t head = kEmpty;
    do {
      links_[slot].next = head;
      // Release on success publishes the link and everything the holder
      // wrote before returning the slot. A failed CAS publishes nothing and
      // only needs the current head to retry (relaxed).
    } while (!head_.compare_exchange_weak(head, slot, std::memory_order_release, std::memory_order_relaxed));
  }

  // The acquirer only: removes every returned slot at once. Invalidates the
  // previous Batch.
  Batch take_all() noexcept {
    // A plain load first: when nothing came back (the usual case on the
    // hot path) this skips the locked exchange. A stale "empty" only
    // delays those slots to the next call.
    if (head_.load(std::memory_order_relaxed) == kEmpty) return Batch(taken_.get(), 0);
    // Acquire pairs with each push's release CAS: pushes are a chain of
    // read-modify-writes on head_, so they are all in the release sequence
    // the exchange reads from, and every link and every write a holder made
    // before its push is visible below.
    std::uint32_t head = head_.exchange(kEmpty, std::memory_order_acquire);
    // Copied out (newest first) rather than reversed in place: the links
    // stay written by holders only, so a push never waits for a line the
    // acquirer last wrote.
    std::size_t n = 0;
    for (; head != kEmpty; head = links_[head].next) {
      // More than size_ means a slot was pushed twice (a cycle): the
      // driver's bug; stop rather than write past the array.
      assert(n < size_ && "a slot was pushed twice");
      if (n == size_) break;
      taken_[n++] = head;
    }
    return Batch(taken_.get(), n);
  }

  // A hint for the acquirer (another thread may push right after).
  bool looks_empty() const noexcept { return head_.load(std::memory_order_relaxed) == kEmpty; }

 private:
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

  // One cache line per slot's link, so that holders returning different
  // slots at once do not write the same line.
  struct alignas(64) Link {
    std::uint32_t next;
  };

  // Its own cache line: every push and take writes it.
  alignas(64) std::atomic<std::uint32_t> head_{kEmpty};
  alignas(64) std::unique_ptr<Link[]> links_;
  std::unique_ptr<std::uint32_t[]> taken_;  // the acquirer's copy of the last batch
  std::size_t size_;
};

}  // namespace tern::pool

#endif  // TERN_BACKENDS_POOL_RETURN_STACK_H_
