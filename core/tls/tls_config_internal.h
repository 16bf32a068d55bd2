// Logically private to core/tls: what a TlsConfig shares with its codecs.
#ifndef TERN_CORE_TLS_TLS_CONFIG_INTERNAL_H_
#define TERN_CORE_TLS_TLS_CONFIG_INTERNAL_H_

#include <openssl/ssl.h>

#include <string>

#include "core/tls/tls_config.h"

namespace tern::tls {

struct TlsConfig::Shared {
  Shared() = default;
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() { SSL_CTX_free(ctx); }

  SSL_CTX* ctx = nullptr;
  Role role = Role::Client;
  bool verify = true;
  // ALPN protocols in wire format (RFC 7301 §3.1: 1-byte length + name).
  std::string alpn_wire;
};

// Drains OpenSSL's error queue into "what: reason; reason" (tls_config.cc).
std::string openssl_errors(const std::string& what);

}  // namespace tern::tls

#endif  // TERN_CORE_TLS_TLS_CONFIG_INTERNAL_H_
