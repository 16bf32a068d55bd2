// File: method.h
//
// Request methods the readers and writers know by name (RFC 9110 §9). Other
// valid tokens are carried as Method::Other with the text beside them.
#ifndef TERN_CORE_HTTP_METHOD_H_
#define TERN_CORE_HTTP_METHOD_H_

#include <cstdint>
#include <string_view>

namespace tern::http {

enum class Method : std::uint8_t {
  Get, Head, Post, Put, Delete, Patch, Options, Connect, Trace, Other,
};

// "GET", "HEAD", ...; empty for Other.
std::string_view method_name(Method m) noexcept;

// Exact, case-sensitive match (RFC 9110 §9.1: methods are case-sensitive).
Method parse_method(std::string_view s) noexcept;

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_METHOD_H_
