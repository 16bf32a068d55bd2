#include "core/ws/handshake_key.h"

// SHA1_Init and friends are deprecated in OpenSSL 3 but, unlike SHA1() and
// EVP_Digest, never fetch an algorithm object.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdint>

namespace tern::ws {
namespace {

// RFC 6455 §1.3.
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

bool make_client_key(ClientKey& key) noexcept {
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return false;
  unsigned char out[25];  // EVP_EncodeBlock writes a trailing NUL
  EVP_EncodeBlock(out, nonce, sizeof nonce);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(out[i]);
  return true;
}

bool is_valid_client_key(std::string_view key) noexcept {
  // 16 bytes encode to 22 significant characters and "==" padding.
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  unsigned char decoded[18];
  return EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(key.data()),
                         static_cast<int>(key.size())) == 18;
}

AcceptKey compute_accept(std::string_view key) noexcept {
  SHA_CTX sha;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1_Init(&sha);
  SHA1_Update(&sha, key.data(), key.size());
  SHA1_Update(&sha, kGuid.data(), kGuid.size());
  SHA1_Final(digest, &sha);
  unsigned char out[29];
  EVP_EncodeBlock(out, digest, sizeof digest);
  AcceptKey accept;
  for (std::size_t i = 0; i < accept.size(); ++i) accept[i] = static_cast<char>(out[i]);
  return accept;
}

}  // namespace tern::ws
