#include "core/ws/mask_key_pool.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace tern::ws {
namespace {
// The keystream is AES-CTR over zeros.
constexpr unsigned char kZeros[sizeof(std::uint32_t) * MaskKeyPool::kKeys] = {};
}  // namespace

void MaskKeyPool::CipherFree::operator()(EVP_CIPHER_CTX* ctx) const noexcept {
  EVP_CIPHER_CTX_free(ctx);
}

MaskKeyPool::MaskKeyPool() noexcept : cipher_(EVP_CIPHER_CTX_new()) { (void)refill(); }

bool MaskKeyPool::rekey() noexcept {
  unsigned char seed[32];  // AES-128 key, then the initial counter block
  if (RAND_bytes(seed, sizeof seed) != 1) return false;
  // The first init fetches the cipher (and may allocate, at construction);
  // later ones only reset the key and counter of the same context.
  const EVP_CIPHER* cipher = keyed_ ? nullptr : EVP_aes_128_ctr();
  if (EVP_EncryptInit_ex(cipher_.get(), cipher, nullptr, seed, seed + 16) != 1) return false;
  OPENSSL_cleanse(seed, sizeof seed);
  keyed_ = true;
  refills_left_ = kRefillsPerRekey;
  return true;
}

bool MaskKeyPool::refill() noexcept {
  unsigned char* out = reinterpret_cast<unsigned char*>(keys_.data());
  if (cipher_ != nullptr && (refills_left_ > 0 || rekey())) {
    int len = 0;
    if (EVP_EncryptUpdate(cipher_.get(), out, &len, kZeros, sizeof kZeros) == 1 &&
        len == static_cast<int>(sizeof kZeros)) {
      --refills_left_;
      next_ = 0;
      return true;
    }
  }
  // No cipher context, or it failed: take the keys from RAND_bytes itself.
  if (RAND_bytes(out, static_cast<int>(sizeof(keys_))) != 1) return false;
  next_ = 0;
  return true;
}

}  // namespace tern::ws
