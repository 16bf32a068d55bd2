#include "backends/options.h"

namespace tern {

ws::ConnectionOptions connection_options(const WebSocketOptions& o) {
  ws::ConnectionOptions c;
  c.limits = o.limits;
  c.read_buffer_size = o.read_buffer_size;
  c.write_buffer_size = o.write_buffer_size;
  c.subprotocols = o.subprotocols;
  c.extra_headers = o.extra_headers;
  c.handshake_limits = o.handshake_limits;
  c.auto_pong = o.auto_pong;
  c.handshake_timeout = o.handshake_timeout;
  c.close_timeout = o.close_timeout;
  return c;
}

http::ClientConnectionOptions connection_options(const HttpOptions& o) {
  return {.read_buffer_size = o.read_buffer_size, .write_buffer_size = o.write_buffer_size};
}

}  // namespace tern
