// File: headers.h
//
// Header is one field line as two views into the reader's ReadBuf; HeaderList
// is a read-only span of them in wire order with case-insensitive lookup
// (RFC 9110 §5.1: field names are case-insensitive). Views stay valid until
// the reader that produced them is called again, consumes or resets.
#ifndef TERN_CORE_HTTP_HEADERS_H_
#define TERN_CORE_HTTP_HEADERS_H_

#include <cstddef>
#include <string_view>

namespace tern::http {

struct Header {
  std::string_view name;   // as sent
  std::string_view value;  // leading and trailing SP/HTAB removed
};

class HeaderList {
 public:
  constexpr HeaderList() noexcept = default;
  constexpr HeaderList(const Header* data, std::size_t size) noexcept
      : data_(data), size_(size) {}

  const Header* begin() const noexcept { return data_; }
  const Header* end() const noexcept { return data_ + size_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const Header& operator[](std::size_t i) const noexcept { return data_[i]; }

  // First field named `name` (any case), or nullptr. Repeated fields: iterate,
  // or use count()/has_token().
  const Header* find(std::string_view name) const noexcept;
  // Value of the first field named `name`, or empty if absent.
  std::string_view get(std::string_view name) const noexcept;
  std::size_t count(std::string_view name) const noexcept;
  // True if any field named `name` lists `token` (header_has_token rules),
  // e.g. has_token("Connection", "upgrade").
  bool has_token(std::string_view name, std::string_view token) const noexcept;

 private:
  const Header* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_HEADERS_H_
