// File: test_venue.h
//
// TestVenue is the session suites' handler: a venue adapter that writes an
// auth message and `subscriptions` subscribe messages on every open, reads
// the server's "seq <n>" stream, and records what the session made it see
// (opens, closes with their Down, every sequence number with the connection
// it came from, rotations), checking the handler's contract as it goes: open
// and close strictly paired, nothing from a connection outside its open.
// A mutex guards it (on posix the session runs on its own thread), and
// nothing it does per message allocates: the allocation tests count inside
// its callbacks.
#ifndef TERN_TESTS_SESSION_TEST_VENUE_H_
#define TERN_TESTS_SESSION_TEST_VENUE_H_

#include <array>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/session/session.h"
#include "tests/support/alloc_counter.h"

namespace tern::session::testing {

class TestVenue {
 public:
  static constexpr std::size_t kMaxSeq = 1u << 20;
  static constexpr std::size_t kMaxIds = 256;

  struct Closed {
    Down down;
    std::string detail;
    absl::Time at;
  };

  explicit TestVenue(int subscriptions = 3) : subscriptions_(subscriptions), seen_(kMaxSeq) {
    closes_.reserve(256);
    open_times_.reserve(256);
  }

  // --- the handler ---------------------------------------------------------------
  void on_open(Out& out, ConnectionId id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (id >= kMaxIds || open_[id]) violation("open twice");
    if (id < kMaxIds) {
      open_[id] = true;
      was_opened_[id] = true;
      alloc_at_open_[id] = ::tern::testing::total_allocations();
    }
    ++opens_;
    open_times_.push_back(absl::Now());
    if (!out.add_text("auth token", /*auth=*/true)) violation("replay Out too small");
    char buf[32];
    for (int i = 0; i < subscriptions_; ++i) {
      const int n = std::snprintf(buf, sizeof buf, "sub %d", i);
      if (!out.add_text(std::string_view(buf, static_cast<std::size_t>(n)))) violation("replay Out too small");
    }
  }
  bool on_message(const ws::Message& m, ConnectionId id, Out&) {
    std::lock_guard<std::mutex> lock(mu_);
    if (id >= kMaxIds || !open_[id]) violation("message outside open/close");
    ++messages_;
    const std::string_view t = m.text();
    std::uint64_t seq = 0;
    if (t.size() <= 4 || t.substr(0, 4) != "seq " ||
        std::from_chars(t.data() + 4, t.data() + t.size(), seq).ec != std::errc()) {
      return false;  // not the feed's data
    }
    if (id < kMaxIds) {
      ++per_id_[id];
      if (first_data_alloc_[id] == 0) first_data_alloc_[id] = ::tern::testing::total_allocations() + 1;
    }
    if (seq < kMaxSeq) {
      if (seen_[seq] != 0 && seen_[seq] != id) ++duplicates_;  // the same number from the other connection
      if (seen_[seq] == 0) seen_[seq] = static_cast<std::uint8_t>(id);
      first_seq_ = std::min(first_seq_, seq);
      last_seq_ = std::max(last_seq_, seq);
    }
    return true;
  }
  void on_close(const Down& d) {
    std::lock_guard<std::mutex> lock(mu_);
    if (d.id >= kMaxIds || !open_[d.id]) violation("close without open");
    if (d.id < kMaxIds) open_[d.id] = false;
    closes_.push_back(Closed{d, std::string(d.detail), absl::Now()});
  }
  void on_switch(ConnectionId from, ConnectionId to) {
    std::lock_guard<std::mutex> lock(mu_);
    if (to >= kMaxIds || !open_[to]) violation("switch to a connection not open");
    ++switches_;
    last_switch_ = {from, to};
  }

  // --- what it saw (any thread) ------------------------------------------------------
  int opens() const {
    std::lock_guard<std::mutex> lock(mu_);
    return opens_;
  }
  int closes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(closes_.size());
  }
  std::vector<Closed> closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closes_;
  }
  std::vector<absl::Time> open_times() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_times_;
  }
  std::uint64_t messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  std::uint64_t data_from(ConnectionId id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return id < kMaxIds ? per_id_[id] : 0;
  }
  int switches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return switches_;
  }
  std::pair<ConnectionId, ConnectionId> last_switch() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_switch_;
  }
  std::uint64_t duplicates() const {
    std::lock_guard<std::mutex> lock(mu_);
    return duplicates_;
  }
  // Sequence numbers missing between the first and the last one seen.
  std::uint64_t missing() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_seq_ < first_seq_) return 0;
    std::uint64_t n = 0;
    for (std::uint64_t s = first_seq_; s <= last_seq_; ++s) n += seen_[s] == 0;
    return n;
  }
  std::vector<std::string> violations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }
  // Open now (opened and not closed).
  int open_now() const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (bool b : open_) n += b;
    return n;
  }
  // Allocations between on_open(id) and id's first data message; -1 if it
  // has not delivered data.
  long replay_allocations(ConnectionId id) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (id >= kMaxIds || first_data_alloc_[id] == 0) return -1;
    return static_cast<long>(first_data_alloc_[id] - 1 - alloc_at_open_[id]);
  }
  int subscriptions() const { return subscriptions_; }
  // What a connection that replayed everything received, in order.
  std::vector<std::string> expected_replay() const {
    std::vector<std::string> v = {"auth token"};
    for (int i = 0; i < subscriptions_; ++i) v.push_back("sub " + std::to_string(i));
    return v;
  }

 private:
  void violation(const char* what) {
    if (violations_.size() < 16) violations_.emplace_back(what);
  }

  const int subscriptions_;
  mutable std::mutex mu_;
  int opens_ = 0;
  int switches_ = 0;
  std::pair<ConnectionId, ConnectionId> last_switch_{0, 0};
  std::uint64_t messages_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t first_seq_ = UINT64_MAX;
  std::uint64_t last_seq_ = 0;
  std::array<bool, kMaxIds> open_{};
  std::array<bool, kMaxIds> was_opened_{};
  std::array<std::uint64_t, kMaxIds> per_id_{};
  std::array<std::size_t, kMaxIds> alloc_at_open_{};
  std::array<std::size_t, kMaxIds> first_data_alloc_{};
  std::vector<std::uint8_t> seen_;  // the connection id that first delivered each number
  std::vector<Closed> closes_;
  std::vector<absl::Time> open_times_;
  std::vector<std::string> violations_;
};

}  // namespace tern::session::testing

#endif  // TERN_TESTS_SESSION_TEST_VENUE_H_
