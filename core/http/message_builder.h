// File: message_builder.h
//
// HeaderBuilder is the part of a request or response after its start line:
// field lines, then exactly one terminal call that writes the body framing
// and the body. It is returned by RequestWriter::start() (as a RequestBuilder)
// and ResponseWriter::start(); it cannot be built on its own.
//
// The builder appends to the WriteBuf given to start(). The first failed step
// (a bad name or value, a full buffer) is remembered; later steps do nothing,
// and the terminal call returns that error with the WriteBuf as it was before
// start() (bytes are committed only by a successful terminal call), so the
// writer and buffer are reusable at once. Do not modify the WriteBuf between
// start() and the terminal call.
// On success the terminal call returns the message as one contiguous span of
// the WriteBuf, valid until the buffer is next modified.
#ifndef TERN_CORE_HTTP_MESSAGE_BUILDER_H_
#define TERN_CORE_HTTP_MESSAGE_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "core/buf/write_buf.h"
#include "core/http/error.h"
#include "core/http/tokens.h"

namespace tern::http {

struct [[nodiscard]] WriteResult {
  Error error = Error::None;
  std::span<const std::uint8_t> bytes;  // the whole message, if ok()
  bool ok() const noexcept { return error == Error::None; }
};

namespace detail {
// memcpy for the short names, values and paths of a request, inline:
// overlapping moves up to 16 bytes, a library call beyond. n == 0 is fine.
inline void copy_bytes(std::uint8_t* dst, const char* src, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    const std::uint64_t a = load64(src), b = load64(src + n - 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    std::uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else if (n > 16) {
    std::memcpy(dst, src, n);
  } else if (n != 0) {  // 1..3
    dst[0] = static_cast<std::uint8_t>(src[0]);
    dst[n / 2] = static_cast<std::uint8_t>(src[n / 2]);
    dst[n - 1] = static_cast<std::uint8_t>(src[n - 1]);
  }
}

// Validation shared by the writers (RFC 9110 §5.1, §5.5).
Error check_field_name(std::string_view name) noexcept;
Error check_field_value(std::string_view value) noexcept;
// A whole field line for a writer: name, then value, then whether the writer
// owns it (Content-Length, Transfer-Encoding, and Host if host_reserved).
Error check_field(std::string_view name, std::string_view value,
                  bool host_reserved) noexcept;
}  // namespace detail

class HeaderBuilder {
 public:
  HeaderBuilder(const HeaderBuilder&) = delete;
  HeaderBuilder& operator=(const HeaderBuilder&) = delete;
  HeaderBuilder& operator=(HeaderBuilder&&) = delete;

  // One field line. The name must be a token; the value must not contain
  // CR, LF, NUL or other controls but HTAB, nor start or end with SP/HTAB
  // (a reader would trim them). Host, Content-Length and Transfer-Encoding
  // are the writer's: Error::ReservedHeader.
  HeaderBuilder& header(std::string_view name, std::string_view value) noexcept;

  // Terminal calls; exactly one ends the message.
  // Content-Length: body.size(), then the body.
  WriteResult body(std::span<const std::uint8_t> bytes) noexcept;
  WriteResult body(std::string_view bytes) noexcept {
    return body(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }
  // fill(std::span<std::uint8_t> space) writes the body at the front of
  // `space` (the rest of the WriteBuf) and returns how many bytes it wrote;
  // Content-Length is filled in afterwards. More than space.size() is
  // Error::BufferFull.
  template <typename F>
  WriteResult body_in_place(F&& fill) noexcept {
    std::span<std::uint8_t> space = begin_in_place();
    if (error_ != Error::None) return fail_result();
    return end_in_place(static_cast<std::size_t>(fill(space)));
  }
  // Body of exactly n bytes: fill(std::span<std::uint8_t>) gets n bytes of
  // the WriteBuf to fill completely.
  template <typename F>
  WriteResult body_fixed(std::size_t n, F&& fill) noexcept {
    std::span<std::uint8_t> space = begin_fixed(n);
    if (error_ != Error::None) return fail_result();
    fill(space);
    return end_fixed(n);
  }
  // No body. Requests with POST/PUT/PATCH and responses other than 1xx, 204
  // and 304 get "Content-Length: 0" so the peer need not wait for a close.
  WriteResult finish() noexcept;

 protected:
  HeaderBuilder(WriteBuf& out, std::string_view line_end, bool zero_length) noexcept
      : out_(out), begin_(out.spare().data()), next_(begin_),
        limit_(begin_ + out.spare().size()), line_end_(line_end),
        zero_length_(zero_length) {}

  HeaderBuilder(HeaderBuilder&&) noexcept = default;

  std::size_t room() const noexcept { return static_cast<std::size_t>(limit_ - next_); }
  bool put(std::string_view s) noexcept;
  void fail(Error e) noexcept;
  WriteResult fail_result() noexcept;
  WriteResult done() noexcept;
  // Commits the bytes up to next_ and returns the whole message.
  WriteResult commit_message() noexcept {
    (void)out_.commit(static_cast<std::size_t>(next_ - begin_));
    return {Error::None, {begin_, next_}};
  }
  // "Content-Length: n" and the blank line that ends the head (closing the
  // start line first if it is open).
  bool end_head_with_length(std::size_t n) noexcept;
  // The rest of an open start line and "Content-Length: n" CRLF CRLF, if
  // there is also room for `then` more bytes after them; returns where those
  // go, or nullptr (BufferFull recorded, nothing written).
  std::uint8_t* put_length_head(std::size_t n, std::size_t then) noexcept;
  // Writes line_end_ if the start line is still open.
  void close_start_line() noexcept;

  WriteBuf& out_;
  // The message is written into out_.spare() and committed only by a
  // successful terminal call, so a failed one leaves the WriteBuf as it was
  // and no step pays for a commit. begin_ is where the message starts, next_
  // where its next byte goes, limit_ the end of the spare space.
  std::uint8_t* begin_;
  std::uint8_t* next_;
  std::uint8_t* limit_;
  // Written when an open start line closes (requests: " HTTP/1.1\r\n" and
  // the pre-validated field lines); empty when start() wrote the whole line.
  std::string_view line_end_;
  Error error_ = Error::None;
  bool zero_length_;
  bool line_open_ = false;  // request line still takes query parameters
  bool has_query_ = false;

 private:
  std::span<std::uint8_t> begin_in_place() noexcept;
  WriteResult end_in_place(std::size_t n) noexcept;
  std::span<std::uint8_t> begin_fixed(std::size_t n) noexcept;
  WriteResult end_fixed(std::size_t n) noexcept;
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_MESSAGE_BUILDER_H_
