#include "core/http/method.h"

namespace tern::http {

std::string_view method_name(Method m) noexcept {
  switch (m) {
    case Method::Get: return "GET";
    case Method::Head: return "HEAD";
    case Method::Post: return "POST";
    case Method::Put: return "PUT";
    case Method::Delete: return "DELETE";
    case Method::Patch: return "PATCH";
    case Method::Options: return "OPTIONS";
    case Method::Connect: return "CONNECT";
    case Method::Trace: return "TRACE";
    case Method::Other: return {};
  }
  return {};
}

Method parse_method(std::string_view s) noexcept {
  switch (s.size()) {
    case 3:
      if (s == "GET") return Method::Get;
      if (s == "PUT") return Method::Put;
      break;
    case 4:
      if (s == "POST") return Method::Post;
      if (s == "HEAD") return Method::Head;
      break;
    case 5:
      if (s == "PATCH") return Method::Patch;
      if (s == "TRACE") return Method::Trace;
      break;
    case 6:
      if (s == "DELETE") return Method::Delete;
      break;
    case 7:
      if (s == "OPTIONS") return Method::Options;
      if (s == "CONNECT") return Method::Connect;
      break;
  }
  return Method::Other;
}

}  // namespace tern::http
