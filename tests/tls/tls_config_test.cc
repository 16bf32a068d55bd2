#include "core/tls/tls_config.h"

#include <openssl/ssl.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "core/tls/tls_codec.h"
#include "gtest/gtest.h"
#include "tests/tls/test_pki.h"

namespace tern::tls {
namespace {

using ::tern::tls::testing::test_pki;

std::string temp_file(const std::string& name, const std::string& content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

bool contains(const absl::Status& s, const std::string& needle) {
  return std::string(s.message()).find(needle) != std::string::npos;
}

TEST(TlsConfig, ClientWithSystemStoreBuilds) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client().build();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->role(), Role::Client);
  EXPECT_NE(c->native_handle(), nullptr);
}

TEST(TlsConfig, CopiesShareOneContext) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client().build();
  ASSERT_TRUE(c.ok());
  TlsConfig copy = *c;
  EXPECT_EQ(copy.native_handle(), c->native_handle());
}

TEST(TlsConfig, NoTrustStoreWhenSystemStoreOffAndNoCa) {
  absl::StatusOr<TlsConfig> c =
      TlsConfig::client().use_system_trust_store(false).build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(c.status(), "no trust store")) << c.status();
}

TEST(TlsConfig, NoTrustStoreWhenSystemPathsAreEmpty) {
  std::string file_env = X509_get_default_cert_file_env();
  std::string dir_env = X509_get_default_cert_dir_env();
  setenv(file_env.c_str(), "/nonexistent/cert.pem", 1);
  setenv(dir_env.c_str(), "/nonexistent/certs", 1);
  absl::StatusOr<TlsConfig> c = TlsConfig::client().build();
  unsetenv(file_env.c_str());
  unsetenv(dir_env.c_str());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(c.status(), "/nonexistent/cert.pem")) << c.status();
}

TEST(TlsConfig, DisabledVerificationNeedsNoTrustStore) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client()
                                    .use_system_trust_store(false)
                                    .dangerously_disable_certificate_verification()
                                    .build();
  EXPECT_TRUE(c.ok()) << c.status();
}

TEST(TlsConfig, CaFromPemDerAndFiles) {
  const auto& pki = test_pki();
  std::string der(pki.ca_der.begin(), pki.ca_der.end());
  std::string pem_path = temp_file("ca.pem", pki.ca.cert_pem);
  std::string der_path = temp_file("ca.der", der);
  absl::StatusOr<TlsConfig> c = TlsConfig::client()
                                    .use_system_trust_store(false)
                                    .add_ca_pem(pki.ca.cert_pem)
                                    .add_ca_der(pki.ca_der)
                                    .add_ca_file(pem_path)
                                    .add_ca_file(der_path)
                                    .build();
  EXPECT_TRUE(c.ok()) << c.status();
}

TEST(TlsConfig, BadCaPem) {
  absl::StatusOr<TlsConfig> c =
      TlsConfig::client()
          .add_ca_pem("-----BEGIN CERTIFICATE-----\nnot base64!\n"
                      "-----END CERTIFICATE-----\n")
          .build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(c.status(), "bad PEM")) << c.status();
  // OpenSSL's reason text is carried along.
  EXPECT_TRUE(contains(c.status(), "error:")) << c.status();
}

TEST(TlsConfig, CaPemWithoutCertificate) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client().add_ca_pem("hello").build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(c.status(), "no certificate")) << c.status();
}

TEST(TlsConfig, BadCaDer) {
  const std::uint8_t junk[] = {0x30, 0x03, 0x01, 0x02};
  absl::StatusOr<TlsConfig> c = TlsConfig::client().add_ca_der(junk).build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(c.status(), "bad DER")) << c.status();
}

TEST(TlsConfig, MissingCaFile) {
  absl::StatusOr<TlsConfig> c =
      TlsConfig::client().add_ca_file("/nonexistent/ca.pem").build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(contains(c.status(), "/nonexistent/ca.pem")) << c.status();
  EXPECT_TRUE(contains(c.status(), "No such file")) << c.status();
}

TEST(TlsConfig, ServerFromPemAndFiles) {
  const auto& pki = test_pki();
  absl::StatusOr<TlsConfig> mem = TlsConfig::server()
                                      .certificate_chain_pem(pki.good.cert_pem)
                                      .private_key_pem(pki.good.key_pem)
                                      .build();
  EXPECT_TRUE(mem.ok()) << mem.status();
  std::string cert = temp_file("server.pem", pki.good.cert_pem + pki.ca.cert_pem);
  std::string key = temp_file("server.key", pki.good.key_pem);
  absl::StatusOr<TlsConfig> files = TlsConfig::server()
                                        .certificate_chain_file(cert)
                                        .private_key_file(key)
                                        .build();
  EXPECT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->role(), Role::Server);
}

TEST(TlsConfig, ServerWithoutKey) {
  absl::StatusOr<TlsConfig> c = TlsConfig::server()
                                    .certificate_chain_pem(test_pki().good.cert_pem)
                                    .build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TlsConfig, ServerKeyMismatch) {
  const auto& pki = test_pki();
  absl::StatusOr<TlsConfig> c = TlsConfig::server()
                                    .certificate_chain_pem(pki.good.cert_pem)
                                    .private_key_pem(pki.wrong_host.key_pem)
                                    .build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(c.status(), "does not match")) << c.status();
  EXPECT_TRUE(contains(c.status(), "key values mismatch")) << c.status();
}

TEST(TlsConfig, ServerBadKeyPem) {
  absl::StatusOr<TlsConfig> c =
      TlsConfig::server()
          .certificate_chain_pem(test_pki().good.cert_pem)
          .private_key_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                           "-----END PRIVATE KEY-----\n")
          .build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(c.status(), "private key: bad PEM")) << c.status();
}

TEST(TlsConfig, ServerMissingKeyFile) {
  absl::StatusOr<TlsConfig> c = TlsConfig::server()
                                    .certificate_chain_pem(test_pki().good.cert_pem)
                                    .private_key_file("/nonexistent/key.pem")
                                    .build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
}

TEST(TlsConfig, UnreadableFileIsNotADirectoryRead) {
  const char* dir = std::getenv("TEST_TMPDIR");
  absl::StatusOr<TlsConfig> c =
      TlsConfig::client().add_ca_file(dir ? dir : "/tmp").build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(c.status(), "cannot read")) << c.status();
}

TEST(TlsConfig, BadAlpnName) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client().alpn({"h2", ""}).build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  c = TlsConfig::client().alpn({std::string(256, 'x')}).build();
  EXPECT_FALSE(c.ok());
}

TEST(TlsConfig, VersionRangeInverted) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client()
                                    .min_version(Version::Tls13)
                                    .max_version(Version::Tls12)
                                    .build();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TlsConfig, Tls13OnlySetsMinimum) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client().tls13_only().build();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(SSL_CTX_get_min_proto_version(c->native_handle()), TLS1_3_VERSION);
}

TEST(TlsConfig, CodecRoleMustMatchConfig) {
  absl::StatusOr<TlsConfig> c = TlsConfig::client().build();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(TlsCodec::server(*c).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TlsCodec::client(*c, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TlsCodec::client(*c, "localhost", 1024).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TlsCodec::client(*c, "localhost").ok());
}

}  // namespace
}  // namespace tern::tls
