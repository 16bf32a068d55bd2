#include "tests/tls/test_pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>

namespace tern::tls::testing {
namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test_pki: %s failed\n", what);
    std::abort();
  }
}

EVP_PKEY* new_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, value);
  check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// issuer == nullptr: self-signed with `key`.
X509* new_cert(const char* cn, EVP_PKEY* key, X509* issuer,
               EVP_PKEY* issuer_key, bool is_ca, const char* san,
               long not_before_days, long not_after_days) {
  static long serial = 1;
  X509* cert = X509_new();
  check(cert != nullptr, "X509_new");
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after_days * 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tern test"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1,
                             0);
  X509* signer = issuer != nullptr ? issuer : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(signer));
  if (is_ca) {
    add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert, signer, NID_key_usage, "critical,digitalSignature");
    add_ext(cert, signer, NID_ext_key_usage, "serverAuth");
  }
  add_ext(cert, signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_ext(cert, signer, NID_authority_key_identifier, "keyid:always");
  }
  if (san != nullptr) add_ext(cert, signer, NID_subject_alt_name, san);
  check(X509_sign(cert, issuer_key != nullptr ? issuer_key : key,
                  EVP_sha256()) > 0,
        "X509_sign");
  return cert;
}

std::string cert_pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_X509(bio, cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string key_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

constexpr const char* kGoodSan = "DNS:localhost,IP:127.0.0.1,IP:::1";

CertAndKey leaf(const char* cn, X509* ca, EVP_PKEY* ca_key, const char* san,
                long not_before_days, long not_after_days) {
  EVP_PKEY* key = new_key();
  X509* cert = new_cert(cn, key, ca, ca_key, false, san, not_before_days,
                        not_after_days);
  CertAndKey out{cert_pem(cert), key_pem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

TestPki generate() {
  TestPki pki;
  EVP_PKEY* ca_key = new_key();
  X509* ca = new_cert("tern test CA", ca_key, nullptr, nullptr, true, nullptr,
                      -1, 30);
  pki.ca = {cert_pem(ca), key_pem(ca_key)};
  unsigned char* der = nullptr;
  int n = i2d_X509(ca, &der);
  check(n > 0, "i2d_X509");
  pki.ca_der.assign(der, der + n);
  OPENSSL_free(der);

  pki.good = leaf("localhost", ca, ca_key, kGoodSan, -1, 30);
  pki.wrong_host = leaf("wrong.example", ca, ca_key, "DNS:wrong.example", -1, 30);
  pki.expired = leaf("localhost", ca, ca_key, kGoodSan, -3, -1);
  pki.not_yet_valid = leaf("localhost", ca, ca_key, kGoodSan, 1, 30);
  pki.self_signed = leaf("localhost", nullptr, nullptr, kGoodSan, -1, 30);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return pki;
}

}  // namespace

const TestPki& test_pki() {
  static const TestPki* pki = new TestPki(generate());
  return *pki;
}

TlsConfig server_tls_config(const CertAndKey& id) {
  absl::StatusOr<TlsConfig> c =
      TlsConfig::server().certificate_chain_pem(id.cert_pem).private_key_pem(id.key_pem).build();
  if (!c.ok()) std::abort();
  return *std::move(c);
}

TlsConfig client_tls_config() {
  absl::StatusOr<TlsConfig> c =
      TlsConfig::client().use_system_trust_store(false).add_ca_pem(test_pki().ca.cert_pem).build();
  if (!c.ok()) std::abort();
  return *std::move(c);
}

}  // namespace tern::tls::testing
