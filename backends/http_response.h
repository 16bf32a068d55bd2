// File: http_response.h
//
// HttpResponse is what every backend's HTTP connection returns for one
// response: views into the connection's read buffer (the core's
// ResponseReader did the parsing), valid until the next request on that
// connection or until it is destroyed.
#ifndef TERN_BACKENDS_HTTP_RESPONSE_H_
#define TERN_BACKENDS_HTTP_RESPONSE_H_

#include <string_view>

#include "core/http/headers.h"
#include "core/http/response_reader.h"

namespace tern {

struct HttpResponse {
  int status = 0;  // as sent: any three digits (RFC 9110 §15)
  // status / 100 for 100..599; 5 for a code outside it, which RFC 9110 §15
  // says a client treats as a server error.
  int status_class = 0;
  std::string_view reason;
  http::HeaderList headers;
  std::string_view body;
  bool keep_alive = false;
};

inline HttpResponse response_of(const http::ResponseReader& reader) {
  return {reader.status(), reader.status_class(), reader.reason(), reader.headers(), reader.body(),
          reader.keep_alive()};
}

}  // namespace tern

#endif  // TERN_BACKENDS_HTTP_RESPONSE_H_
