// File: tls_config.h
//
// TlsConfig is the immutable, shareable half of TLS: one OpenSSL SSL_CTX
// (trust store, certificate and key, versions, ALPN) built once and handed to
// any number of TlsCodec instances. Copying a TlsConfig copies a reference
// (std::shared_ptr), not the context; every codec keeps its config alive, so a
// TlsConfig may be dropped while connections still use it.
//
// Build one with TlsConfig::client() or TlsConfig::server(), which return a
// Builder; Builder::build() does all file reading and parsing and returns
// absl::StatusOr<TlsConfig>. Every failure is a Status with OpenSSL's reason
// text, never an abort:
//   kNotFound / kPermissionDenied  file cannot be read (errno text)
//   kInvalidArgument               bad PEM or DER, bad ALPN name
//   kFailedPrecondition            key does not match certificate, no trust
//                                  store, server without certificate
//   kInternal                      OpenSSL could not create the context
//
// Defaults are safe: a client verifies the peer against the system trust store
// (Debian: /etc/ssl/certs), TLS 1.2 is the minimum. Verification can only be
// switched off through dangerously_disable_certificate_verification().
//
//   absl::StatusOr<tern::tls::TlsConfig> config =
//       tern::tls::TlsConfig::client().alpn({"http/1.1"}).build();
//   if (!config.ok()) return config.status();
#ifndef TERN_CORE_TLS_TLS_CONFIG_H_
#define TERN_CORE_TLS_TLS_CONFIG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace tern::tls {

enum class Role : std::uint8_t { Client, Server };

enum class Version : std::uint8_t { Tls12, Tls13 };

class TlsConfig {
 public:
  class Builder;

  // Starts a client configuration (verifies the server by default).
  static Builder client();
  // Starts a server configuration (needs a certificate chain and a key).
  static Builder server();

  Role role() const noexcept;
  // The underlying context, for settings tern does not wrap. The pointer is
  // valid while this TlsConfig (or any copy, or any codec using it) lives.
  SSL_CTX* native_handle() const noexcept;

  struct Shared;  // Owns the SSL_CTX and data its callbacks read.

 private:
  explicit TlsConfig(std::shared_ptr<const Shared> shared) noexcept
      : shared_(std::move(shared)) {}
  friend class TlsCodec;

  std::shared_ptr<const Shared> shared_;
};

// Collects settings; build() validates and loads them all at once. Setters
// return *this for chaining; nothing is read from disk before build().
class TlsConfig::Builder {
 public:
  explicit Builder(Role role) : role_(role) {}

  // Both roles.
  Builder& min_version(Version v) { min_version_ = v; return *this; }
  Builder& max_version(Version v) { max_version_ = v; return *this; }
  Builder& tls13_only() { return min_version(Version::Tls13); }
  // Client: protocols offered, in preference order. Server: protocols
  // accepted, in the server's preference order; a client offering none of
  // them gets a no_application_protocol alert (RFC 7301 §3.2). Each name is
  // 1..255 bytes.
  Builder& alpn(std::vector<std::string> protocols) {
    alpn_ = std::move(protocols);
    return *this;
  }

  // Client trust. The system store (OpenSSL's default paths, which Debian
  // points at /etc/ssl/certs) is on unless switched off here.
  Builder& use_system_trust_store(bool on) { system_store_ = on; return *this; }
  // Extra trusted CA certificates: one or more PEM blocks, one DER
  // certificate, or a file holding either (detected by "-----BEGIN").
  Builder& add_ca_pem(std::string_view pem);
  Builder& add_ca_der(std::span<const std::uint8_t> der);
  Builder& add_ca_file(std::string path);
  // Accepts any certificate from any host. For tests against throwaway
  // servers only: it removes all protection against active attackers.
  Builder& dangerously_disable_certificate_verification() {
    verify_ = false;
    return *this;
  }

  // Server identity: the leaf certificate first, then intermediates (PEM),
  // and its private key (PEM, any type OpenSSL reads).
  Builder& certificate_chain_pem(std::string_view pem);
  Builder& certificate_chain_file(std::string path);
  Builder& private_key_pem(std::string_view pem);
  Builder& private_key_file(std::string path);

  absl::StatusOr<TlsConfig> build() const;

 private:
  struct Source {
    enum Kind : std::uint8_t { kPem, kDer, kFile } kind;
    std::string bytes;  // PEM/DER content or a path.
  };

  Role role_;
  Version min_version_ = Version::Tls12;
  Version max_version_ = Version::Tls13;
  std::vector<std::string> alpn_;
  bool system_store_ = true;
  bool verify_ = true;
  std::vector<Source> cas_;
  std::optional<Source> chain_;
  std::optional<Source> key_;
};

}  // namespace tern::tls

#endif  // TERN_CORE_TLS_TLS_CONFIG_H_
