// libFuzzer target for RequestReader. Invariants beyond "no crash":
//   - the same outcome (status, fields, trailers, body, keep-alive, bytes
//     consumed, the bytes left behind, or the error cause) whether the wire
//     arrives whole or in the pieces the seed byte selects;
//   - Complete implies no error, a body within max_body_size, fields within
//     max_headers, field values that are trimmed field-content (obs-fold is
//     rejected in a request), and leftover bytes that are a suffix of the
//     input;
//   - Failed is sticky.
// Input: see fuzz_util.h.
#include <cstdint>
#include <string>

#include "core/buf/read_buf.h"
#include "core/http/request_reader.h"
#include "fuzz/http/fuzz_util.h"
#include "fuzz/http/reader_check.h"

using namespace tern::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in;
  if (!fuzz::parse_input(data, size, &in)) return 0;
  fuzz::check_reader<RequestReader>(in, false);
  return 0;
}
