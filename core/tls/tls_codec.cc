#include "core/tls/tls_codec.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tls/tls_config_internal.h"

namespace tern::tls {
namespace {

// SSL_get_error(3) needs the thread's error queue empty before an SSL call.
// tern drains it on every failure, so it is normally empty already: peeking
// is a pointer compare, while ERR_clear_error() walks all 16 slots (~5 % of a
// small-record round trip in one perf profile). Clear only when someone else left errors.
inline void clear_stale_errors() {
  if (ABSL_PREDICT_FALSE(ERR_peek_error() != 0)) ERR_clear_error();
}

int clamp_int(std::size_t n) {
  return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

// Maps X509_V_ERR_* (the first verification failure) to a cause.
Error verify_error(long v) {
  switch (v) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
      return Error::HostnameMismatch;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Error::CertificateExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Error::CertificateNotYetValid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return Error::UntrustedCertificate;
    default:
      return Error::CertificateInvalid;
  }
}

}  // namespace

std::string_view name(Progress progress) noexcept {
  switch (progress) {
    case Progress::NeedsRead: return "NeedsRead";
    case Progress::NeedsWrite: return "NeedsWrite";
    case Progress::Done: return "Done";
    case Progress::OutputFull: return "OutputFull";
    case Progress::PeerClosed: return "PeerClosed";
    case Progress::Failed: return "Failed";
  }
  return "Unknown";
}

absl::StatusOr<TlsCodec> TlsCodec::client(const TlsConfig& config,
                                          std::string_view host,
                                          std::size_t buffer_size) {
  if (config.role() != Role::Client) {
    return absl::InvalidArgumentError(
        "TlsCodec::client needs a TlsConfig::client() config");
  }
  TlsCodec codec(config.shared_, Role::Client);
  if (absl::Status s = codec.init(host, buffer_size); !s.ok()) return s;
  return codec;
}

absl::StatusOr<TlsCodec> TlsCodec::server(const TlsConfig& config,
                                          std::size_t buffer_size) {
  if (config.role() != Role::Server) {
    return absl::InvalidArgumentError(
        "TlsCodec::server needs a TlsConfig::server() config");
  }
  TlsCodec codec(config.shared_, Role::Server);
  if (absl::Status s = codec.init({}, buffer_size); !s.ok()) return s;
  return codec;
}

absl::Status TlsCodec::init(std::string_view host, std::size_t buffer_size) {
  if (buffer_size < kMaxRecordPlaintext + kRecordOverhead) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS buffer_size must hold one full record (>= ",
        kMaxRecordPlaintext + kRecordOverhead, ")"));
  }
  ERR_clear_error();
  ssl_ = SSL_new(config_->ctx);
  if (ssl_ == nullptr ||
      BIO_new_bio_pair(&internal_, buffer_size, &network_, buffer_size) != 1) {
    return absl::InternalError(openssl_errors("cannot create TLS session"));
  }
  SSL_set_bio(ssl_, internal_, internal_);  // SSL owns internal_ now.
  // TLS 1.2 renegotiation would let a read need a write and reopen the
  // handshake mid-stream; nothing tern speaks needs it (RFC 8446 drops it).
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);

  if (role_ == Role::Server) {
    SSL_set_accept_state(ssl_);
    return absl::OkStatus();
  }
  SSL_set_connect_state(ssl_);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string name(host);
  if (name.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("host contains a NUL byte");
  }
  if (name.empty()) {
    if (config_->verify) {
      return absl::InvalidArgumentError(
          "host is empty: a verifying client needs a DNS name or IP literal");
    }
    return absl::OkStatus();
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  // An IP literal is matched against iPAddress SANs and never sent as SNI
  // (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted").
  if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1) {
    ERR_clear_error();
    return absl::OkStatus();
  }
  ERR_clear_error();
  if (SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1 ||
      (config_->verify && SSL_set1_host(ssl_, name.c_str()) != 1)) {
    return absl::InvalidArgumentError(
        openssl_errors(absl::StrCat("invalid host name \"", name, "\"")));
  }
  return absl::OkStatus();
}

TlsCodec::TlsCodec(TlsCodec&& other) noexcept
    : config_(std::move(other.config_)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      network_(std::exchange(other.network_, nullptr)),
      internal_(std::exchange(other.internal_, nullptr)),
      retry_len_(other.retry_len_),
      role_(other.role_),
      done_(other.done_),
      peer_closed_(other.peer_closed_),
      close_queued_(other.close_queued_),
      eof_(other.eof_),
      error_(other.error_),
      reason_len_(other.reason_len_) {
  std::memcpy(reason_, other.reason_, sizeof reason_);
}

TlsCodec& TlsCodec::operator=(TlsCodec&& other) noexcept {
  if (this != &other) {
    release();
    config_ = std::move(other.config_);
    ssl_ = std::exchange(other.ssl_, nullptr);
    network_ = std::exchange(other.network_, nullptr);
    internal_ = std::exchange(other.internal_, nullptr);
    retry_len_ = other.retry_len_;
    role_ = other.role_;
    done_ = other.done_;
    peer_closed_ = other.peer_closed_;
    close_queued_ = other.close_queued_;
    eof_ = other.eof_;
    error_ = other.error_;
    reason_len_ = other.reason_len_;
    std::memcpy(reason_, other.reason_, sizeof reason_);
  }
  return *this;
}

TlsCodec::~TlsCodec() { release(); }

void TlsCodec::release() noexcept {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);  // Frees internal_ too.
  } else if (internal_ != nullptr) {
    BIO_free(internal_);
  }
  if (network_ != nullptr) BIO_free(network_);
  ssl_ = nullptr;
  network_ = nullptr;
  internal_ = nullptr;
}

Progress TlsCodec::handshake() noexcept {
  if (ABSL_PREDICT_FALSE(failed())) return Progress::Failed;
  if (!done_) {
    clear_stale_errors();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      done_ = true;
    } else {
      int e = SSL_get_error(ssl_, r);
      if (ABSL_PREDICT_FALSE(e != SSL_ERROR_WANT_READ &&
                             e != SSL_ERROR_WANT_WRITE)) {
        fail(e);
        return Progress::Failed;
      }
    }
  }
  if (BIO_ctrl_pending(network_) > 0) return Progress::NeedsWrite;
  return done_ ? Progress::Done : Progress::NeedsRead;
}

std::span<std::uint8_t> TlsCodec::ciphertext_space() noexcept {
  char* p = nullptr;
  ossl_ssize_t n = BIO_nwrite0(network_, &p);
  if (n <= 0) return {};
  return {reinterpret_cast<std::uint8_t*>(p), static_cast<std::size_t>(n)};
}

void TlsCodec::commit_ciphertext(std::size_t n) noexcept {
  if (n == 0) return;
  char* p = nullptr;
  (void)BIO_nwrite(network_, &p, clamp_int(n));
}

std::size_t TlsCodec::feed_ciphertext(
    std::span<const std::uint8_t> bytes) noexcept {
  std::size_t fed = 0;
  // Two rounds cover a wrap of the ring.
  while (fed < bytes.size()) {
    std::span<std::uint8_t> space = ciphertext_space();
    if (space.empty()) break;
    std::size_t n = std::min(space.size(), bytes.size() - fed);
    std::memcpy(space.data(), bytes.data() + fed, n);
    commit_ciphertext(n);
    fed += n;
  }
  return fed;
}

void TlsCodec::feed_eof() noexcept {
  if (eof_) return;
  eof_ = true;
  // SSL's reads see EOF once the ring drains.
  (void)BIO_shutdown_wr(network_);
}

std::span<const std::uint8_t> TlsCodec::pending_ciphertext() noexcept {
  char* p = nullptr;
  ossl_ssize_t n = BIO_nread0(network_, &p);
  if (n <= 0) return {};
  return {reinterpret_cast<const std::uint8_t*>(p),
          static_cast<std::size_t>(n)};
}

void TlsCodec::consume_ciphertext(std::size_t n) noexcept {
  if (n == 0) return;
  char* p = nullptr;
  (void)BIO_nread(network_, &p, clamp_int(n));
}

Progress TlsCodec::read_plaintext(ReadBuf& out) noexcept {
  if (ABSL_PREDICT_FALSE(failed())) return Progress::Failed;
  if (ABSL_PREDICT_FALSE(peer_closed_)) return Progress::PeerClosed;
  for (;;) {
    std::span<std::uint8_t> spare = out.spare();
    if (spare.empty()) return Progress::OutputFull;
    clear_stale_errors();
    int n = SSL_read(ssl_, spare.data(), clamp_int(spare.size()));
    if (ABSL_PREDICT_TRUE(n > 0)) {
      (void)out.commit(static_cast<std::size_t>(n));
      done_ = true;
      // Skip the SSL_read that would only say WANT_READ: nothing decrypted is
      // buffered and no ciphertext waits in the ring.
      if (!SSL_has_pending(ssl_) && BIO_ctrl_pending(internal_) == 0 &&
          !eof_) {
        return Progress::NeedsRead;
      }
      continue;
    }
    int e = SSL_get_error(ssl_, n);
    switch (e) {
      case SSL_ERROR_WANT_READ:
        if (!done_ && SSL_is_init_finished(ssl_)) done_ = true;
        return Progress::NeedsRead;
      case SSL_ERROR_WANT_WRITE:
        return Progress::NeedsWrite;
      case SSL_ERROR_ZERO_RETURN:  // close_notify (RFC 8446 §6.1)
        peer_closed_ = true;
        return Progress::PeerClosed;
      default:
        fail(e);
        return Progress::Failed;
    }
  }
}

std::size_t TlsCodec::write_plaintext(
    std::span<const std::uint8_t> bytes) noexcept {
  if (ABSL_PREDICT_FALSE(failed() || !done_ ||
                         (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN))) {
    return 0;
  }
  std::size_t total = 0;
  while (total < bytes.size()) {
    std::size_t left = bytes.size() - total;
    std::size_t chunk;
    if (ABSL_PREDICT_FALSE(retry_len_ != 0)) {
      // OpenSSL holds an encrypted record of retry_len_ bytes it could not
      // flush; it must be offered the same bytes again (SSL_write(3)).
      if (left < retry_len_) break;
      chunk = retry_len_;
    } else {
      // Only encrypt what fits, so a record is never left half-flushed.
      std::size_t room = BIO_ctrl_get_write_guarantee(internal_);
      if (room <= kRecordOverhead) break;
      chunk = std::min({left, kMaxRecordPlaintext, room - kRecordOverhead});
    }
    clear_stale_errors();
    int n = SSL_write(ssl_, bytes.data() + total, static_cast<int>(chunk));
    if (ABSL_PREDICT_TRUE(n > 0)) {
      total += static_cast<std::size_t>(n);
      retry_len_ = 0;
      continue;
    }
    int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_WRITE) {
      retry_len_ = chunk;
      break;
    }
    if (e == SSL_ERROR_WANT_READ) break;
    fail(e);
    break;
  }
  return total;
}

std::size_t TlsCodec::outbound_room() const noexcept {
  return internal_ == nullptr ? 0 : BIO_ctrl_get_write_guarantee(internal_);
}

Progress TlsCodec::shutdown() noexcept {
  if (ABSL_PREDICT_FALSE(failed())) return Progress::Failed;
  if (!done_) return Progress::Done;
  // Call SSL_shutdown only until close_notify is in the ring: once sent, a
  // further call would read (and discard) the peer's remaining data while
  // waiting for its close_notify (ssl3_shutdown).
  if (!close_queued_) {
    clear_stale_errors();
    int r = SSL_shutdown(ssl_);
    if (r >= 0) {
      close_queued_ = true;
    } else {
      int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
        fail(e);
        return Progress::Failed;
      }
    }
  }
  return BIO_ctrl_pending(network_) > 0 ? Progress::NeedsWrite
                                        : Progress::Done;
}

std::string_view TlsCodec::alpn() const noexcept {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl_, &p, &n);
  return {reinterpret_cast<const char*>(p), n};
}

std::string_view TlsCodec::server_name() const noexcept {
  const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return name == nullptr ? std::string_view() : std::string_view(name);
}

Version TlsCodec::version() const noexcept {
  return SSL_version(ssl_) == TLS1_3_VERSION ? Version::Tls13
                                             : Version::Tls12;
}

void TlsCodec::fail_with(Error error, std::string_view why) noexcept {
  error_ = error;
  reason_len_ = std::min(why.size(), sizeof reason_ - 1);
  std::memcpy(reason_, why.data(), reason_len_);
  reason_[reason_len_] = '\0';
}

void TlsCodec::fail(int ssl_error) noexcept {
  unsigned long e = ERR_peek_error();
  int lib = ERR_GET_LIB(e);
  int reason = ERR_GET_REASON(e);
  char text[256];
  text[0] = '\0';
  if (e != 0) ERR_error_string_n(e, text, sizeof text);
  Error cause = done_ ? Error::ProtocolFailure : Error::HandshakeFailed;

  long verify = SSL_get_verify_result(ssl_);
  if (role_ == Role::Client && verify != X509_V_OK &&
      (e == 0 || (lib == ERR_LIB_SSL &&
                  reason == SSL_R_CERTIFICATE_VERIFY_FAILED))) {
    char why[256];
    int n = std::snprintf(why, sizeof why, "certificate verify failed: %s (%s)",
                          X509_verify_cert_error_string(verify), text);
    fail_with(verify_error(verify),
              {why, static_cast<std::size_t>(std::clamp(n, 0, 255))});
    ERR_clear_error();
    return;
  }
  if (lib == ERR_LIB_SSL) {
    switch (reason) {
      case SSL_R_UNSUPPORTED_PROTOCOL:
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      case SSL_R_NO_PROTOCOLS_AVAILABLE:
      case SSL_R_VERSION_TOO_LOW:
      case SSL_R_VERSION_TOO_HIGH:
        cause = Error::UnsupportedVersion;
        break;
      case SSL_R_NO_APPLICATION_PROTOCOL:
      case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
        cause = Error::NoApplicationProtocol;
        break;
      case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        cause = Error::NoPeerCertificate;
        break;
      case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        cause = Error::TruncatedStream;
        break;
      default:
        break;
    }
  }
  if (reason == ERR_R_MALLOC_FAILURE || reason == ERR_R_INTERNAL_ERROR) {
    cause = Error::InternalError;
  }
  if (e == 0) {
    if (eof_) {
      cause = Error::TruncatedStream;
      std::snprintf(text, sizeof text, "EOF without close_notify");
    } else {
      std::snprintf(text, sizeof text, "SSL_get_error() = %d", ssl_error);
    }
  }
  fail_with(cause, text);
  ERR_clear_error();
}

}  // namespace tern::tls
