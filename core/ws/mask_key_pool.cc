#include "core/ws/mask_key_pool.h"

#include <openssl/rand.h>

namespace tern::ws {

bool MaskKeyPool::refill() noexcept {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(keys_.data()),
                 static_cast<int>(sizeof(keys_))) != 1) {
    return false;
  }
  next_ = 0;
  return true;
}

}  // namespace tern::ws
