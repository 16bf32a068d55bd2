// File: connection_test.cc
//
// ws::Connection proved without sockets: a client and a server Connection
// exchange bytes in memory (one's pending_output() goes into the other's
// read_space()/commit()), or one Connection faces a hand-written peer when a
// test needs bytes no Connection would send. Every connection a test makes
// is checked when the test ends: whatever it ever queued is its handshake
// message followed by whole, valid frames for the peer's role (parsed by a
// FrameReader of that role), with at most one Close and nothing after it.
#include "core/ws/connection.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <numeric>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/url/url.h"
#include "core/ws/handshake_key.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/split_feed.h"
#include "tests/ws/ws_test_util.h"

namespace tern::ws {
namespace {

constexpr char kUrl[] = "ws://example.com:9001/feed?x=1";
// RFC 6455 §1.3's sample nonce, for hand-written upgrade requests.
constexpr char kKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::uint32_t kPeerMask = 0x5A17C3E9;

Role peer_of(Role r) { return r == Role::Client ? Role::Server : Role::Client; }

std::string str(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }
std::span<const std::uint8_t> bytes_of(std::string_view s) { return as_bytes(s); }

ConnectionOptions options() {
  ConnectionOptions o;
  o.limits = {128 * 1024, 256 * 1024};
  o.write_buffer_size = 512 * 1024;
  o.handshake_timeout = absl::Seconds(7);
  o.close_timeout = absl::Seconds(3);
  return o;
}

// Cheaper to build hundreds of times (the every-cut plans).
ConnectionOptions small_options() {
  ConnectionOptions o = options();
  o.limits = {4096, 8192};
  o.write_buffer_size = 16 * 1024;
  return o;
}

Url url_of(const char* text) {
  Url url;
  EXPECT_EQ(parse_url(text, url), UrlError::kNone) << text;
  return url;
}

// ---------------------------------------------------------------------------
// Events, copied (a Message's view dies at the next next()).

struct Ev {
  EventType type = EventType::None;
  Opcode opcode = Opcode::Binary;  // Message; Close for Closed
  std::string payload;             // Message: the payload; Closed: the reason
  std::uint16_t code = 0;          // Closed: the peer's close code
  State state = State::Connecting;  // state() right after next() returned it
  bool operator==(const Ev&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  switch (e.type) {
    case EventType::None: os << "None"; break;
    case EventType::Open: os << "Open"; break;
    case EventType::Message:
      os << "Message(op=" << int(e.opcode) << ", \"" << e.payload.substr(0, 40) << "\""
         << (e.payload.size() > 40 ? "..." : "") << ", " << e.payload.size() << " B)";
      break;
    case EventType::Closed: os << "Closed(" << e.code << ", \"" << e.payload << "\")"; break;
    case EventType::Failed: os << "Failed"; break;
  }
  return os << "@" << name(e.state);
}

Ev open_ev() { return {EventType::Open, Opcode::Binary, "", 0, State::Open}; }
Ev msg_ev(Opcode op, std::string payload, State s = State::Open) {
  return {EventType::Message, op, std::move(payload), 0, s};
}
Ev text_ev(std::string p, State s = State::Open) { return msg_ev(Opcode::Text, std::move(p), s); }
Ev binary_ev(std::string p, State s = State::Open) { return msg_ev(Opcode::Binary, std::move(p), s); }
Ev ping_ev(std::string p, State s = State::Open) { return msg_ev(Opcode::Ping, std::move(p), s); }
Ev pong_ev(std::string p, State s = State::Open) { return msg_ev(Opcode::Pong, std::move(p), s); }
Ev closed_ev(std::uint16_t code, std::string reason = "") {
  return {EventType::Closed, Opcode::Close, std::move(reason), code, State::Closed};
}
Ev failed_ev() { return {EventType::Failed, Opcode::Binary, "", 0, State::Failed}; }

Ev record(const Event& e, State after) {
  Ev r;
  r.type = e.type;
  r.state = after;
  if (e.type == EventType::Message) {
    r.opcode = e.message.opcode;
    r.payload.assign(e.message.text());
  } else if (e.type == EventType::Closed) {
    r.opcode = e.message.opcode;
    r.payload.assign(e.message.close_reason());
    r.code = to_int(e.message.close_code);
  }
  return r;
}

// ---------------------------------------------------------------------------
// What a connection queued, decoded.

struct Wire {
  std::string head;                    // the HTTP handshake message, if any
  std::vector<Opcode> opcodes;         // every frame, walked by hand
  std::vector<testing::Event> frames;  // messages, as a peer-role FrameReader sees them
  std::string error;                   // empty when everything is valid
};

std::uint64_t be(std::string_view s, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[at + i]);
  return v;
}

Wire decode(Role sender, std::string_view bytes) {
  Wire w;
  if (bytes.starts_with("GET ") || bytes.starts_with("HTTP/")) {
    const std::size_t end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos) {  // still being written
      w.head = bytes;
      return w;
    }
    w.head = bytes.substr(0, end + 4);
    bytes.remove_prefix(end + 4);
  }
  // Frame boundaries, independently of FrameReader: the bytes must be whole
  // frames, since a transport may stop after any of them.
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t left = bytes.size() - at;
    if (left < 2) return w.error = "truncated frame header", w;
    std::uint64_t len = static_cast<std::uint8_t>(bytes[at + 1]) & 0x7F;
    std::size_t h = 2;
    if (len == 126) {
      if (left < 4) return w.error = "truncated frame header", w;
      len = be(bytes, at + 2, 2);
      h = 4;
    } else if (len == 127) {
      if (left < 10) return w.error = "truncated frame header", w;
      len = be(bytes, at + 2, 8);
      h = 10;
    }
    if (static_cast<std::uint8_t>(bytes[at + 1]) & 0x80) h += 4;
    if (left < h || left - h < len) return w.error = "truncated frame", w;
    w.opcodes.push_back(static_cast<Opcode>(bytes[at] & 0x0F));
    at += h + len;
  }
  const testing::Bytes raw(bytes.begin(), bytes.end());
  w.frames = testing::feed(peer_of(sender), {1u << 24, 1u << 24}, raw, {raw.size()}, raw.size() + 64);
  for (const testing::Event& e : w.frames) {
    if (e.status == ReadStatus::Error) w.error = "FrameReader: " + std::string(name(e.error));
  }
  const auto closes = std::count(w.opcodes.begin(), w.opcodes.end(), Opcode::Close);
  if (closes > 1) w.error = "more than one Close";
  if (closes == 1 && w.opcodes.back() != Opcode::Close) w.error = "a frame after Close";
  return w;
}

// The frames of a decoded output, as comparable values.
std::vector<testing::Event> frames_of(Role sender, std::string_view bytes) {
  Wire w = decode(sender, bytes);
  EXPECT_EQ(w.error, "");
  return w.frames;
}

testing::Event close_frame(std::uint16_t code, std::string reason = "") {
  std::string payload;
  if (code != 1005) payload = {char(code >> 8), char(code & 0xFF)};
  return testing::message_event(Opcode::Close, payload + reason, code);
}
testing::Event pong_frame(std::string p) { return testing::message_event(Opcode::Pong, std::move(p)); }

// ---------------------------------------------------------------------------
// An endpoint: a Connection, everything the "transport" took from it, and the
// events it produced.

struct Endpoint {
  explicit Endpoint(Connection conn) : c(std::move(conn)) {}

  Connection c;
  std::string wire;
  std::vector<Ev> events;

  // Takes up to `max` bytes of output, as a transport would.
  std::string take(std::size_t max = std::numeric_limits<std::size_t>::max()) {
    const Connection::Bytes out = c.pending_output();
    const std::size_t n = std::min(max, out.size());
    std::string s(reinterpret_cast<const char*>(out.data()), n);
    c.consume_output(n);
    wire += s;
    return s;
  }
  // The output not yet taken, without taking it.
  std::string pending() { return str(c.pending_output()); }

  // next() until None, recording each event (bounded).
  std::vector<Ev> drain() {
    std::vector<Ev> got;
    for (int i = 0; i < 1000000; ++i) {
      const Event e = c.next();
      if (e.type == EventType::None) break;
      got.push_back(record(e, c.state()));
    }
    events.insert(events.end(), got.begin(), got.end());
    return got;
  }

  // Receives `bytes` in the pieces of `pieces` (one piece if empty), calling
  // next() until None after each, and returns the events.
  std::vector<Ev> feed(std::string_view bytes, const std::vector<std::size_t>& pieces = {}) {
    std::vector<Ev> got;
    std::vector<std::size_t> plan = pieces.empty() ? std::vector<std::size_t>{bytes.size()} : pieces;
    std::size_t off = 0;
    for (std::size_t piece : plan) {
      while (piece > 0) {
        const std::span<std::uint8_t> space = c.read_space();
        const std::size_t k = std::min(piece, space.size());
        if (k == 0) {
          ADD_FAILURE() << "read_space() is empty after next() returned None: stalled";
          return got;
        }
        std::memcpy(space.data(), bytes.data() + off, k);
        c.commit(k);
        off += k;
        piece -= k;
        std::vector<Ev> more = drain();
        got.insert(got.end(), more.begin(), more.end());
      }
    }
    return got;
  }
  std::vector<Ev> eof() {
    c.receive_eof();
    return drain();
  }
};

// Moves everything `from` has queued into `to`; returns `to`'s new events.
std::vector<Ev> transfer(Endpoint& from, Endpoint& to) { return to.feed(from.take()); }

// Both ways until neither has anything queued (bounded).
void pump(Endpoint& a, Endpoint& b) {
  for (int i = 0; i < 100; ++i) {
    if (a.c.pending_output().empty() && b.c.pending_output().empty()) return;
    transfer(a, b);
    transfer(b, a);
  }
  ADD_FAILURE() << "pump did not settle";
}

// The invariant every test ends with (see the file comment).
void expect_valid_output(Endpoint& e) {
  if (e.c.failure().cause == FailureCause::Aborted) {
    // abort() drops what was queued: what went out before is any prefix.
    EXPECT_TRUE(e.c.pending_output().empty());
    return;
  }
  const std::string all = e.wire + e.pending();
  const Wire w = decode(e.c.role(), all);
  EXPECT_EQ(w.error, "") << "role " << (e.c.role() == Role::Client ? "client" : "server");
  if (e.c.role() == Role::Client) {
    EXPECT_TRUE(w.head.starts_with("GET ")) << w.head;
  } else if (!all.empty()) {
    EXPECT_TRUE(w.head.starts_with("HTTP/1.1 ")) << all.substr(0, 80);
    if (!w.head.starts_with("HTTP/1.1 101 ")) {
      EXPECT_TRUE(w.opcodes.empty()) << "frames after a rejection";
    }
  }
}

// A masked (to a server) or unmasked (to a client) frame from a hand-written peer.
std::string from_peer(Role receiver, std::uint8_t b0, std::string_view payload, int length_bytes = -1) {
  const testing::Bytes f = testing::frame(
      b0, testing::bytes(payload),
      receiver == Role::Server ? std::optional<std::uint32_t>(kPeerMask) : std::nullopt, length_bytes);
  return {f.begin(), f.end()};
}

std::string upgrade_request(std::string_view extra = "", std::string_view version = "13",
                            std::string_view method = "GET") {
  return std::string(method) +
         " /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Key: " +
         kKey + "\r\nSec-WebSocket-Version: " + std::string(version) + "\r\n" + std::string(extra) +
         "\r\n";
}

std::string header_value(std::string_view message, std::string_view field) {
  const std::string tag = "\r\n" + std::string(field) + ": ";
  const std::size_t at = message.find(tag);
  if (at == std::string_view::npos) return "";
  const std::size_t from = at + tag.size();
  return std::string(message.substr(from, message.find("\r\n", from) - from));
}

std::string response_101(std::string_view key, std::string_view extra = "") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         std::string(view(compute_accept(key))) + "\r\n" + std::string(extra) + "\r\n";
}

class ConnectionTest : public ::testing::Test {
 protected:
  Endpoint& client(const ConnectionOptions& o = options(), const char* url = kUrl) {
    absl::StatusOr<Connection> c = Connection::client(url_of(url), o);
    EXPECT_TRUE(c.ok()) << c.status();
    return endpoints_.emplace_back(*std::move(c));
  }
  Endpoint& server(const ConnectionOptions& o = options()) {
    absl::StatusOr<Connection> s = Connection::server(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return endpoints_.emplace_back(*std::move(s));
  }
  std::pair<Endpoint&, Endpoint&> open_pair(const ConnectionOptions& co = options(),
                                            const ConnectionOptions& so = options()) {
    Endpoint& c = client(co);
    Endpoint& s = server(so);
    pump(c, s);
    EXPECT_EQ(c.events, std::vector<Ev>{open_ev()});
    EXPECT_EQ(s.events, std::vector<Ev>{open_ev()});
    c.events.clear();
    s.events.clear();
    return {c, s};
  }
  // A connection of `role`, Open, facing a hand-written peer.
  Endpoint& open_raw(Role role, const ConnectionOptions& o = options()) {
    if (role == Role::Server) {
      Endpoint& s = server(o);
      EXPECT_EQ(s.feed(upgrade_request()), std::vector<Ev>{open_ev()});
      EXPECT_TRUE(s.take().starts_with("HTTP/1.1 101 "));
      s.events.clear();
      return s;
    }
    Endpoint& c = client(o);
    const std::string request = c.take();
    EXPECT_EQ(c.feed(response_101(header_value(request, "Sec-WebSocket-Key"))),
              std::vector<Ev>{open_ev()});
    c.events.clear();
    return c;
  }
  Endpoint& open_pair_side(Role role) {
    auto [c, s] = open_pair();
    return role == Role::Client ? c : s;
  }

  void TearDown() override {
    for (Endpoint& e : endpoints_) expect_valid_output(e);
  }

  std::deque<Endpoint> endpoints_;
};

const Role kRoles[] = {Role::Client, Role::Server};
const char* role_name(Role r) { return r == Role::Client ? "client" : "server"; }

// ---------------------------------------------------------------------------
// Names.

TEST(ConnectionNames, StatesAndCauses) {
  EXPECT_EQ(name(State::Connecting), "Connecting");
  EXPECT_EQ(name(State::Open), "Open");
  EXPECT_EQ(name(State::Closing), "Closing");
  EXPECT_EQ(name(State::Closed), "Closed");
  EXPECT_EQ(name(State::Failed), "Failed");
  EXPECT_EQ(name(FailureCause::None), "None");
  EXPECT_EQ(name(FailureCause::Protocol), "Protocol");
  EXPECT_EQ(name(FailureCause::Handshake), "Handshake");
  EXPECT_EQ(name(FailureCause::ConnectionLost), "ConnectionLost");
  EXPECT_EQ(name(FailureCause::HandshakeTimeout), "HandshakeTimeout");
  EXPECT_EQ(name(FailureCause::CloseTimeout), "CloseTimeout");
  EXPECT_EQ(name(FailureCause::Aborted), "Aborted");
}

// ---------------------------------------------------------------------------
// Opening handshake.

TEST_F(ConnectionTest, HandshakeNegotiatesSubprotocolAndSendsExtraHeaders) {
  ConnectionOptions co = options();
  co.subprotocols = {"chat.v2", "chat.v1"};
  co.extra_headers = {{"Origin", "https://app.example"}};
  ConnectionOptions so = options();
  so.subprotocols = {"chat.v1", "chat.v2"};  // the server's preference wins
  so.extra_headers = {{"Server", "tern-test"}};
  Endpoint& c = client(co);
  Endpoint& s = server(so);

  for (Endpoint* e : {&c, &s}) {
    EXPECT_EQ(e->c.state(), State::Connecting);
    EXPECT_FALSE(e->c.is_open());
    EXPECT_EQ(e->c.timeout(), absl::Seconds(7));
    EXPECT_EQ(e->c.next().type, EventType::None);
    EXPECT_EQ(e->c.failure().cause, FailureCause::None);
    EXPECT_FALSE(e->c.finished());
    EXPECT_EQ(e->c.send_text("early").error, Error::NotOpen);
    EXPECT_EQ(e->c.close().error, Error::NotOpen);
  }
  EXPECT_EQ(c.c.role(), Role::Client);
  EXPECT_EQ(s.c.role(), Role::Server);
  EXPECT_TRUE(s.c.pending_output().empty());
  EXPECT_EQ(c.c.limits().max_frame_size, 128u * 1024);
  EXPECT_EQ(c.c.write_capacity(), 512u * 1024);

  const std::string request = c.take();
  EXPECT_TRUE(request.starts_with("GET /feed?x=1 HTTP/1.1\r\n")) << request;
  EXPECT_EQ(header_value(request, "Host"), "example.com:9001");
  EXPECT_EQ(header_value(request, "Sec-WebSocket-Protocol"), "chat.v2, chat.v1");
  EXPECT_EQ(header_value(request, "Origin"), "https://app.example");
  const std::string key = header_value(request, "Sec-WebSocket-Key");
  EXPECT_TRUE(is_valid_client_key(key)) << key;

  EXPECT_EQ(s.feed(request), std::vector<Ev>{open_ev()});
  EXPECT_EQ(s.c.subprotocol(), "chat.v1");
  EXPECT_EQ(s.c.timeout(), absl::InfiniteDuration());
  const std::string response = s.take();
  EXPECT_TRUE(response.starts_with("HTTP/1.1 101 ")) << response;
  EXPECT_EQ(header_value(response, "Sec-WebSocket-Accept"), view(compute_accept(key)));
  EXPECT_EQ(header_value(response, "Sec-WebSocket-Protocol"), "chat.v1");
  EXPECT_EQ(header_value(response, "Server"), "tern-test");

  EXPECT_EQ(c.feed(response), std::vector<Ev>{open_ev()});
  EXPECT_EQ(c.c.subprotocol(), "chat.v1");
  for (Endpoint* e : {&c, &s}) {
    EXPECT_TRUE(e->c.is_open());
    EXPECT_EQ(e->c.timeout(), absl::InfiniteDuration());
    EXPECT_EQ(e->c.next().type, EventType::None);
    EXPECT_FALSE(e->c.finished());
  }
}

TEST_F(ConnectionTest, NoCommonSubprotocolStillOpens) {
  ConnectionOptions co = options();
  co.subprotocols = {"a"};
  ConnectionOptions so = options();
  so.subprotocols = {"b"};
  auto [c, s] = open_pair(co, so);
  EXPECT_EQ(c.c.subprotocol(), "");
  EXPECT_EQ(s.c.subprotocol(), "");
  EXPECT_EQ(header_value(c.wire, "Sec-WebSocket-Protocol"), "a");
  EXPECT_EQ(s.wire.find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST_F(ConnectionTest, BadConfigurationIsInvalidArgument) {
  EXPECT_EQ(Connection::client(url_of("http://example.com/"), options()).status().code(),
            absl::StatusCode::kInvalidArgument);
  ConnectionOptions o = options();
  o.subprotocols = {"not a token"};
  EXPECT_EQ(Connection::client(url_of(kUrl), o).status().code(), absl::StatusCode::kInvalidArgument);
  o = options();
  o.extra_headers = {{"Bad Name", "v"}};
  EXPECT_EQ(Connection::client(url_of(kUrl), o).status().code(), absl::StatusCode::kInvalidArgument);
  o.extra_headers = {{"X-Injected", "a\r\nb"}};
  EXPECT_EQ(Connection::client(url_of(kUrl), o).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Connection::server(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ConnectionTest, FramesInTheSameReadAsTheHandshake) {
  Endpoint& s = server();
  EXPECT_EQ(s.feed(upgrade_request() + from_peer(Role::Server, 0x81, "first")),
            (std::vector<Ev>{open_ev(), text_ev("first")}));
  Endpoint& c = client();
  const std::string key = header_value(c.take(), "Sec-WebSocket-Key");
  EXPECT_EQ(c.feed(response_101(key) + from_peer(Role::Client, 0x82, "x") + from_peer(Role::Client, 0x89, "p")),
            (std::vector<Ev>{open_ev(), binary_ev("x"), ping_ev("p")}));
  EXPECT_EQ(frames_of(Role::Client, c.take()), std::vector<testing::Event>{pong_frame("p")});
}

// ---------------------------------------------------------------------------
// A whole conversation, fed whole, byte by byte, at every cut and in random
// pieces: the same events and the same replies every time.

void send_script(Connection& c, bool big) {
  auto ok = [](EncodeResult r) { EXPECT_TRUE(r.ok()) << name(r.error); };
  const std::string b300(300, 'b');
  ok(c.send_text("hello"));
  const std::uint8_t raw[] = {0, 1, 2, 255};
  ok(c.send_binary(raw));
  ok(c.send_ping(bytes_of("p1")));
  ok(c.send_pong(bytes_of("unsolicited")));
  ok(c.begin_message(Opcode::Text, bytes_of("frag")));
  ok(c.send_ping(bytes_of("mid")));  // control frames may interleave (RFC 6455 §5.4)
  ok(c.continue_message(bytes_of("men")));
  ok(c.continue_message(bytes_of("ted \xE2\x82")));  // a code point split across fragments
  ok(c.finish_message(bytes_of("\xAC")));
  ok(c.begin_message(Opcode::Binary, {}));
  ok(c.finish_message(bytes_of("B")));
  ok(c.send_text(""));
  ok(c.send_binary(bytes_of(b300)));
  if (big) {
    const std::string b70k(70000, 'L');  // 64-bit length
    ok(c.send_binary(bytes_of(b70k)));
    const std::string f(5000, 'f');
    ok(c.begin_message(Opcode::Text, bytes_of(f)));
    ok(c.continue_message(bytes_of(f)));
    ok(c.finish_message(bytes_of(f)));
  }
}

std::vector<Ev> script_events(bool big, Ev closed) {
  std::vector<Ev> e = {open_ev(),
                       text_ev("hello"),
                       binary_ev(std::string("\0\1\2\xFF", 4)),
                       ping_ev("p1"),
                       pong_ev("unsolicited"),
                       ping_ev("mid"),
                       text_ev("fragmented \xE2\x82\xAC"),
                       binary_ev("B"),
                       text_ev(""),
                       binary_ev(std::string(300, 'b'))};
  if (big) {
    e.push_back(binary_ev(std::string(70000, 'L')));
    e.push_back(text_ev(std::string(15000, 'f')));
  }
  e.push_back(std::move(closed));
  return e;
}

std::vector<tern::testing::SplitPlan> plans_for(std::size_t n, bool big) {
  return big ? testing::plans_for(n, 7) : tern::testing::split_plans(n, 7);
}

// The server side: the client's request and frames, split every way.
void server_conversation(bool big) {
  ConnectionOptions o = big ? options() : small_options();
  Endpoint c(*Connection::client(url_of(kUrl), o));
  Endpoint scratch(*Connection::server(o));
  transfer(c, scratch);
  ASSERT_EQ(transfer(scratch, c), std::vector<Ev>{open_ev()});
  send_script(c.c, big);
  ASSERT_TRUE(c.c.close(CloseCode::Normal, "bye").ok());
  c.take();
  const std::string stream = c.wire;
  expect_valid_output(c);

  const std::vector<Ev> expected = script_events(big, closed_ev(1000, "bye"));
  std::string reference;  // the server's replies: deterministic (unmasked)
  for (const tern::testing::SplitPlan& plan : plans_for(stream.size(), big)) {
    SCOPED_TRACE(plan.name);
    Endpoint s(*Connection::server(o));
    s.feed(stream, plan.pieces);
    ASSERT_EQ(s.events, expected);
    EXPECT_FALSE(s.c.finished());  // the echo is still queued
    s.take();
    EXPECT_TRUE(s.c.finished());
    if (reference.empty()) {
      reference = s.wire;
      const Wire w = decode(Role::Server, reference);
      EXPECT_TRUE(w.head.starts_with("HTTP/1.1 101 "));
      EXPECT_EQ(w.frames, (std::vector<testing::Event>{pong_frame("p1"), pong_frame("mid"),
                                                       close_frame(1000)}));
    }
    ASSERT_EQ(s.wire, reference);
    expect_valid_output(s);
  }
}

// The client side: the server's 101 and frames, split every way.
void client_conversation(bool big) {
  ConnectionOptions o = big ? options() : small_options();
  const std::vector<Ev> expected = script_events(big, closed_ev(1001, "going"));
  std::vector<tern::testing::SplitPlan> plans;
  std::vector<testing::Event> reference;
  for (std::size_t i = 0; i == 0 || i < plans.size(); ++i) {
    // A fresh pair per plan: the 101 answers that client's own key.
    Endpoint c(*Connection::client(url_of(kUrl), o));
    Endpoint s(*Connection::server(o));
    ASSERT_EQ(transfer(c, s), std::vector<Ev>{open_ev()});
    send_script(s.c, big);
    ASSERT_TRUE(s.c.close(CloseCode::GoingAway, "going").ok());
    const std::string stream = s.take();
    if (plans.empty()) plans = plans_for(stream.size(), big);
    const tern::testing::SplitPlan& plan = plans[i];
    SCOPED_TRACE(plan.name);
    ASSERT_EQ(std::size_t(stream.size()), std::size_t(std::accumulate(plan.pieces.begin(), plan.pieces.end(), std::size_t{0})));
    c.feed(stream, plan.pieces);
    ASSERT_EQ(c.events, expected);
    c.take();
    EXPECT_TRUE(c.c.finished());
    const std::vector<testing::Event> frames = frames_of(Role::Client, c.wire);
    if (reference.empty()) {
      reference = frames;
      EXPECT_EQ(reference, (std::vector<testing::Event>{pong_frame("p1"), pong_frame("mid"),
                                                        close_frame(1001)}));
    }
    ASSERT_EQ(frames, reference);
    expect_valid_output(c);
    expect_valid_output(s);
  }
}

TEST(ConnectionConversation, ServerSeesTheSameAtEverySplit) { server_conversation(false); }
TEST(ConnectionConversation, ClientSeesTheSameAtEverySplit) { client_conversation(false); }
TEST(ConnectionConversation, ServerLargeMessagesAtManySplits) { server_conversation(true); }
TEST(ConnectionConversation, ClientLargeMessagesAtManySplits) { client_conversation(true); }

// ---------------------------------------------------------------------------
// Messages.

TEST_F(ConnectionTest, TextAndBinaryBothWays) {
  auto [c, s] = open_pair();
  ASSERT_TRUE(c.c.send_text("from client").ok());
  ASSERT_TRUE(c.c.send_binary(bytes_of(std::string(70000, '\x7F'))).ok());
  EXPECT_EQ(transfer(c, s), (std::vector<Ev>{text_ev("from client"), binary_ev(std::string(70000, '\x7F'))}));
  ASSERT_TRUE(s.c.send_text("from server").ok());
  ASSERT_TRUE(s.c.send_binary(bytes_of(std::string("\0\1", 2))).ok());
  EXPECT_EQ(transfer(s, c), (std::vector<Ev>{text_ev("from server"), binary_ev(std::string("\0\1", 2))}));
  // Sending while a Message view is alive is fine (documented).
  ASSERT_TRUE(c.c.send_text("view").ok());
  const Event view_event = [&] {
    const std::string bytes = c.take();
    const std::span<std::uint8_t> space = s.c.read_space();
    std::memcpy(space.data(), bytes.data(), bytes.size());
    s.c.commit(bytes.size());
    return s.c.next();
  }();
  ASSERT_EQ(view_event.type, EventType::Message);
  ASSERT_TRUE(s.c.send_text("more").ok());
  ASSERT_TRUE(s.c.send_binary(bytes_of(std::string(1000, 'm'))).ok());
  EXPECT_EQ(view_event.message.text(), "view");
}

TEST_F(ConnectionTest, PingIsAnsweredAutomaticallyBothWays) {
  for (Role pinger : kRoles) {
    SCOPED_TRACE(role_name(pinger));
    auto [c, s] = open_pair();
    Endpoint& a = pinger == Role::Client ? c : s;
    Endpoint& b = pinger == Role::Client ? s : c;
    ASSERT_TRUE(a.c.send_ping(bytes_of("are you there")).ok());
    ASSERT_TRUE(a.c.send_ping().ok());
    EXPECT_EQ(transfer(a, b), (std::vector<Ev>{ping_ev("are you there"), ping_ev("")}));
    EXPECT_EQ(frames_of(b.c.role(), b.pending()),
              (std::vector<testing::Event>{pong_frame("are you there"), pong_frame("")}));
    EXPECT_EQ(transfer(b, a), (std::vector<Ev>{pong_ev("are you there"), pong_ev("")}));
  }
}

TEST_F(ConnectionTest, AutoPongOffDeliversThePingAndQueuesNothing) {
  for (Role pinged : kRoles) {
    SCOPED_TRACE(role_name(pinged));
    ConnectionOptions quiet = options();
    quiet.auto_pong = false;
    auto [c, s] = pinged == Role::Client ? open_pair(quiet, options()) : open_pair(options(), quiet);
    Endpoint& a = pinged == Role::Client ? s : c;
    Endpoint& b = pinged == Role::Client ? c : s;
    ASSERT_TRUE(a.c.send_ping(bytes_of("x")).ok());
    EXPECT_EQ(transfer(a, b), std::vector<Ev>{ping_ev("x")});
    EXPECT_TRUE(b.c.pending_output().empty());
    ASSERT_TRUE(b.c.send_pong(bytes_of("manual")).ok());
    EXPECT_EQ(transfer(b, a), std::vector<Ev>{pong_ev("manual")});
  }
}

TEST_F(ConnectionTest, FragmentedMessagesBothWaysAndMisuse) {
  for (Role sender : kRoles) {
    SCOPED_TRACE(role_name(sender));
    auto [c, s] = open_pair();
    Endpoint& a = sender == Role::Client ? c : s;
    Endpoint& b = sender == Role::Client ? s : c;
    const std::size_t before = a.c.pending_output().size();
    EXPECT_EQ(a.c.continue_message(bytes_of("x")).error, Error::NoMessageInProgress);
    EXPECT_EQ(a.c.finish_message().error, Error::NoMessageInProgress);
    EXPECT_EQ(a.c.begin_message(Opcode::Ping, bytes_of("x")).error, Error::BadOpcode);
    EXPECT_EQ(a.c.pending_output().size(), before);  // on error nothing is queued

    ASSERT_TRUE(a.c.begin_message(Opcode::Binary, bytes_of("one,")).ok());
    EXPECT_EQ(a.c.send_text("interleaved").error, Error::MessageInProgress);
    EXPECT_EQ(a.c.begin_message(Opcode::Text, {}).error, Error::MessageInProgress);
    ASSERT_TRUE(a.c.send_pong(bytes_of("ctl")).ok());
    // Nothing is delivered before the last fragment.
    EXPECT_EQ(transfer(a, b), std::vector<Ev>{pong_ev("ctl")});
    ASSERT_TRUE(a.c.continue_message(bytes_of("two,")).ok());
    EXPECT_EQ(transfer(a, b), std::vector<Ev>{});
    ASSERT_TRUE(a.c.finish_message(bytes_of("three")).ok());
    EXPECT_EQ(transfer(a, b), std::vector<Ev>{binary_ev("one,two,three")});
    ASSERT_TRUE(a.c.begin_message(Opcode::Text, bytes_of("t")).ok());
    ASSERT_TRUE(a.c.finish_message().ok());
    EXPECT_EQ(transfer(a, b), std::vector<Ev>{text_ev("t")});
  }
}

TEST_F(ConnectionTest, MovedConnectionCarriesOn) {
  auto [c, s] = open_pair();
  ASSERT_TRUE(c.c.send_text("before").ok());
  Connection moved = std::move(s.c);
  s.c = std::move(moved);
  EXPECT_EQ(transfer(c, s), std::vector<Ev>{text_ev("before")});
  ASSERT_TRUE(s.c.send_ping(bytes_of("after")).ok());
  EXPECT_EQ(transfer(s, c), std::vector<Ev>{ping_ev("after")});
  EXPECT_EQ(transfer(c, s), std::vector<Ev>{pong_ev("after")});
}

TEST_F(ConnectionTest, MovedMidHandshakeCarriesOn) {
  Endpoint& c = client();
  Endpoint& s = server();
  const std::string request = c.take();
  EXPECT_EQ(s.feed(request.substr(0, 50)), std::vector<Ev>{});
  Connection moved_server = std::move(s.c);
  s.c = std::move(moved_server);
  EXPECT_EQ(s.feed(request.substr(50)), std::vector<Ev>{open_ev()});
  const std::string response = s.take();
  EXPECT_EQ(c.feed(response.substr(0, 30)), std::vector<Ev>{});
  Connection moved_client = std::move(c.c);
  c.c = std::move(moved_client);
  EXPECT_EQ(c.feed(response.substr(30)), std::vector<Ev>{open_ev()});
  ASSERT_TRUE(c.c.send_text("after moves").ok());
  EXPECT_EQ(transfer(c, s), std::vector<Ev>{text_ev("after moves")});
}

TEST_F(ConnectionTest, CommitIsClampedToReadSpace) {
  ConnectionOptions o = options();
  o.read_buffer_size = 512;
  Endpoint& s = open_raw(Role::Server, o);
  const std::string f = from_peer(Role::Server, 0x81, "fits");
  const std::span<std::uint8_t> space = s.c.read_space();
  ASSERT_EQ(space.size(), 512u);
  std::memset(space.data(), 0, space.size());
  std::memcpy(space.data(), f.data(), f.size());
  s.c.commit(f.size());
  s.c.commit(100000);  // clamped: the zeroed rest of the buffer, which no peer may send
  EXPECT_EQ(s.c.read_buffer().size(), 512u);
  EXPECT_EQ(s.drain(), (std::vector<Ev>{text_ev("fits"), failed_ev()}));
}

// read_space() is never empty once next() has returned None, even after a
// message that filled the whole buffer.
TEST_F(ConnectionTest, ReadSpaceAfterAMessageThatFillsTheBuffer) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    ConnectionOptions o = options();
    o.read_buffer_size = 512;
    Endpoint& e = open_raw(role, o);
    const std::size_t header = role == Role::Server ? 8 : 4;
    const std::string f = from_peer(role, 0x82, std::string(512 - header, 'F'));
    ASSERT_EQ(f.size(), 512u);
    // Until next() is called again the delivered message holds the whole
    // buffer, so read_space() is empty then (and that is no failure).
    const std::span<std::uint8_t> space = e.c.read_space();
    std::memcpy(space.data(), f.data(), f.size());
    e.c.commit(f.size());
    const Event full = e.c.next();
    ASSERT_EQ(full.type, EventType::Message);
    EXPECT_EQ(full.message.payload.size(), 512 - header);
    EXPECT_TRUE(e.c.read_space().empty());
    EXPECT_EQ(e.c.next().type, EventType::None);
    EXPECT_EQ(e.c.read_space().size(), 512u);
    // One byte more than fits can never arrive: the reader says so at once.
    EXPECT_EQ(e.feed(from_peer(role, 0x82, std::string(512 - header + 1, 'G')).substr(0, 4)),
              std::vector<Ev>{failed_ev()});
    EXPECT_EQ(e.c.failure().frame_error, Error::BufferTooSmall);
    EXPECT_EQ(e.c.failure().close_sent, CloseCode::MessageTooBig);
  }
}

TEST_F(ConnectionTest, UpgradeRequestMustFitTheWriteBuffer) {
  ConnectionOptions o = options();
  o.write_buffer_size = 0;  // raised to 512
  o.extra_headers = {{"Cookie", std::string(600, 'c')}};
  EXPECT_EQ(Connection::client(url_of(kUrl), o).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(ConnectionTest, HandshakeFramesAndEofInOneRead) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = role == Role::Server ? server() : client();
    const std::string head = role == Role::Server
                                 ? upgrade_request()
                                 : response_101(header_value(e.take(), "Sec-WebSocket-Key"));
    e.c.receive_eof();
    EXPECT_EQ(e.feed(head + from_peer(role, 0x81, "only") + from_peer(role, 0x88, "\x03\xE8")),
              (std::vector<Ev>{open_ev(), text_ev("only"), closed_ev(1000)}));
    EXPECT_EQ(e.c.state(), State::Closed);  // the Close came before the EOF
    e.take();
    EXPECT_TRUE(e.c.finished());

    Endpoint& cut = role == Role::Server ? server() : client();
    const std::string head2 = role == Role::Server
                                  ? upgrade_request()
                                  : response_101(header_value(cut.take(), "Sec-WebSocket-Key"));
    cut.c.receive_eof();
    EXPECT_EQ(cut.feed(head2 + from_peer(role, 0x81, "only")),
              (std::vector<Ev>{open_ev(), text_ev("only"), failed_ev()}));
    EXPECT_EQ(cut.c.failure().cause, FailureCause::ConnectionLost);
  }
}

// ---------------------------------------------------------------------------
// The closing handshake.

TEST_F(ConnectionTest, CloseHandshakeFromEitherSide) {
  for (Role initiator : kRoles) {
    SCOPED_TRACE(role_name(initiator));
    auto [c, s] = open_pair();
    Endpoint& a = initiator == Role::Client ? c : s;
    Endpoint& b = initiator == Role::Client ? s : c;
    ASSERT_TRUE(a.c.close(CloseCode::Normal, "done").ok());
    EXPECT_EQ(a.c.state(), State::Closing);
    EXPECT_EQ(a.c.timeout(), absl::Seconds(3));
    EXPECT_FALSE(a.c.finished());
    EXPECT_EQ(a.c.send_text("late").error, Error::NotOpen);
    EXPECT_EQ(a.c.send_ping().error, Error::NotOpen);
    EXPECT_EQ(a.c.close().error, Error::NotOpen);
    EXPECT_EQ(a.c.next().type, EventType::None);

    EXPECT_EQ(transfer(a, b), std::vector<Ev>{closed_ev(1000, "done")});
    EXPECT_EQ(b.c.state(), State::Closed);
    EXPECT_EQ(b.c.timeout(), absl::InfiniteDuration());
    EXPECT_EQ(b.c.send_binary({}).error, Error::NotOpen);
    EXPECT_EQ(b.c.close().error, Error::NotOpen);
    EXPECT_FALSE(b.c.finished());  // the echo waits for the transport
    const std::string echo = b.take();
    // RFC 6455 §5.5.1: the echo carries the code it received.
    EXPECT_EQ(frames_of(b.c.role(), echo), std::vector<testing::Event>{close_frame(1000)});
    EXPECT_TRUE(b.c.finished());

    EXPECT_EQ(a.feed(echo), std::vector<Ev>{closed_ev(1000)});
    EXPECT_EQ(a.c.state(), State::Closed);
    EXPECT_TRUE(a.c.finished());
    EXPECT_EQ(a.c.failure().cause, FailureCause::None);
    EXPECT_EQ(b.c.failure().cause, FailureCause::None);
    EXPECT_EQ(a.c.next().type, EventType::None);
    EXPECT_EQ(b.c.next().type, EventType::None);
  }
}

TEST_F(ConnectionTest, ApplicationCloseCodeIsEchoed) {
  auto [c, s] = open_pair();
  ASSERT_TRUE(s.c.close(static_cast<CloseCode>(4321), "app").ok());
  EXPECT_EQ(transfer(s, c), std::vector<Ev>{closed_ev(4321, "app")});
  EXPECT_EQ(frames_of(Role::Client, c.pending()), std::vector<testing::Event>{close_frame(4321)});
  EXPECT_EQ(transfer(c, s), std::vector<Ev>{closed_ev(4321)});
}

TEST_F(ConnectionTest, EmptyCloseIsEchoedEmpty) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = open_raw(role);
    EXPECT_EQ(e.feed(from_peer(role, 0x88, "")), std::vector<Ev>{closed_ev(1005)});
    const Wire w = decode(role, e.take());
    ASSERT_EQ(w.frames.size(), 1u);
    EXPECT_EQ(w.frames[0], close_frame(1005));
    EXPECT_EQ(w.frames[0].payload, "");
    EXPECT_TRUE(e.c.finished());
  }
}

TEST_F(ConnectionTest, CloseRefusesWhatMayNotBeSent) {
  Endpoint& e = open_pair_side(Role::Client);
  const std::size_t before = e.c.pending_output().size();
  EXPECT_EQ(e.c.close(CloseCode::NoStatus).error, Error::InvalidCloseCode);
  EXPECT_EQ(e.c.close(CloseCode::Abnormal).error, Error::InvalidCloseCode);
  EXPECT_EQ(e.c.close(static_cast<CloseCode>(999)).error, Error::InvalidCloseCode);
  EXPECT_EQ(e.c.close(CloseCode::Normal, std::string(124, 'r')).error, Error::CloseReasonTooLong);
  EXPECT_EQ(e.c.close(CloseCode::Normal, "\xFF").error, Error::InvalidCloseReason);
  EXPECT_EQ(e.c.state(), State::Open);
  EXPECT_EQ(e.c.pending_output().size(), before);
  ASSERT_TRUE(e.c.close(CloseCode::Normal, std::string(123, 'r')).ok());
  EXPECT_EQ(e.c.state(), State::Closing);
}

TEST_F(ConnectionTest, SimultaneousClosesSendOneCloseEach) {
  auto [c, s] = open_pair();
  ASSERT_TRUE(c.c.close(CloseCode::GoingAway, "client").ok());
  ASSERT_TRUE(s.c.close(CloseCode::Normal, "server").ok());
  const std::string from_client = c.take();
  const std::string from_server = s.take();
  EXPECT_EQ(s.feed(from_client), std::vector<Ev>{closed_ev(1001, "client")});
  EXPECT_EQ(c.feed(from_server), std::vector<Ev>{closed_ev(1000, "server")});
  for (Endpoint* e : {&c, &s}) {
    EXPECT_EQ(e->c.state(), State::Closed);
    EXPECT_TRUE(e->c.pending_output().empty());  // no echo: ours is already out
    EXPECT_TRUE(e->c.finished());
  }
  EXPECT_EQ(frames_of(Role::Client, from_client), std::vector<testing::Event>{close_frame(1001, "client")});
  EXPECT_EQ(frames_of(Role::Server, from_server), std::vector<testing::Event>{close_frame(1000, "server")});
}

TEST_F(ConnectionTest, NothingAfterThePeersClose) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = open_raw(role);
    EXPECT_EQ(e.feed(from_peer(role, 0x88, "\x03\xE8" "bye") + from_peer(role, 0x81, "late") +
                     from_peer(role, 0x89, "ping")),
              std::vector<Ev>{closed_ev(1000, "bye")});
    EXPECT_EQ(e.feed(from_peer(role, 0x82, "later")), std::vector<Ev>{});
    EXPECT_EQ(e.feed("\xFF\xFF garbage"), std::vector<Ev>{});
    EXPECT_EQ(e.eof(), std::vector<Ev>{});
    EXPECT_EQ(e.c.state(), State::Closed);
    EXPECT_EQ(frames_of(role, e.take()), std::vector<testing::Event>{close_frame(1000)});
    EXPECT_TRUE(e.c.finished());
  }
}

TEST_F(ConnectionTest, DataReceivedWhileClosingIsDelivered) {
  for (Role initiator : kRoles) {
    SCOPED_TRACE(role_name(initiator));
    auto [c, s] = open_pair();
    Endpoint& a = initiator == Role::Client ? c : s;
    Endpoint& b = initiator == Role::Client ? s : c;
    ASSERT_TRUE(a.c.close().ok());
    const std::string close_frame_bytes = a.take();
    // b has not read our Close yet and keeps talking.
    ASSERT_TRUE(b.c.send_text("in flight").ok());
    ASSERT_TRUE(b.c.send_ping(bytes_of("p")).ok());
    ASSERT_TRUE(b.c.send_binary(bytes_of("bin")).ok());
    EXPECT_EQ(transfer(b, a), (std::vector<Ev>{text_ev("in flight", State::Closing),
                                               ping_ev("p", State::Closing),
                                               binary_ev("bin", State::Closing)}));
    // No Pong after our Close (RFC 6455 §5.5.1: nothing follows it).
    EXPECT_TRUE(a.c.pending_output().empty());
    EXPECT_EQ(b.feed(close_frame_bytes), std::vector<Ev>{closed_ev(1000)});
    EXPECT_EQ(transfer(b, a), std::vector<Ev>{closed_ev(1000)});
    EXPECT_TRUE(a.c.finished());
    EXPECT_TRUE(b.c.finished());
  }
}

TEST_F(ConnectionTest, FailureWhileClosingQueuesNoSecondClose) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = open_raw(role);
    ASSERT_TRUE(e.c.close(CloseCode::GoingAway).ok());
    EXPECT_EQ(e.feed(from_peer(role, 0x83, "")), std::vector<Ev>{failed_ev()});
    EXPECT_EQ(e.c.failure().cause, FailureCause::Protocol);
    EXPECT_EQ(e.c.failure().frame_error, Error::BadOpcode);
    // close_sent names the Close already queued before the failure.
    EXPECT_EQ(e.c.failure().close_sent, CloseCode::GoingAway);
    EXPECT_EQ(frames_of(role, e.take()), std::vector<testing::Event>{close_frame(1001)});
    EXPECT_TRUE(e.c.finished());
    EXPECT_EQ(e.c.next().type, EventType::None);
  }
}

// ---------------------------------------------------------------------------
// Protocol errors while Open: Failed, the right Close queued, then silence.

struct ProtocolCase {
  const char* name;
  std::uint8_t b0;
  std::string payload;
  Error error;
  CloseCode code;
  int length_bytes = -1;
};

TEST_F(ConnectionTest, ProtocolErrorsFailWithTheRightCloseCode) {
  const ProtocolCase cases[] = {
      {"reserved opcode", 0x83, "", Error::BadOpcode, CloseCode::ProtocolError},
      {"RSV1", 0xC1, "x", Error::ReservedBits, CloseCode::ProtocolError},
      {"unexpected continuation", 0x80, "x", Error::UnexpectedContinuation, CloseCode::ProtocolError},
      {"fragmented control", 0x09, "x", Error::FragmentedControl, CloseCode::ProtocolError},
      {"control > 125", 0x89, std::string(126, 'p'), Error::ControlFrameTooLarge, CloseCode::ProtocolError},
      {"1-byte close", 0x88, "\x03", Error::InvalidClosePayload, CloseCode::ProtocolError},
      {"close code 1005", 0x88, "\x03\xED", Error::InvalidCloseCode, CloseCode::ProtocolError},
      {"non-minimal length", 0x82, "abc", Error::NonMinimalLength, CloseCode::ProtocolError, 2},
      {"invalid UTF-8", 0x81, "ok \xC0\xAF", Error::InvalidUtf8, CloseCode::InvalidPayload},
      {"invalid close reason", 0x88, "\x03\xE8\xFF", Error::InvalidCloseReason, CloseCode::InvalidPayload},
      {"frame too large", 0x82, std::string(1001, 'x'), Error::FrameTooLarge, CloseCode::MessageTooBig},
  };
  ConnectionOptions o = options();
  o.limits = {1000, 1500};
  for (Role role : kRoles) {
    for (const ProtocolCase& pc : cases) {
      SCOPED_TRACE(std::string(role_name(role)) + ": " + pc.name);
      Endpoint& e = open_raw(role, o);
      ASSERT_TRUE(e.c.send_text("queued before").ok());
      EXPECT_EQ(e.feed(from_peer(role, 0x89, "before") + from_peer(role, pc.b0, pc.payload, pc.length_bytes) +
                       from_peer(role, 0x81, "after")),
                (std::vector<Ev>{ping_ev("before"), failed_ev()}));
      const Failure& f = e.c.failure();
      EXPECT_EQ(f.cause, FailureCause::Protocol);
      EXPECT_EQ(f.frame_error, pc.error) << name(f.frame_error);
      EXPECT_EQ(f.close_sent, pc.code);
      EXPECT_EQ(f.handshake_error, HandshakeError::None);
      EXPECT_EQ(e.c.state(), State::Failed);
      EXPECT_EQ(e.c.timeout(), absl::InfiniteDuration());
      EXPECT_EQ(e.c.next().type, EventType::None);
      EXPECT_EQ(e.feed(from_peer(role, 0x81, "more")), std::vector<Ev>{});
      EXPECT_EQ(e.c.send_text("x").error, Error::NotOpen);
      EXPECT_EQ(e.c.send_binary({}).error, Error::NotOpen);
      EXPECT_EQ(e.c.send_ping().error, Error::NotOpen);
      EXPECT_EQ(e.c.send_pong().error, Error::NotOpen);
      EXPECT_EQ(e.c.begin_message(Opcode::Text, {}).error, Error::NotOpen);
      EXPECT_EQ(e.c.continue_message({}).error, Error::NotOpen);
      EXPECT_EQ(e.c.finish_message().error, Error::NotOpen);
      EXPECT_EQ(e.c.close().error, Error::NotOpen);
      EXPECT_FALSE(e.c.finished());
      const std::vector<testing::Event> frames = frames_of(role, e.take());
      ASSERT_EQ(frames.size(), 3u);
      EXPECT_EQ(frames[0], testing::message_event(Opcode::Text, "queued before"));
      EXPECT_EQ(frames[1], pong_frame("before"));
      EXPECT_EQ(frames[2], close_frame(to_int(pc.code)));
      EXPECT_TRUE(e.c.finished());
    }
  }
}

TEST_F(ConnectionTest, MessageTooLargeAcrossFragmentsIs1009) {
  ConnectionOptions o = options();
  o.limits = {1000, 1500};
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = open_raw(role, o);
    EXPECT_EQ(e.feed(from_peer(role, 0x02, std::string(1000, 'a')) + from_peer(role, 0x80, std::string(501, 'b'))),
              std::vector<Ev>{failed_ev()});
    EXPECT_EQ(e.c.failure().frame_error, Error::MessageTooLarge);
    EXPECT_EQ(frames_of(role, e.take()), std::vector<testing::Event>{close_frame(1009)});
  }
}

TEST_F(ConnectionTest, WrongMaskingIs1002) {
  Endpoint& s = open_raw(Role::Server);
  EXPECT_EQ(s.feed(from_peer(Role::Client, 0x81, "unmasked")), std::vector<Ev>{failed_ev()});
  EXPECT_EQ(s.c.failure().frame_error, Error::MaskViolation);
  Endpoint& c = open_raw(Role::Client);
  EXPECT_EQ(c.feed(from_peer(Role::Server, 0x81, "masked")), std::vector<Ev>{failed_ev()});
  EXPECT_EQ(c.c.failure().frame_error, Error::MaskViolation);
  for (Endpoint* e : {&s, &c}) {
    EXPECT_EQ(e->c.failure().close_sent, CloseCode::ProtocolError);
    EXPECT_EQ(frames_of(e->c.role(), e->take()), std::vector<testing::Event>{close_frame(1002)});
  }
}

// ---------------------------------------------------------------------------
// The stream ends without a Close.

TEST_F(ConnectionTest, EofWithoutCloseIsConnectionLost) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& open = open_raw(role);
    // Whole frames before the EOF are delivered first; a partial one is lost.
    open.feed(from_peer(role, 0x81, "last words") + from_peer(role, 0x82, "partial").substr(0, 4));
    EXPECT_EQ(open.eof(), std::vector<Ev>{failed_ev()});
    EXPECT_EQ(open.events, (std::vector<Ev>{text_ev("last words"), failed_ev()}));
    EXPECT_EQ(open.c.failure().cause, FailureCause::ConnectionLost);
    EXPECT_EQ(open.c.failure().close_sent, CloseCode::NoStatus);
    EXPECT_TRUE(open.c.pending_output().empty());
    EXPECT_TRUE(open.c.finished());
    EXPECT_EQ(open.c.next().type, EventType::None);

    Endpoint& closing = open_raw(role);
    ASSERT_TRUE(closing.c.close(CloseCode::Normal).ok());
    EXPECT_EQ(closing.eof(), std::vector<Ev>{failed_ev()});
    EXPECT_EQ(closing.c.failure().cause, FailureCause::ConnectionLost);
    EXPECT_EQ(closing.c.failure().close_sent, CloseCode::Normal);
    EXPECT_EQ(frames_of(role, closing.take()), std::vector<testing::Event>{close_frame(1000)});
    EXPECT_TRUE(closing.c.finished());
  }
}

// ---------------------------------------------------------------------------
// Handshake failures.

struct ClientHandshakeCase {
  const char* name;
  std::string response;  // "{accept}" is replaced by the right accept value
  bool eof;
  HandshakeError error;
  int status;
  http::Error http_error = http::Error::None;
};

TEST_F(ConnectionTest, ClientHandshakeFailures) {
  const std::string ok_head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: {accept}\r\n";
  const ClientHandshakeCase cases[] = {
      {"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", false,
       HandshakeError::NotSwitchingProtocols, 403},
      {"404 read to EOF", "HTTP/1.1 404 Not Found\r\n\r\nnot here", true,
       HandshakeError::NotSwitchingProtocols, 404},
      {"bad accept",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
       false, HandshakeError::BadAccept, 101},
      {"no accept", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
       false, HandshakeError::BadAccept, 101},
      {"no upgrade", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n",
       false, HandshakeError::MissingUpgrade, 101},
      {"unrequested subprotocol", ok_head + "Sec-WebSocket-Protocol: chat\r\n\r\n", false,
       HandshakeError::UnrequestedSubprotocol, 101},
      {"unrequested extension", ok_head + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", false,
       HandshakeError::UnrequestedExtension, 101},
      {"EOF mid-response", "HTTP/1.1 101 Switching Protocols\r\nUpgr", true, HandshakeError::Http, 0,
       http::Error::UnexpectedEof},
      {"EOF before anything", "", true, HandshakeError::Http, 0, http::Error::UnexpectedEof},
      {"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", false, HandshakeError::Http, 0},
  };
  for (const ClientHandshakeCase& hc : cases) {
    for (bool bytewise : {false, true}) {
      SCOPED_TRACE(std::string(hc.name) + (bytewise ? " bytewise" : " whole"));
      Endpoint& c = client();
      const std::string key = header_value(c.take(), "Sec-WebSocket-Key");
      std::string response = hc.response;
      if (const std::size_t at = response.find("{accept}"); at != std::string::npos) {
        response.replace(at, 8, view(compute_accept(key)));
      }
      c.feed(response, bytewise ? std::vector<std::size_t>(response.size(), 1) : std::vector<std::size_t>{});
      if (hc.eof) {
        EXPECT_EQ(c.events, std::vector<Ev>{});
        c.eof();
      }
      EXPECT_EQ(c.events, std::vector<Ev>{failed_ev()});
      const Failure& f = c.c.failure();
      EXPECT_EQ(f.cause, FailureCause::Handshake);
      EXPECT_EQ(f.handshake_error, hc.error) << name(f.handshake_error);
      EXPECT_EQ(f.http_status, hc.status);
      if (hc.error == HandshakeError::Http) {
        EXPECT_NE(f.http_error, http::Error::None);
        if (hc.http_error != http::Error::None) {
          EXPECT_EQ(f.http_error, hc.http_error);
        }
      }
      EXPECT_EQ(f.close_sent, CloseCode::NoStatus);
      EXPECT_EQ(c.c.state(), State::Failed);
      EXPECT_EQ(c.c.timeout(), absl::InfiniteDuration());
      EXPECT_EQ(c.c.next().type, EventType::None);
      EXPECT_EQ(c.c.send_text("x").error, Error::NotOpen);
      EXPECT_EQ(c.c.close().error, Error::NotOpen);
      EXPECT_TRUE(c.c.pending_output().empty());
      EXPECT_TRUE(c.c.finished());
    }
  }
}

struct ServerHandshakeCase {
  const char* name;
  std::string request;
  HandshakeError error;
  int status;
  http::Error http_error = http::Error::None;
};

TEST_F(ConnectionTest, ServerHandshakeFailuresAreAnswered) {
  const ServerHandshakeCase cases[] = {
      {"version 8", upgrade_request("", "8"), HandshakeError::UnsupportedVersion, 426},
      {"POST", upgrade_request("", "13", "POST"), HandshakeError::NotGet, 400},
      {"no key",
       "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Version: 13\r\n\r\n",
       HandshakeError::MissingKey, 400},
      {"plain GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", HandshakeError::NotUpgradeRequest, 400},
      {"garbage", "\x16\x03\x01 junk\r\n\r\n", HandshakeError::Http, 400},
      {"oversized", upgrade_request("X-Big: " + std::string(2000, 'b') + "\r\n"), HandshakeError::Http, 431,
       http::Error::HeaderTooLarge},
  };
  ConnectionOptions o = options();
  o.handshake_limits.max_header_bytes = 1024;
  for (const ServerHandshakeCase& hc : cases) {
    for (bool bytewise : {false, true}) {
      SCOPED_TRACE(std::string(hc.name) + (bytewise ? " bytewise" : " whole"));
      Endpoint& s = server(o);
      s.feed(hc.request, bytewise ? std::vector<std::size_t>(hc.request.size(), 1) : std::vector<std::size_t>{});
      ASSERT_EQ(s.events, std::vector<Ev>{failed_ev()});
      const Failure& f = s.c.failure();
      EXPECT_EQ(f.cause, FailureCause::Handshake);
      EXPECT_EQ(f.handshake_error, hc.error) << name(f.handshake_error);
      EXPECT_EQ(f.http_status, hc.status);
      if (hc.http_error != http::Error::None) {
        EXPECT_EQ(f.http_error, hc.http_error);
      }
      EXPECT_EQ(f.close_sent, CloseCode::NoStatus);
      EXPECT_EQ(s.c.next().type, EventType::None);
      EXPECT_EQ(s.c.send_text("x").error, Error::NotOpen);
      EXPECT_FALSE(s.c.finished());  // the rejection is still queued
      const std::string reply = s.take();
      EXPECT_TRUE(reply.starts_with("HTTP/1.1 " + std::to_string(hc.status) + " ")) << reply;
      EXPECT_EQ(header_value(reply, "Connection"), "close");
      if (hc.status == 426) {
        EXPECT_EQ(header_value(reply, "Sec-WebSocket-Version"), "13");
      }
      EXPECT_TRUE(s.c.finished());
      EXPECT_EQ(s.feed(upgrade_request()), std::vector<Ev>{});  // no second chance
    }
  }
}

TEST_F(ConnectionTest, ServerEofMidRequest) {
  Endpoint& s = server();
  const std::string request = upgrade_request();
  EXPECT_EQ(s.feed(request.substr(0, 40)), std::vector<Ev>{});
  EXPECT_EQ(s.eof(), std::vector<Ev>{failed_ev()});
  EXPECT_EQ(s.c.failure().cause, FailureCause::Handshake);
  EXPECT_EQ(s.c.failure().handshake_error, HandshakeError::Http);
  EXPECT_EQ(s.c.failure().http_error, http::Error::UnexpectedEof);
  EXPECT_EQ(s.c.failure().http_status, 0);
  EXPECT_TRUE(s.c.pending_output().empty());  // nobody left to answer
  EXPECT_TRUE(s.c.finished());
}

// ---------------------------------------------------------------------------
// Time and transport failures.

TEST_F(ConnectionTest, ExpireInEachState) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& connecting = role == Role::Client ? client() : server();
    const std::size_t queued = connecting.c.pending_output().size();
    EXPECT_EQ(connecting.c.timeout(), absl::Seconds(7));
    connecting.c.expire();
    EXPECT_EQ(connecting.c.state(), State::Failed);
    EXPECT_EQ(connecting.c.failure().cause, FailureCause::HandshakeTimeout);
    EXPECT_EQ(connecting.c.failure().close_sent, CloseCode::NoStatus);
    EXPECT_EQ(connecting.c.timeout(), absl::InfiniteDuration());
    EXPECT_EQ(connecting.c.next().type, EventType::None);
    EXPECT_EQ(connecting.c.pending_output().size(), queued);  // nothing added
    connecting.take();
    EXPECT_TRUE(connecting.c.finished());
    connecting.c.expire();  // no-op once failed
    EXPECT_EQ(connecting.c.failure().cause, FailureCause::HandshakeTimeout);

    Endpoint& open = open_raw(role);
    open.c.expire();  // a read deadline while Open is the caller's policy
    EXPECT_EQ(open.c.state(), State::Open);
    EXPECT_EQ(open.c.failure().cause, FailureCause::None);
    EXPECT_TRUE(open.c.pending_output().empty());

    ASSERT_TRUE(open.c.close(CloseCode::Normal, "bye").ok());
    EXPECT_EQ(open.c.timeout(), absl::Seconds(3));
    open.c.expire();
    EXPECT_EQ(open.c.state(), State::Failed);
    EXPECT_EQ(open.c.failure().cause, FailureCause::CloseTimeout);
    EXPECT_EQ(open.c.failure().close_sent, CloseCode::Normal);
    EXPECT_EQ(open.c.next().type, EventType::None);
    EXPECT_EQ(frames_of(role, open.take()), std::vector<testing::Event>{close_frame(1000, "bye")});
    EXPECT_TRUE(open.c.finished());

    Endpoint& closed = open_raw(role);
    closed.feed(from_peer(role, 0x88, "\x03\xE8"));
    closed.c.expire();
    EXPECT_EQ(closed.c.state(), State::Closed);
    EXPECT_EQ(closed.c.failure().cause, FailureCause::None);
  }
}

TEST_F(ConnectionTest, AbortInEachState) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& connecting = role == Role::Client ? client() : server();
    connecting.c.abort();
    EXPECT_EQ(connecting.c.state(), State::Failed);
    EXPECT_EQ(connecting.c.failure().cause, FailureCause::Aborted);

    Endpoint& open = open_raw(role);
    open.c.abort();
    EXPECT_EQ(open.c.state(), State::Failed);
    EXPECT_EQ(open.c.failure().cause, FailureCause::Aborted);
    EXPECT_EQ(open.c.failure().close_sent, CloseCode::NoStatus);
    EXPECT_TRUE(open.c.pending_output().empty());
    EXPECT_TRUE(open.c.finished());
    EXPECT_EQ(open.c.next().type, EventType::None);
    EXPECT_EQ(open.c.send_text("x").error, Error::NotOpen);

    Endpoint& closing = open_raw(role);
    ASSERT_TRUE(closing.c.close().ok());
    closing.c.abort();
    EXPECT_EQ(closing.c.failure().cause, FailureCause::Aborted);
    EXPECT_EQ(closing.c.failure().close_sent, CloseCode::Normal);

    Endpoint& closed = open_raw(role);
    closed.feed(from_peer(role, 0x88, ""));
    closed.c.abort();
    EXPECT_EQ(closed.c.state(), State::Closed);
    EXPECT_EQ(closed.c.failure().cause, FailureCause::None);

    Endpoint& failed = open_raw(role);
    failed.feed(from_peer(role, 0x83, ""));
    failed.c.abort();
    EXPECT_EQ(failed.c.failure().cause, FailureCause::Protocol);  // the first cause stands
  }
}

// ---------------------------------------------------------------------------
// A full write buffer: control replies wait, user sends are refused.

// Fills the write buffer with user frames until not even an empty one fits;
// returns how many bytes are queued.
std::size_t fill(Endpoint& e) {
  const std::string chunk(100, 'u');
  for (int i = 0; i < 100000 && e.c.send_binary(bytes_of(chunk)).ok(); ++i) {
  }
  for (int i = 0; i < 100000 && e.c.send_binary({}).ok(); ++i) {
  }
  const EncodeResult r = e.c.send_text("");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, Error::DestinationTooSmall);
  EXPECT_EQ(r.size, 0u);
  return e.c.pending_output().size();
}

ConnectionOptions tiny_writes() {
  ConnectionOptions o = options();
  o.write_buffer_size = 100;  // raised to the 512-byte floor
  return o;
}

TEST_F(ConnectionTest, SendIsRefusedWhenTheBufferLacksRoom) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = open_raw(role, tiny_writes());
    EXPECT_EQ(e.c.write_capacity(), 512u);
    const std::string too_big(e.c.write_capacity(), 'x');
    EXPECT_EQ(e.c.send_binary(bytes_of(too_big)).error, Error::DestinationTooSmall);  // never fits
    const std::size_t queued = fill(e);
    EXPECT_EQ(e.c.send_ping(bytes_of("p")).error, Error::DestinationTooSmall);
    EXPECT_EQ(e.c.begin_message(Opcode::Text, {}).error, Error::DestinationTooSmall);
    EXPECT_EQ(e.c.pending_output().size(), queued);
    // Room comes back only once everything is taken: a WriteBuf does not
    // reclaim the front after a partial write.
    e.take(200);
    EXPECT_EQ(e.c.send_text("x").error, Error::DestinationTooSmall);
    e.take();
    EXPECT_TRUE(e.c.send_text("room again").ok());
  }
}

TEST_F(ConnectionTest, PongWaitsForRoomAndOnlyTheLatestIsKept) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = open_raw(role, tiny_writes());
    const std::size_t queued = fill(e);
    EXPECT_EQ(e.feed(from_peer(role, 0x89, "first")), std::vector<Ev>{ping_ev("first")});
    EXPECT_EQ(e.c.pending_output().size(), queued);  // no room: the Pong waits
    EXPECT_EQ(e.feed(from_peer(role, 0x89, "second")), std::vector<Ev>{ping_ev("second")});
    // A partial write makes no room in a WriteBuf (it only shrinks data()).
    e.take(10);
    EXPECT_EQ(e.c.pending_output().size(), queued - 10);
    e.take();
    // The buffer drained: the owed Pong went in.
    const std::string after = e.take();
    EXPECT_EQ(frames_of(role, after), std::vector<testing::Event>{pong_frame("second")});
    const Wire w = decode(role, e.wire);
    EXPECT_EQ(std::count(w.opcodes.begin(), w.opcodes.end(), Opcode::Pong), 1);
    EXPECT_TRUE(e.c.send_text("still open").ok());
  }
}

TEST_F(ConnectionTest, CloseNeverFailsForLackOfRoom) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& e = open_raw(role, tiny_writes());
    const std::size_t queued = fill(e);
    e.feed(from_peer(role, 0x89, "ping"));  // a Pong owed, then our Close
    const EncodeResult r = e.c.close(CloseCode::GoingAway, std::string(123, 'r'));
    EXPECT_TRUE(r.ok()) << name(r.error);
    EXPECT_EQ(e.c.state(), State::Closing);
    EXPECT_EQ(e.c.pending_output().size(), queued);
    EXPECT_FALSE(e.c.finished());
    e.take();
    // RFC 6455 §5.5.2: the Ping received before our Close is still
    // answered, and nothing follows the Close.
    EXPECT_EQ(frames_of(role, e.take()),
              (std::vector<testing::Event>{pong_frame("ping"), close_frame(1001, std::string(123, 'r'))}));
    EXPECT_EQ(e.feed(from_peer(role, 0x88, "\x03\xE9")), std::vector<Ev>{closed_ev(1001)});
    EXPECT_TRUE(e.c.finished());
  }
}

TEST_F(ConnectionTest, EchoAndFailureCloseWaitForRoom) {
  for (Role role : kRoles) {
    SCOPED_TRACE(role_name(role));
    Endpoint& echo = open_raw(role, tiny_writes());
    const std::size_t queued = fill(echo);
    EXPECT_EQ(echo.feed(from_peer(role, 0x88, "\x0F\xA0")), std::vector<Ev>{closed_ev(4000)});
    EXPECT_EQ(echo.c.pending_output().size(), queued);
    EXPECT_FALSE(echo.c.finished());
    echo.take();
    EXPECT_FALSE(echo.c.finished());  // the echo just went in
    EXPECT_EQ(frames_of(role, echo.take()), std::vector<testing::Event>{close_frame(4000)});
    EXPECT_TRUE(echo.c.finished());

    Endpoint& failing = open_raw(role, tiny_writes());
    fill(failing);
    EXPECT_EQ(failing.feed(from_peer(role, 0x81, "\xFF")), std::vector<Ev>{failed_ev()});
    EXPECT_EQ(failing.c.failure().close_sent, CloseCode::InvalidPayload);
    failing.take();
    EXPECT_EQ(frames_of(role, failing.take()), std::vector<testing::Event>{close_frame(1007)});
    EXPECT_TRUE(failing.c.finished());
  }
}

// ---------------------------------------------------------------------------
// Allocation: a steady-state echo allocates nothing, on either end.

TEST(ConnectionAlloc, SteadyStateEchoAllocatesNothing) {
  ConnectionOptions o = options();
  Connection c = *Connection::client(url_of(kUrl), o);
  Connection s = *Connection::server(o);
  auto move = [](Connection& from, Connection& to) {
    const Connection::Bytes out = from.pending_output();
    const std::span<std::uint8_t> space = to.read_space();
    const std::size_t n = std::min(out.size(), space.size());
    if (n != 0) std::memcpy(space.data(), out.data(), n);
    to.commit(n);
    from.consume_output(n);
    return n;
  };
  move(c, s);
  ASSERT_EQ(s.next().type, EventType::Open);
  move(s, c);
  ASSERT_EQ(c.next().type, EventType::Open);

  std::uint8_t payload[4096];
  for (std::size_t i = 0; i < sizeof payload; ++i) payload[i] = static_cast<std::uint8_t>('a' + i % 26);
  int wrong = 0;
  auto round = [&](int i) {
    const std::size_t len = static_cast<std::size_t>(i * 37) % sizeof payload;
    const bool text = i % 2 == 0;
    const EncodeResult r = text ? c.send_text({reinterpret_cast<const char*>(payload), len})
                                : c.send_binary({payload, len});
    if (!r.ok()) ++wrong;
    if (i % 100 == 0 && !c.send_ping({payload, 8}).ok()) ++wrong;
    move(c, s);
    for (Event e = s.next(); e.type != EventType::None; e = s.next()) {
      if (e.type != EventType::Message) {
        ++wrong;
        break;
      }
      if (e.message.opcode == Opcode::Ping) continue;  // answered already
      // Echo while the view is alive.
      const EncodeResult back = e.message.opcode == Opcode::Text ? s.send_text(e.message.text())
                                                                 : s.send_binary(e.message.payload);
      if (!back.ok()) ++wrong;
    }
    move(s, c);
    int got = 0;
    for (Event e = c.next(); e.type != EventType::None; e = c.next()) {
      if (e.type != EventType::Message) {
        ++wrong;
        break;
      }
      if (e.message.opcode == Opcode::Pong) continue;
      ++got;
      if (e.message.payload.size() != len || (len != 0 && std::memcmp(e.message.payload.data(), payload, len) != 0)) {
        ++wrong;
      }
    }
    if (got != 1) ++wrong;
  };
  for (int i = 0; i < 100; ++i) round(i);  // warm-up
  tern::testing::AllocCounter count;
  for (int i = 0; i < 10000; ++i) round(i);
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_EQ(wrong, 0);
  EXPECT_TRUE(c.is_open());
  EXPECT_TRUE(s.is_open());

  // The closing handshake allocates nothing either.
  tern::testing::AllocCounter closing;
  const bool closed_ok = c.close(CloseCode::Normal, "bye").ok();
  move(c, s);
  const EventType server_saw = s.next().type;
  move(s, c);
  const EventType client_saw = c.next().type;
  EXPECT_EQ(closing.allocations(), 0u);
  EXPECT_TRUE(closed_ok);
  EXPECT_EQ(server_saw, EventType::Closed);
  EXPECT_EQ(client_saw, EventType::Closed);
  EXPECT_TRUE(c.finished());
  EXPECT_TRUE(s.finished());
}

// ---------------------------------------------------------------------------
// Documentation claims checked literally.

// connection.h: "A Message's payload borrows the read buffer until the next
// call to next()", and read_space() in between is fine: it does not compact
// under a live view (the buffer is full until the next next()).
TEST_F(ConnectionTest, MessageViewSurvivesReadSpace) {
  ConnectionOptions o = options();
  o.read_buffer_size = 512;
  Endpoint& s = open_raw(Role::Server, o);
  ASSERT_TRUE(s.c.read_space().size() == 512);
  // Two frames filling the buffer exactly: A, then B up to the last byte.
  const std::string a = from_peer(Role::Server, 0x82, std::string(100, 'A'));
  const std::size_t b_payload = 512 - a.size() - 8;  // 16-bit length + mask key
  std::string pattern(b_payload, '\0');
  for (std::size_t i = 0; i < b_payload; ++i) pattern[i] = static_cast<char>(i % 251);
  const std::string b = from_peer(Role::Server, 0x82, pattern);
  ASSERT_EQ(a.size() + b.size(), 512u);
  const std::span<std::uint8_t> space = s.c.read_space();
  std::memcpy(space.data(), (a + b).data(), 512);
  s.c.commit(512);
  ASSERT_EQ(s.c.next().type, EventType::Message);  // A
  const Event e = s.c.next();                        // B; A is consumed now
  ASSERT_EQ(e.type, EventType::Message);
  const std::string copy(e.message.text());
  ASSERT_EQ(copy, pattern);
  // A transport asking for room before the next next(): none, and the view
  // stays intact.
  EXPECT_TRUE(s.c.read_space().empty());
  EXPECT_EQ(std::string(e.message.text()), copy);
  // After next() consumed B, the whole buffer is free again.
  EXPECT_EQ(s.c.next().type, EventType::None);
  EXPECT_EQ(s.c.read_space().size(), 512u);
}

// connection.h: abort() drops whatever was queued, a Pong still waiting
// for room included, and finished() is true at once.
TEST_F(ConnectionTest, AbortQueuesNothingEvenWithAPongOwed) {
  Endpoint& e = open_raw(Role::Server, tiny_writes());
  const std::size_t queued = fill(e);
  e.feed(from_peer(Role::Server, 0x89, "late"));
  e.c.abort();
  EXPECT_EQ(e.c.state(), State::Failed);
  EXPECT_TRUE(e.c.finished());
  e.c.consume_output(queued);  // whatever the caller does with what was queued
  EXPECT_TRUE(e.c.pending_output().empty());
  EXPECT_TRUE(e.c.finished());
}

}  // namespace
}  // namespace tern::ws
