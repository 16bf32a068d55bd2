// File: write_buf.h
//
// WriteBuf is the outbound byte slab. Its front holds `headroom` reserved
// bytes so that an encoder can append a payload first and then prepend() a
// frame or chunk header directly in front of it: the result is one contiguous
// span for a single write()/send(), with no copy of the payload.
//
// Capacity and headroom are fixed at construction; an append or prepend that
// does not fit returns false and changes nothing. clear() restores the full
// headroom. data() views are valid until the next mutating call.
//
//   tern::WriteBuf out(64 * 1024, 14);
//   out.append(payload);                 // payload in place
//   out.prepend(header);                 // header in front of it
//   ::send(fd, out.data().data(), out.data().size(), 0);
#ifndef TERN_CORE_BUF_WRITE_BUF_H_
#define TERN_CORE_BUF_WRITE_BUF_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/buf/storage.h"

namespace tern {

class WriteBuf {
 public:
  // Headroom large enough for any WebSocket frame header (2 + 8 + 4 bytes).
  static constexpr std::size_t kDefaultHeadroom = 14;

  explicit WriteBuf(std::size_t capacity,
                    std::size_t headroom = kDefaultHeadroom);

  WriteBuf(const WriteBuf&) = delete;
  WriteBuf& operator=(const WriteBuf&) = delete;
  WriteBuf(WriteBuf&&) noexcept = default;
  WriteBuf& operator=(WriteBuf&&) noexcept = default;

  // Writable space after the data, for encoders that write in place.
  std::span<std::uint8_t> spare() noexcept {
    return {storage_.data() + end_, total_ - end_};
  }
  // Marks n bytes of spare() as written. False (no change) if n is too large.
  [[nodiscard]] bool commit(std::size_t n) noexcept {
    if (n > total_ - end_) return false;
    end_ += n;
    return true;
  }

  [[nodiscard]] bool append(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() > total_ - end_) return false;
    if (!bytes.empty()) std::memcpy(storage_.data() + end_, bytes.data(), bytes.size());
    end_ += bytes.size();
    return true;
  }

  // Reserves n bytes directly in front of data() and returns them for the
  // caller to fill; an empty span (no change) if the headroom is too small.
  std::span<std::uint8_t> prepend_space(std::size_t n) noexcept {
    if (n > begin_) return {};
    begin_ -= n;
    return {storage_.data() + begin_, n};
  }
  [[nodiscard]] bool prepend(std::span<const std::uint8_t> bytes) noexcept {
    std::span<std::uint8_t> dst = prepend_space(bytes.size());
    if (dst.size() != bytes.size()) return false;
    if (!bytes.empty()) std::memcpy(dst.data(), bytes.data(), bytes.size());
    return true;
  }

  // The encoded bytes, ready for one write.
  std::span<const std::uint8_t> data() const noexcept {
    return {storage_.data() + begin_, end_ - begin_};
  }
  std::span<std::uint8_t> mutable_data() noexcept {
    return {storage_.data() + begin_, end_ - begin_};
  }

  // Drops n bytes from the front after a partial write (clamped); restores
  // the headroom once everything is gone.
  void consume(std::size_t n) noexcept {
    begin_ += n < end_ - begin_ ? n : end_ - begin_;
    if (begin_ == end_) clear();
  }
  // Shrinks data() back to its first n bytes (clamped); undoes appends.
  void truncate(std::size_t n) noexcept {
    if (n < end_ - begin_) end_ = begin_ + n;
  }
  void clear() noexcept { begin_ = end_ = headroom_; }

  // When empty: gives a large buffer's memory back to the kernel (see
  // storage.h), for a connection gone idle. No-op otherwise.
  void release_memory() noexcept {
    if (empty()) storage_.release();
  }

  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  std::size_t capacity() const noexcept { return total_ - headroom_; }
  std::size_t headroom() const noexcept { return begin_; }

 private:
  buf_detail::Storage storage_;
  std::size_t total_;
  std::size_t headroom_;
  std::size_t begin_;
  std::size_t end_;
};

}  // namespace tern

#endif  // TERN_CORE_BUF_WRITE_BUF_H_
