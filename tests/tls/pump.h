// File: pump.h
//
// Connects a client TlsCodec to a server TlsCodec in memory. Each round moves
// at most one piece of ciphertext per direction, sized by a SplitFn, so tests
// can deliver bytes one at a time, in random pieces, or all at once, and the
// receiving codec runs between pieces.
#ifndef TERN_TESTS_TLS_PUMP_H_
#define TERN_TESTS_TLS_PUMP_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "core/buf/read_buf.h"
#include "core/tls/tls_codec.h"

namespace tern::tls::testing {

// Size of the next piece of ciphertext to deliver (>= 1).
using SplitFn = std::function<std::size_t()>;

inline SplitFn whole() {
  return [] { return std::numeric_limits<std::size_t>::max(); };
}
inline SplitFn bytewise() {
  return [] { return std::size_t{1}; };
}
inline SplitFn random_pieces(std::uint64_t seed, std::size_t max_piece) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng, max_piece] { return 1 + (*rng)() % max_piece; };
}

struct HandshakeOutcome {
  Progress client;
  Progress server;
};

class Pump {
 public:
  Pump(TlsCodec& client, TlsCodec& server, SplitFn split = whole())
      : client_(client), server_(server), split_(std::move(split)) {}

  // Moves one piece from `from`'s pending ciphertext into `to`.
  std::size_t transfer_once(TlsCodec& from, TlsCodec& to) {
    std::span<const std::uint8_t> p = from.pending_ciphertext();
    if (p.empty()) return 0;
    std::size_t n = std::min(p.size(), split_());
    std::size_t accepted = to.feed_ciphertext(p.first(n));
    from.consume_ciphertext(accepted);
    return accepted;
  }

  // Runs both handshakes until neither moves a byte; returns where each
  // stopped (Done/Done on success, Failed on the side(s) that failed).
  HandshakeOutcome handshake(int max_rounds = 1000000) {
    HandshakeOutcome out{Progress::NeedsRead, Progress::NeedsRead};
    for (int i = 0; i < max_rounds; ++i) {
      out.client = client_.handshake();
      out.server = server_.handshake();
      std::size_t moved =
          transfer_once(client_, server_) + transfer_once(server_, client_);
      if (moved == 0) {
        out.client = client_.handshake();
        out.server = server_.handshake();
        if (client_.pending_ciphertext().empty() &&
            server_.pending_ciphertext().empty()) {
          break;
        }
      }
    }
    return out;
  }

  // Sends `to_server` from client to server and `to_client` back at the same
  // time; returns false if either side failed or nothing moved for a while.
  bool exchange(std::span<const std::uint8_t> to_server,
                std::span<const std::uint8_t> to_client,
                std::vector<std::uint8_t>& server_got,
                std::vector<std::uint8_t>& client_got,
                std::size_t read_buf_size = 64 * 1024) {
    ReadBuf client_buf(read_buf_size);
    ReadBuf server_buf(read_buf_size);
    std::size_t sent_c = 0, sent_s = 0;
    int idle = 0;
    while (server_got.size() < to_server.size() ||
           client_got.size() < to_client.size()) {
      std::size_t progress = 0;
      std::size_t n = client_.write_plaintext(to_server.subspan(sent_c));
      sent_c += n;
      progress += n;
      n = server_.write_plaintext(to_client.subspan(sent_s));
      sent_s += n;
      progress += n;
      progress += transfer_once(client_, server_);
      progress += transfer_once(server_, client_);
      if (drain(server_, server_buf, server_got) ||
          drain(client_, client_buf, client_got)) {
        return false;
      }
      idle = progress == 0 ? idle + 1 : 0;
      if (idle > 3) return false;
    }
    return true;
  }

  // Reads all available plaintext; true on failure.
  static bool drain(TlsCodec& codec, ReadBuf& buf,
                    std::vector<std::uint8_t>& got) {
    for (;;) {
      Progress p = codec.read_plaintext(buf);
      got.insert(got.end(), buf.data().begin(), buf.data().end());
      buf.consume(buf.size());
      if (p == Progress::OutputFull) continue;
      return p == Progress::Failed;
    }
  }

 private:
  TlsCodec& client_;
  TlsCodec& server_;
  SplitFn split_;
};

}  // namespace tern::tls::testing

#endif  // TERN_TESTS_TLS_PUMP_H_
