#include "core/tls/tls_config.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/tls/tls_config_internal.h"

namespace tern::tls {
namespace {

struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };
struct X509Free { void operator()(X509* x) const { X509_free(x); } };
struct PkeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

ABSL_ATTRIBUTE_COLD absl::Status ssl_error(absl::StatusCode code,
                                           const std::string& what) {
  return absl::Status(code, openssl_errors(what));
}

absl::StatusOr<std::string> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    absl::StatusCode code = err == ENOENT   ? absl::StatusCode::kNotFound
                            : err == EACCES ? absl::StatusCode::kPermissionDenied
                                            : absl::StatusCode::kInvalidArgument;
    return absl::Status(code, absl::StrCat("cannot read ", path, ": ",
                                           std::strerror(err)));
  }
  std::string out;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int err = errno;
  std::fclose(f);
  if (failed) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(err)));
  }
  return out;
}

BioPtr mem_bio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// Parses every PEM certificate in `pem`; fails if there is none or if any
// block is malformed.
absl::StatusOr<std::vector<X509Ptr>> parse_pem_certs(std::string_view pem,
                                                     const std::string& what) {
  ERR_clear_error();
  BioPtr bio = mem_bio(pem);
  if (!bio) return ssl_error(absl::StatusCode::kInternal, what);
  std::vector<X509Ptr> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(x);
  }
  unsigned long e = ERR_peek_last_error();
  // PEM_R_NO_START_LINE after at least one certificate is the normal end.
  if (!certs.empty() && ERR_GET_LIB(e) == ERR_LIB_PEM &&
      ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  }
  if (certs.empty()) {
    return ssl_error(absl::StatusCode::kInvalidArgument,
                     absl::StrCat(what, ": bad PEM: no certificate found"));
  }
  if (ERR_peek_error() != 0) {
    return ssl_error(absl::StatusCode::kInvalidArgument,
                     absl::StrCat(what, ": bad PEM"));
  }
  return certs;
}

absl::StatusOr<std::string> source_bytes(const std::string& bytes,
                                         bool is_file) {
  if (is_file) return read_file(bytes);
  return bytes;
}

int protocol_version(Version v) {
  return v == Version::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// RFC 7301 §3.2: the server picks from its own list, in its own preference
// order; no overlap is a fatal no_application_protocol alert.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                const unsigned char* in, unsigned int inlen, void* arg) {
  const auto* shared = static_cast<const TlsConfig::Shared*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(
          &selected, outlen,
          reinterpret_cast<const unsigned char*>(shared->alpn_wire.data()),
          static_cast<unsigned int>(shared->alpn_wire.size()), in,
          inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

absl::Status add_cas(SSL_CTX* ctx, const std::string& bytes, bool is_file,
                     bool is_der) {
  absl::StatusOr<std::string> content = source_bytes(bytes, is_file);
  if (!content.ok()) return content.status();
  std::string what = is_file ? absl::StrCat("CA file ", bytes)
                             : std::string("CA certificate");
  std::vector<X509Ptr> certs;
  if (is_der || (is_file && !absl::StrContains(*content, "-----BEGIN"))) {
    ERR_clear_error();
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(content->data());
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(content->size()));
    if (x == nullptr) {
      return ssl_error(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(what, ": bad DER"));
    }
    certs.emplace_back(x);
  } else {
    absl::StatusOr<std::vector<X509Ptr>> parsed =
        parse_pem_certs(*content, what);
    if (!parsed.ok()) return parsed.status();
    certs = std::move(*parsed);
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const X509Ptr& x : certs) {
    if (X509_STORE_add_cert(store, x.get()) != 1) {
      return ssl_error(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(what, ": cannot add to trust store"));
    }
  }
  return absl::OkStatus();
}

absl::Status load_system_store(SSL_CTX* ctx) {
  // OpenSSL's defaults honour SSL_CERT_FILE / SSL_CERT_DIR; Debian's
  // defaults are /usr/lib/ssl/cert.pem and /usr/lib/ssl/certs, which point at
  // /etc/ssl/certs. set_default_verify_paths succeeds even when nothing is
  // there, so check that a store exists to fail early and precisely.
  const char* file = std::getenv(X509_get_default_cert_file_env());
  const char* dir = std::getenv(X509_get_default_cert_dir_env());
  std::string file_path = file ? file : X509_get_default_cert_file();
  std::string dir_path = dir ? dir : X509_get_default_cert_dir();
  std::error_code ec;
  bool have_file = std::filesystem::is_regular_file(file_path, ec);
  bool have_dir = std::filesystem::is_directory(dir_path, ec) &&
                  !std::filesystem::is_empty(dir_path, ec);
  if (!have_file && !have_dir) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no trust store: neither ", file_path, " nor ", dir_path,
        " holds certificates (install ca-certificates, add a CA, or set ",
        X509_get_default_cert_file_env(), ")"));
  }
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return ssl_error(absl::StatusCode::kFailedPrecondition,
                     "cannot load the system trust store");
  }
  return absl::OkStatus();
}

absl::Status load_identity(SSL_CTX* ctx, const std::string& chain_src,
                           bool chain_is_file, const std::string& key_src,
                           bool key_is_file) {
  absl::StatusOr<std::string> chain_pem = source_bytes(chain_src, chain_is_file);
  if (!chain_pem.ok()) return chain_pem.status();
  std::string chain_what = chain_is_file
                               ? absl::StrCat("certificate file ", chain_src)
                               : std::string("certificate chain");
  absl::StatusOr<std::vector<X509Ptr>> chain =
      parse_pem_certs(*chain_pem, chain_what);
  if (!chain.ok()) return chain.status();

  absl::StatusOr<std::string> key_pem = source_bytes(key_src, key_is_file);
  if (!key_pem.ok()) return key_pem.status();
  std::string key_what = key_is_file ? absl::StrCat("key file ", key_src)
                                     : std::string("private key");
  ERR_clear_error();
  BioPtr bio = mem_bio(*key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return ssl_error(absl::StatusCode::kInvalidArgument,
                     absl::StrCat(key_what, ": bad PEM"));
  }
  X509* leaf = (*chain)[0].get();
  if (X509_check_private_key(leaf, key.get()) != 1) {
    return ssl_error(absl::StatusCode::kFailedPrecondition,
                     "private key does not match the certificate");
  }
  if (SSL_CTX_use_certificate(ctx, leaf) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    return ssl_error(absl::StatusCode::kInvalidArgument,
                     "certificate or key rejected");
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, (*chain)[i].get()) != 1) {
      return ssl_error(absl::StatusCode::kInvalidArgument,
                       "intermediate certificate rejected");
    }
  }
  return absl::OkStatus();
}

}  // namespace

ABSL_ATTRIBUTE_COLD std::string openssl_errors(const std::string& what) {
  std::string out(what);
  bool first = true;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    absl::StrAppend(&out, first ? ": " : "; ", buf);
    first = false;
  }
  return out;
}

TlsConfig::Builder TlsConfig::client() { return Builder(Role::Client); }
TlsConfig::Builder TlsConfig::server() { return Builder(Role::Server); }

Role TlsConfig::role() const noexcept { return shared_->role; }
SSL_CTX* TlsConfig::native_handle() const noexcept { return shared_->ctx; }

TlsConfig::Builder& TlsConfig::Builder::add_ca_pem(std::string_view pem) {
  cas_.push_back({Source::kPem, std::string(pem)});
  return *this;
}
TlsConfig::Builder& TlsConfig::Builder::add_ca_der(
    std::span<const std::uint8_t> der) {
  cas_.push_back({Source::kDer, std::string(der.begin(), der.end())});
  return *this;
}
TlsConfig::Builder& TlsConfig::Builder::add_ca_file(std::string path) {
  cas_.push_back({Source::kFile, std::move(path)});
  return *this;
}
TlsConfig::Builder& TlsConfig::Builder::certificate_chain_pem(
    std::string_view pem) {
  chain_ = Source{Source::kPem, std::string(pem)};
  return *this;
}
TlsConfig::Builder& TlsConfig::Builder::certificate_chain_file(
    std::string path) {
  chain_ = Source{Source::kFile, std::move(path)};
  return *this;
}
TlsConfig::Builder& TlsConfig::Builder::private_key_pem(std::string_view pem) {
  key_ = Source{Source::kPem, std::string(pem)};
  return *this;
}
TlsConfig::Builder& TlsConfig::Builder::private_key_file(std::string path) {
  key_ = Source{Source::kFile, std::move(path)};
  return *this;
}

absl::StatusOr<TlsConfig> TlsConfig::Builder::build() const {
  if (min_version_ == Version::Tls13 && max_version_ == Version::Tls12) {
    return absl::InvalidArgumentError(
        "min_version TLS 1.3 is above max_version TLS 1.2");
  }
  std::string alpn_wire;
  for (const std::string& p : alpn_) {
    if (p.empty() || p.size() > 255) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ALPN protocol name must be 1..255 bytes (RFC 7301 §3.1): \"", p,
          "\""));
    }
    alpn_wire.push_back(static_cast<char>(p.size()));
    alpn_wire += p;
  }

  auto shared = std::make_shared<Shared>();
  shared->role = role_;
  shared->verify = verify_;
  shared->alpn_wire = std::move(alpn_wire);

  ERR_clear_error();
  shared->ctx = SSL_CTX_new(role_ == Role::Client ? TLS_client_method()
                                                  : TLS_server_method());
  if (shared->ctx == nullptr) {
    return ssl_error(absl::StatusCode::kInternal, "SSL_CTX_new failed");
  }
  SSL_CTX* ctx = shared->ctx;
  if (SSL_CTX_set_min_proto_version(ctx, protocol_version(min_version_)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, protocol_version(max_version_)) != 1) {
    return ssl_error(absl::StatusCode::kInternal, "cannot set TLS versions");
  }
  // The codec writes one record per SSL_write and may be handed the same
  // bytes at a new address after a partial write (see tls_codec.cc).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  if (role_ == Role::Client) {
    if (chain_ || key_) {
      return absl::InvalidArgumentError(
          "client certificates are not supported by TlsConfig::client()");
    }
    if (verify_) {
      if (system_store_) {
        if (absl::Status s = load_system_store(ctx); !s.ok()) return s;
      } else if (cas_.empty()) {
        return absl::FailedPreconditionError(
            "no trust store: system store switched off and no CA added");
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    for (const Source& ca : cas_) {
      if (absl::Status s = add_cas(ctx, ca.bytes, ca.kind == Source::kFile,
                                   ca.kind == Source::kDer);
          !s.ok()) {
        return s;
      }
    }
    if (!shared->alpn_wire.empty() &&
        SSL_CTX_set_alpn_protos(
            ctx, reinterpret_cast<const unsigned char*>(shared->alpn_wire.data()),
            static_cast<unsigned int>(shared->alpn_wire.size())) != 0) {
      return ssl_error(absl::StatusCode::kInternal, "cannot set ALPN");
    }
  } else {
    if (!chain_ || !key_) {
      return absl::FailedPreconditionError(
          "server needs certificate_chain_* and private_key_*");
    }
    if (!cas_.empty()) {
      return absl::InvalidArgumentError(
          "client certificate verification is not supported by "
          "TlsConfig::server()");
    }
    if (absl::Status s = load_identity(ctx, chain_->bytes,
                                       chain_->kind == Source::kFile,
                                       key_->bytes, key_->kind == Source::kFile);
        !s.ok()) {
      return s;
    }
    if (!shared->alpn_wire.empty()) {
      SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, shared.get());
    }
  }
  ERR_clear_error();
  return TlsConfig(std::move(shared));
}

}  // namespace tern::tls
