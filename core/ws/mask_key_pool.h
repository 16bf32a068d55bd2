// File: mask_key_pool.h
//
// MaskKeyPool hands out 32-bit RFC 6455 §5.3 masking keys drawn from OpenSSL's
// CSPRNG. §10.3 requires keys the server (or an intermediary) cannot predict,
// so keys are never a counter; RAND_bytes is called for kKeys keys at a time,
// at construction and whenever the pool drains, so the per-frame cost is one
// array load. It owns a fixed array and allocates nothing itself.
#ifndef TERN_CORE_WS_MASK_KEY_POOL_H_
#define TERN_CORE_WS_MASK_KEY_POOL_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"

namespace tern::ws {

class MaskKeyPool {
 public:
  static constexpr std::size_t kKeys = 256;

  // Fills the pool. A RAND_bytes failure here is retried at the first next().
  MaskKeyPool() noexcept { (void)refill(); }

  // Writes the next key; false if the CSPRNG failed (nothing written).
  bool next(std::uint32_t* key) noexcept {
    if (ABSL_PREDICT_FALSE(next_ == kKeys) && !refill()) return false;
    *key = keys_[next_++];
    return true;
  }

 private:
  ABSL_ATTRIBUTE_COLD bool refill() noexcept;

  std::array<std::uint32_t, kKeys> keys_{};
  std::size_t next_ = kKeys;
};

}  // namespace tern::ws

#endif  // TERN_CORE_WS_MASK_KEY_POOL_H_
