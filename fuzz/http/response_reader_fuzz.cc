// libFuzzer target for ResponseReader. Invariants beyond "no crash":
//   - the same outcome (status, fields, trailers, body, keep-alive, bytes
//     consumed, the bytes left behind, or the error cause) whether the wire
//     arrives whole or in the pieces the seed byte selects;
//   - Complete implies no error, a body within max_body_size, fields within
//     max_headers, field values that are trimmed field-content (every
//     obs-fold replaced), a three-digit status, and leftover bytes that are
//     a suffix of the input;
//   - obs-fold (RFC 9112 §5.2): the reader, unfolding in place, reports
//     exactly what it reports for the wire with the first head's folds
//     replaced by SP beforehand (an independent reference);
//   - Failed is sticky.
// Input: see fuzz_util.h.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/buf/read_buf.h"
#include "core/http/response_reader.h"
#include "fuzz/http/fuzz_util.h"
#include "fuzz/http/reader_check.h"

using namespace tern::http;

namespace {

bool sp_or_htab(char c) { return c == ' ' || c == '\t'; }

// RFC 9112 §5.2 without the reader: in the first head (up to its empty
// line), each CRLF after the start line's that is followed by SP or HTAB
// becomes SP, with the SP/HTAB on both sides of it (obs-fold = OWS CRLF RWS).
std::string unfold_first_head(std::string_view wire) {
  std::string out(wire);
  std::size_t line = out.find("\r\n");  // the start line's end
  if (line == std::string::npos) return out;
  line += 2;  // a field line (or the empty line) starts here
  for (std::size_t from = line;;) {
    const std::size_t crlf = out.find("\r\n", from);
    if (crlf == std::string::npos || crlf == line) break;  // no end yet, or the empty line
    if (crlf + 2 < out.size() && sp_or_htab(out[crlf + 2])) {
      std::size_t a = crlf;
      std::size_t b = crlf + 2;
      while (a > line && sp_or_htab(out[a - 1])) --a;
      while (b < out.size() && sp_or_htab(out[b])) ++b;
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(a),
                out.begin() + static_cast<std::ptrdiff_t>(b), ' ');
      from = b;  // the same field goes on
    } else {
      line = from = crlf + 2;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in;
  if (!fuzz::parse_input(data, size, &in)) return 0;
  const testing::Outcome outcome = fuzz::check_reader<ResponseReader>(in, true);
  const std::string unfolded = unfold_first_head(in.wire);
  if (unfolded != in.wire) {
    fuzz::Input ref = in;
    ref.wire = unfolded;
    fuzz::check(fuzz::check_reader<ResponseReader>(ref, true) == outcome,
                "obs-fold unfolded in place as by the reference");
  }
  return 0;
}
