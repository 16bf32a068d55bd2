// File: read_buf.h
//
// ReadBuf is the inbound byte slab between a transport and a parser. The
// transport writes into spare() and commit()s what it received; the parser
// reads data(), may rewrite it in place (unmasking, de-chunking), and
// consume()s what it finished with. Capacity is fixed at construction: a full
// buffer is reported, never grown, so memory per connection is bounded.
//
// Layout: [pre_padding | capacity | post_padding]. The padding bytes are owned
// by the buffer and never hold data; they exist so that SIMD kernels may load
// (not store) up to kPadding bytes before or past the readable region.
//
// Views returned by data() and spare() stay valid until the next commit(),
// consume() or compact(); the storage itself lives as long as the ReadBuf.
//
//   tern::ReadBuf buf(64 * 1024);
//   ssize_t n = ::read(fd, buf.spare().data(), buf.spare().size());
//   if (n > 0) (void)buf.commit(n);
#ifndef TERN_CORE_BUF_READ_BUF_H_
#define TERN_CORE_BUF_READ_BUF_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/buf/storage.h"

namespace tern {

class ReadBuf {
 public:
  // Bytes of slack before and after the readable region that SIMD code may
  // over-read. 64 covers one AVX-512 load.
  static constexpr std::size_t kPadding = 64;
  // data() starts on a cache line when the buffer is drained (the usual
  // state when a message arrives), so whole-block SIMD loads never split.
  static constexpr std::size_t kAlignment = 64;

  explicit ReadBuf(std::size_t capacity);

  ReadBuf(const ReadBuf&) = delete;
  ReadBuf& operator=(const ReadBuf&) = delete;
  ReadBuf(ReadBuf&&) noexcept = default;
  ReadBuf& operator=(ReadBuf&&) noexcept = default;

  // Writable space after the readable bytes. Empty when the tail is full; call
  // compact() to reclaim consumed space at the front.
  std::span<std::uint8_t> spare() noexcept {
    return {base() + end_, capacity_ - end_};
  }

  // Marks n bytes of spare() as received. Returns false, changing nothing, if
  // n exceeds spare().size().
  [[nodiscard]] bool commit(std::size_t n) noexcept {
    if (n > capacity_ - end_) return false;
    end_ += n;
    return true;
  }

  // Readable bytes, oldest first.
  std::span<const std::uint8_t> data() const noexcept {
    return {base() + begin_, end_ - begin_};
  }
  // The same bytes, writable, for parsers that transform in place.
  std::span<std::uint8_t> mutable_data() noexcept {
    return {base() + begin_, end_ - begin_};
  }

  // Drops the first n readable bytes (clamped to size()). When the buffer
  // drains, both cursors return to the start so no compaction is needed.
  void consume(std::size_t n) noexcept {
    begin_ += n < end_ - begin_ ? n : end_ - begin_;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Moves the readable bytes to the start of the buffer, maximizing spare().
  void compact() noexcept;

  // Discards everything.
  void clear() noexcept { begin_ = end_ = 0; }

  // When empty: gives a large buffer's memory back to the kernel (see
  // storage.h); it is committed again, page by page, as bytes arrive. For
  // a connection gone idle. No-op when not empty or for small buffers.
  void release_memory() noexcept {
    if (empty()) storage_.release();
  }

  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  std::size_t capacity() const noexcept { return capacity_; }
  // Bytes that compact() would reclaim at the front.
  std::size_t consumed_front() const noexcept { return begin_; }

 private:
  std::uint8_t* base() const noexcept { return storage_.data() + kPadding; }

  buf_detail::Storage storage_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace tern

#endif  // TERN_CORE_BUF_READ_BUF_H_
