// File: test_pki.h
//
// A throwaway PKI generated in memory at test time with OpenSSL's API (no
// private key is ever committed): one CA and server certificates signed by it
// or by themselves, each with its own P-256 key, as PEM strings.
#ifndef TERN_TESTS_TLS_TEST_PKI_H_
#define TERN_TESTS_TLS_TEST_PKI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/tls/tls_config.h"

namespace tern::tls::testing {

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

struct TestPki {
  CertAndKey ca;             // CA:TRUE, self-signed, trusted by test clients
  std::vector<std::uint8_t> ca_der;
  CertAndKey good;           // SAN DNS:localhost, IP:127.0.0.1, IP:::1
  CertAndKey wrong_host;     // SAN DNS:wrong.example
  CertAndKey expired;        // good SANs, notAfter one day ago
  CertAndKey not_yet_valid;  // good SANs, notBefore one day ahead
  CertAndKey self_signed;    // good SANs, signed by its own key
};

// Generated on first use, then shared by the whole process.
const TestPki& test_pki();

// A server configuration presenting `id`, and a client one that trusts the
// test CA only (the system store off). Abort the test on failure: the PKI
// is known-good.
TlsConfig server_tls_config(const CertAndKey& id);
TlsConfig client_tls_config();

}  // namespace tern::tls::testing

#endif  // TERN_TESTS_TLS_TEST_PKI_H_
