// File: handshake_key.h
//
// The two values that bind a WebSocket handshake (RFC 6455 §4.1, §4.2.2):
// the client's Sec-WebSocket-Key, a base64-encoded 16-byte nonce from a
// CSPRNG, and the server's Sec-WebSocket-Accept, base64(SHA-1(key + GUID)).
// Everything is written into caller-provided fixed arrays; nothing allocates.
//
// Base64 comes from OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock rather than
// Abseil: Abseil's public base64 only writes into std::string, which would
// allocate on every handshake.
#ifndef TERN_CORE_WS_HANDSHAKE_KEY_H_
#define TERN_CORE_WS_HANDSHAKE_KEY_H_

#include <array>
#include <string_view>

namespace tern::ws {

// base64 of 16 bytes: 24 characters, the last two "==".
using ClientKey = std::array<char, 24>;
// base64 of a 20-byte SHA-1 digest: 28 characters.
using AcceptKey = std::array<char, 28>;

inline std::string_view view(const ClientKey& k) { return {k.data(), k.size()}; }
inline std::string_view view(const AcceptKey& k) { return {k.data(), k.size()}; }

// Fills `key` with a fresh nonce. False only if the CSPRNG fails (OpenSSL
// RAND_bytes), in which case no key must be used.
[[nodiscard]] bool make_client_key(ClientKey& key) noexcept;

// RFC 6455 §4.2.1 item 5: the key must decode to exactly 16 bytes.
bool is_valid_client_key(std::string_view key) noexcept;

// Sec-WebSocket-Accept for `key` (which the server has validated).
AcceptKey compute_accept(std::string_view key) noexcept;

}  // namespace tern::ws

#endif  // TERN_CORE_WS_HANDSHAKE_KEY_H_
