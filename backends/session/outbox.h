// File: outbox.h
//
// Outbox is the buffer a session handler writes its outbound messages into
// (auth, subscriptions, an application ping, replies): a byte arena of fixed
// capacity, allocated once by the constructor, holding whole messages as
// records (kind, auth mark, length, bytes) back to back. Adding never
// allocates and never grows: a message that does not fit is refused (false)
// and remembered in overflowed(), so a driver checks once after the handler
// ran. clear() empties it between connections; the capacity stays.
//
//   tern::session::Outbox out(4096);
//   if (!out.add_text(R"({"op":"login","args":[...]})", /*auth=*/true)) ...
//   auto room = out.spare();                       // or encode in place
//   int n = std::snprintf(reinterpret_cast<char*>(room.data()), room.size(),
//                         R"({"op":"subscribe","args":["%s"]})", symbol);
//   if (n < 0 || !out.commit(Outbox::Kind::Text, n)) ...
//   for (const Outbox::Record& r : out) send(r.kind, r.bytes);
//
// Views: a Record's bytes and spare() point into the arena and stay valid
// until clear(), or until the Outbox is moved or destroyed. Iterators are
// stable too: appending does not move records, and an iterator equal to
// end() reaches records appended after it was taken, so a driver pacing a
// replay keeps one iterator as "next to send". Records are not aligned.
#ifndef TERN_BACKENDS_SESSION_OUTBOX_H_
#define TERN_BACKENDS_SESSION_OUTBOX_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>
#include <string_view>

namespace tern::session {

class Outbox {
 public:
  enum class Kind : std::uint8_t { Text, Binary };

  struct Record {
    Kind kind = Kind::Text;
    // Marked as authentication: the driver counts the leading auth records
    // (auth_prefix()) for the policy's wait_for_auth gate.
    bool auth = false;
    std::span<const std::uint8_t> bytes;

    std::string_view text() const noexcept {
      return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }
  };

  // Bytes of arena each record uses besides its payload.
  static constexpr std::size_t kRecordOverhead = 6;  // u32 length, kind, flags

  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Record;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Record;

    Iterator() = default;
    Record operator*() const noexcept {
      std::uint32_t len;
      std::memcpy(&len, at_, sizeof len);
      return {static_cast<Kind>(at_[4]), (at_[5] & kAuthFlag) != 0, {at_ + kRecordOverhead, len}};
    }
    Iterator& operator++() noexcept {
      std::uint32_t len;
      std::memcpy(&len, at_, sizeof len);
      at_ += kRecordOverhead + len;
      return *this;
    }
    Iterator operator++(int) noexcept {
      Iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const Iterator&, const Iterator&) = default;

   private:
    friend class Outbox;
    explicit Iterator(const std::uint8_t* at) noexcept : at_(at) {}
    const std::uint8_t* at_ = nullptr;
  };

  // The arena is `capacity` bytes; each record takes kRecordOverhead more
  // than its payload.
  explicit Outbox(std::size_t capacity)
      : data_(capacity == 0 ? nullptr : new std::uint8_t[capacity]), capacity_(capacity) {}
  Outbox(Outbox&& other) noexcept { *this = std::move(other); }
  Outbox& operator=(Outbox&& other) noexcept {
    data_ = std::move(other.data_);
    capacity_ = other.capacity_;
    used_ = other.used_;
    size_ = other.size_;
    auth_prefix_ = other.auth_prefix_;
    overflowed_ = other.overflowed_;
    other.capacity_ = other.used_ = other.size_ = other.auth_prefix_ = 0;
    return *this;
  }

  // Appends one whole message. False, with nothing appended and
  // overflowed() set, when it does not fit.
  [[nodiscard]] bool add_text(std::string_view text, bool auth = false) noexcept {
    return add(Kind::Text, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), auth);
  }
  [[nodiscard]] bool add_binary(std::span<const std::uint8_t> bytes, bool auth = false) noexcept {
    return add(Kind::Binary, bytes.data(), bytes.size(), auth);
  }

  // Encoding in place: spare() is the room for the next record's payload
  // (empty when not even a header fits); write up to its size, then
  // commit() the bytes written. commit(n) with n > spare().size() is refused
  // like an add that does not fit.
  std::span<std::uint8_t> spare() noexcept {
    const std::size_t free = capacity_ - used_;
    if (free <= kRecordOverhead) return {};
    return {data_.get() + used_ + kRecordOverhead, free - kRecordOverhead};
  }
  [[nodiscard]] bool commit(Kind kind, std::size_t n, bool auth = false) noexcept {
    if (!fits(n)) return refuse();
    put_header(kind, n, auth);
    return true;
  }

  // Forgets every record and the overflow; keeps the arena.
  void clear() noexcept {
    used_ = size_ = auth_prefix_ = 0;
    overflowed_ = false;
  }

  Iterator begin() const noexcept { return Iterator(data_.get()); }
  Iterator end() const noexcept { return Iterator(data_.get() + used_); }
  // Records held.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // How many records, from the first, are marked auth.
  std::size_t auth_prefix() const noexcept { return auth_prefix_; }
  // Arena bytes used (payloads and record headers) and available in all.
  std::size_t bytes_used() const noexcept { return used_; }
  std::size_t capacity() const noexcept { return capacity_; }
  // An add or commit was refused since the last clear().
  bool overflowed() const noexcept { return overflowed_; }

 private:
  static constexpr std::uint8_t kAuthFlag = 1;

  bool fits(std::size_t n) const noexcept {
    return n <= UINT32_MAX && capacity_ - used_ >= kRecordOverhead &&
           n <= capacity_ - used_ - kRecordOverhead;
  }
  bool refuse() noexcept {
    overflowed_ = true;
    return false;
  }
  bool add(Kind kind, const std::uint8_t* bytes, std::size_t n, bool auth) noexcept {
    if (!fits(n)) return refuse();
    if (n != 0) std::memcpy(data_.get() + used_ + kRecordOverhead, bytes, n);
    put_header(kind, n, auth);
    return true;
  }
  void put_header(Kind kind, std::size_t n, bool auth) noexcept {
    std::uint8_t* at = data_.get() + used_;
    const std::uint32_t len = static_cast<std::uint32_t>(n);
    std::memcpy(at, &len, sizeof len);
    at[4] = static_cast<std::uint8_t>(kind);
    at[5] = auth ? kAuthFlag : 0;
    used_ += kRecordOverhead + n;
    if (auth && auth_prefix_ == size_) ++auth_prefix_;
    ++size_;
  }

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::size_t size_ = 0;
  std::size_t auth_prefix_ = 0;
  bool overflowed_ = false;
};

}  // namespace tern::session

#endif  // TERN_BACKENDS_SESSION_OUTBOX_H_
