// Zero allocations in steady state: 100 000 mixed messages encoded by
// FrameWriter (both roles, masking keys drawn from RAND_bytes) and parsed by
// FrameReader, after construction. Counts operator new (alloc_counter) and
// OpenSSL's own mallocs (CRYPTO_set_mem_functions, installed before OpenSSL
// allocates anything), so a RAND_bytes refill that allocated would show.
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/ws/frame_reader.h"
#include "core/ws/frame_writer.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace {

std::atomic<std::size_t> g_openssl_allocs{0};
void* counting_malloc(std::size_t n, const char*, int) {
  g_openssl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
  g_openssl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) { std::free(p); }
const bool g_hooked =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

}  // namespace

namespace tern::ws {
namespace {

TEST(AllocTest, NoAllocationsParsingAndEncoding100000MixedMessages) {
  ASSERT_TRUE(g_hooked) << "OpenSSL allocated before the hook was installed";
  FrameWriter client_w(Role::Client), server_w(Role::Server);
  FrameReader server_r(Role::Server), client_r(Role::Client);
  WriteBuf out(1 << 17);
  ReadBuf in_server(1 << 18), in_client(1 << 18);
  const std::string text128_s(128, 't'), text2048(2048, 'u'), big(70000, 'b');
  const std::string_view text128 = text128_s;
  const std::string utf8_s = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  const std::string_view utf8 = utf8_s;

  std::size_t delivered = 0, bytes = 0;
  const tern::testing::AllocCounter count;
  const std::size_t openssl_before = g_openssl_allocs.load();
  for (int i = 0; i < 100000; ++i) {
    // Each direction runs every case: eight messages one way, eight back.
    const bool from_client = (i / 8) % 2 == 0;
    FrameWriter& w = from_client ? client_w : server_w;
    FrameReader& r = from_client ? server_r : client_r;
    ReadBuf& in = from_client ? in_server : in_client;
    out.clear();
    std::size_t expect = 1;
    switch (i % 8) {
      case 0: ASSERT_TRUE(w.text(out, text128).ok()); break;
      case 1: ASSERT_TRUE(w.binary(out, as_bytes(text128.substr(0, 40))).ok()); break;
      case 2: ASSERT_TRUE(w.text(out, text2048).ok()); break;
      case 3:
        ASSERT_TRUE(w.begin(out, Opcode::Text, as_bytes(utf8.substr(0, 5))).ok());
        ASSERT_TRUE(w.ping(out, as_bytes(std::string_view("hb"))).ok());
        ASSERT_TRUE(w.continue_message(out, as_bytes(utf8.substr(5, 4))).ok());
        ASSERT_TRUE(w.finish(out, as_bytes(utf8.substr(9))).ok());
        expect = 2;
        break;
      case 4: ASSERT_TRUE(w.pong(out, as_bytes(utf8)).ok()); break;
      case 5: ASSERT_TRUE(w.close(out, CloseCode::Normal, "bye").ok()); break;
      case 6: ASSERT_TRUE(w.text(out, utf8).ok()); break;
      default:
        if (i % 64 == 7 || i % 64 == 15) {  // one big frame each way
          ASSERT_TRUE(w.binary(out, as_bytes(big)).ok());
        } else {
          ASSERT_TRUE(out.append(as_bytes(text128)));
          ASSERT_TRUE(w.frame_in_place(out, Opcode::Binary).ok());
        }
    }
    // Deliver in two pieces to exercise the incremental path too.
    const auto data = out.data();
    const std::size_t cut = i % 3 == 0 ? data.size() / 2 : data.size();
    for (auto piece : {data.first(cut), data.subspan(cut)}) {
      if (piece.empty()) continue;
      ASSERT_GE(in.spare().size(), piece.size());
      std::memcpy(in.spare().data(), piece.data(), piece.size());
      ASSERT_TRUE(in.commit(piece.size()));
      for (;;) {
        ReadResult res = r.next(in);
        ASSERT_NE(res.status, ReadStatus::Error) << name(r.error());
        if (res.status == ReadStatus::NeedMore) break;
        ++delivered;
        bytes += res.message.payload.size();
        --expect;
      }
    }
    ASSERT_EQ(expect, 0u) << i;
  }
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_EQ(g_openssl_allocs.load() - openssl_before, 0u) << "RAND_bytes refills allocated";
  EXPECT_GE(delivered, 100000u);
  EXPECT_GT(bytes, 0u);
}

}  // namespace
}  // namespace tern::ws
