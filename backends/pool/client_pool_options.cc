#include "backends/pool/client_pool_options.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "backends/urls.h"
#include "core/url/url.h"

namespace tern::pool {
namespace {

absl::Status bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("client pool: ", absl::string_view(what.data(), what.size())));
}

}  // namespace

absl::Status validate(const ClientPoolOptions& o) {
  return request_writer_for(o).status();
}

absl::StatusOr<http::RequestWriter> request_writer_for(const ClientPoolOptions& o) {
  absl::StatusOr<Url> url = http_url(o.url);
  if (!url.ok()) return url.status();
  if (url->path != "/" || url->has_query) {
    return bad(absl::StrCat("the URL must not carry a path or query (", o.url,
                            "); put the prefix in base_path"));
  }
  if (absl::Status st = validate(o.config); !st.ok()) return st;
  // A body the limit allows must fit the read buffer with its head, or a
  // large response fails as "buffer full" instead of BodyTooLarge.
  if (o.http.read_buffer_size <= o.limits.max_body_size) {
    return bad(absl::StrCat("the response buffer (", o.http.read_buffer_size,
                            " bytes) must be larger than max_body_size (", o.limits.max_body_size, ")"));
  }
  absl::StatusOr<http::RequestWriter> writer = http::RequestWriter::create(
      {.host = host_field(*url), .base_path = o.base_path, .default_headers = o.default_headers});
  if (!writer.ok()) {
    const absl::string_view why = writer.status().message();
    return bad(std::string_view(why.data(), why.size()));
  }
  return writer;
}

}  // namespace tern::pool
