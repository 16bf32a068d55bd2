// libFuzzer target for RequestWriter. The input is a list of build steps with
// arbitrary bytes. Invariants beyond "no crash":
//   - the writer accepts exactly the requests an independent check of RFC
//     9110 §5.1/§5.5 and RFC 3986 deems valid, and rejects the rest with a
//     writer error (never BufferFull: the buffer has room for any request
//     the input can build);
//   - a rejected request leaves the WriteBuf unchanged;
//   - an accepted request parses back through RequestReader, with Limits no
//     larger than it needs, to exactly the method, target (with
//     independently percent-encoded query), fields and body that went in.
//
// Input: [method][steps...], step = [kind][len][len bytes]; kind % 5:
//   0 path (the last one wins), 1 query (key/value split at len/2),
//   2 field (name/value split at the first ':' if any, else all name),
//   3 body, 4 body written in place.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/request_reader.h"
#include "core/http/request_writer.h"
#include "fuzz/http/fuzz_util.h"

using namespace tern::http;

namespace {

bool tchar(unsigned char c) {
  return std::isalnum(c) || (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool lower_eq(const std::string& a, const char* b) {
  if (a.size() != std::strlen(b)) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

bool valid_name(const std::string& n) {
  if (n.empty()) return false;
  for (unsigned char c : n) if (!tchar(c)) return false;
  return !lower_eq(n, "host") && !lower_eq(n, "content-length") &&
         !lower_eq(n, "transfer-encoding");
}

bool valid_value(const std::string& v) {
  for (unsigned char c : v) if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  return v.empty() || (v.front() != ' ' && v.front() != '\t' && v.back() != ' ' &&
                       v.back() != '\t');
}

bool valid_path(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  for (unsigned char c : p) if (c <= 0x20 || c >= 0x7F || c == '#') return false;
  return true;
}

bool valid_param(const std::string& s) {
  return s.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
}

std::string encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr Method kMethods[] = {Method::Get, Method::Post, Method::Put, Method::Delete,
                                        Method::Patch, Method::Head, Method::Options};
  static const RequestWriter writer = *RequestWriter::create(
      {.host = "h.example", .base_path = "/b", .default_headers = {{"X-Key", "k"}}});
  const Method method = kMethods[data[0] % 7];
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> query, fields;
  std::string body;
  int body_mode = 0;  // 0 none, 1 bytes, 2 in place
  for (std::size_t i = 1; i + 2 <= size;) {
    const int kind = data[i] % 5;
    std::size_t len = data[i + 1];
    i += 2;
    if (len > size - i) len = size - i;
    std::string bytes(reinterpret_cast<const char*>(data + i), len);
    i += len;
    switch (kind) {
      case 0: path = bytes; break;
      case 1: query.emplace_back(bytes.substr(0, len / 2), bytes.substr(len / 2)); break;
      case 2: {
        const std::size_t colon = bytes.find(':');
        if (colon == std::string::npos) fields.emplace_back(bytes, "");
        else fields.emplace_back(bytes.substr(0, colon), bytes.substr(colon + 1));
        break;
      }
      default: body = bytes; body_mode = kind == 3 ? 1 : 2; break;
    }
  }

  bool expect_ok = valid_path(path);
  for (const auto& [k, v] : query) expect_ok = expect_ok && valid_param(k) && valid_param(v);
  for (const auto& [n, v] : fields) expect_ok = expect_ok && valid_name(n) && valid_value(v);

  // Room for any request this input can build, and no more (a buffer and
  // a header array sized for the largest input, allocated per input, were
  // most of this target's time): each step's len bytes become at most 3 *
  // len + 4 (percent-encoding; ": " and CRLF of a field), which its two
  // header bytes pay for; 256 covers the request line's fixed parts, Host,
  // X-Key, Content-Length, the blank line and the 19 digits body_in_place
  // holds back.
  tern::WriteBuf out(3 * size + 256);
  (void)out.append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("old"), 3));
  RequestBuilder b = writer.start(out, method, path);
  for (const auto& [k, v] : query) b.query(k, v);
  HeaderBuilder& h = b;
  for (const auto& [n, v] : fields) h.header(n, v);
  WriteResult r;
  if (body_mode == 1) {
    r = h.body(body);
  } else if (body_mode == 2) {
    r = h.body_in_place([&](std::span<std::uint8_t> s) {
      fuzz::check(s.size() >= body.size(), "room for the body in place");
      std::memcpy(s.data(), body.data(), body.size());
      return body.size();
    });
  } else {
    r = h.finish();
  }
  fuzz::check(r.ok() == expect_ok, "accepts exactly the valid requests");
  if (!r.ok()) {
    fuzz::check(r.error != Error::BufferFull, "no BufferFull with a large buffer");
    fuzz::check(out.size() == 3, "rejected request leaves the buffer as it was");
    return 0;
  }
  std::string target = "/b" + path;
  bool first = path.find('?') == std::string::npos;
  for (const auto& [k, v] : query) {
    target += (first ? "?" : "&") + encode(k) + "=" + encode(v);
    first = false;
  }
  tern::ReadBuf in(r.bytes.size() + 1);
  std::memcpy(in.spare().data(), r.bytes.data(), r.bytes.size());
  (void)in.commit(r.bytes.size());
  // Limits exactly as large as this request needs: Host, X-Key, the
  // caller's fields and Content-Length; the body.
  RequestReader reader({.max_header_bytes = r.bytes.size(),
                        .max_headers = fields.size() + 3,
                        .max_body_size = body.size()});
  fuzz::check(reader.next(in) == Progress::Complete, "written request parses");
  fuzz::check(reader.method() == method, "same method");
  fuzz::check(reader.target() == target, "same target");
  fuzz::check(reader.message_size() == r.bytes.size(), "whole request consumed");
  fuzz::check(reader.body() == (body_mode ? body : std::string()), "same body");
  HeaderList hs = reader.headers();
  fuzz::check(hs.size() >= 2 + fields.size(), "all fields present");
  fuzz::check(hs[0].name == "Host" && hs[0].value == "h.example", "Host first");
  for (std::size_t f = 0; f < fields.size(); ++f) {
    fuzz::check(hs[2 + f].name == fields[f].first, "same field name");
    fuzz::check(hs[2 + f].value == fields[f].second, "same field value");
  }
  return 0;
}
