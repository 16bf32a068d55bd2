// libFuzzer target for parse_url. Invariants beyond "no crash":
//   - on kNone: host, path and query are views into the input; the host is
//     not empty; the port is 1..65535, port_is_default matches the scheme's
//     default; the path starts with '/'; has_query matches a '?' in the input;
//   - otherwise: a named error (name() is not empty).
#include <cstdint>
#include <string_view>

#include "core/url/url.h"
#include "fuzz/check.h"

namespace {

bool inside(std::string_view part, std::string_view text) {
  return part.empty() ||
         (part.data() >= text.data() && part.data() + part.size() <= text.data() + text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tern::fuzz::check;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tern::Url url;
  const tern::UrlError e = tern::parse_url(text, url);
  if (e != tern::UrlError::kNone) {
    check(!tern::name(e).empty(), "errors are named");
    return 0;
  }
  check(!url.host.empty(), "host present");
  check(inside(url.host, text), "host is a view into the input");
  check(inside(url.query, text), "query is a view into the input");
  check(url.path == "/" || inside(url.path, text), "path is a view into the input or \"/\"");
  check(!url.path.empty() && url.path.front() == '/', "path starts with '/'");
  check(url.port != 0, "port in 1..65535");
  check(url.port_is_default == (url.port == (url.secure() ? 443 : 80)),
        "port_is_default matches the scheme's port");
  check(!url.has_query || text.find('?') != std::string_view::npos, "a query came from a '?'");
  return 0;
}
