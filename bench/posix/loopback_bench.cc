// Loopback round trips over TCP, one connection, client and server driven
// from ONE thread (client step, server step, client step), so the figures
// measure syscalls plus library work without scheduler noise between two
// threads. Each library runs at both ends of its own WebSocket echo; for
// HTTP every client talks to the same canned plain-socket server. The raw
// floor moves the same bytes with bare send/recv.
//
//   bazel run --config=bench //bench/posix:loopback_bench -- [rounds]
//
// Prints a markdown table: p50 / p99 round trip, round trips per second, and
// the time each library adds over raw sockets moving the same bytes.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>  // before Boost: Beast 1.74 uses std::exchange unannounced
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "backends/posix/http_connection.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"
#include "bench/support/beast_pair.h"
#include "bench/support/loopback.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;

using tern::bench::Row;
using tern::bench::die;
using tern::bench::recv_all;
using tern::bench::send_all;
using tern::bench::tcp_pair;

std::vector<Row> rows;
std::string only;

// Times `rounds` calls of one round trip after a warm-up.
void measure(const std::string& name, const std::string& floor, int rounds,
             const std::function<void()>& round_trip) {
  if (!only.empty() && name.find(only) == std::string::npos) return;
  rows.push_back(tern::bench::measure(name, floor, rounds, round_trip));
}

// Raw floor: `request` bytes one way, `reply` bytes back, bare syscalls.
void raw_rows(int rounds, const std::string& name, std::size_t request, std::size_t reply) {
  auto [c, s] = tcp_pair();
  std::vector<char> a(std::max(request, reply), 'x'), b(a.size());
  measure(name, "", rounds, [&, c = c, s = s] {
    send_all(c, a.data(), request);
    recv_all(s, b.data(), request);
    send_all(s, b.data(), reply);
    recv_all(c, a.data(), reply);
  });
  ::close(c);
  ::close(s);
}

// ---- WebSocket echo ----------------------------------------------------
void tern_ws(int rounds, std::size_t size) {
  auto [client_ws, server_ws] = tern::bench::posix_ws_pair();
  auto* client = &client_ws;
  auto* server = &server_ws;
  const std::vector<std::uint8_t> payload(size, 'x');
  measure("ws_echo_" + std::to_string(size) + "/tern", "ws_echo_" + std::to_string(size) + "/raw", rounds, [&] {
    if (!client->send_binary(payload).ok()) die("tern send");
    auto m = server->recv();
    if (!m.ok()) die("tern server recv");
    if (!server->send_binary(m->payload).ok()) die("tern server send");
    auto back = client->recv();
    if (!back.ok() || back->payload.size() != size) die("tern client recv");
  });
}

void beast_ws(int rounds, std::size_t size) {
  net::io_context ioc;
  tern::bench::BeastPair pair(ioc);
  auto& client = pair.client;
  auto& server = pair.server;
  const std::vector<std::uint8_t> payload(size, 'x');
  beast::flat_buffer server_buf, client_buf;
  measure("ws_echo_" + std::to_string(size) + "/beast", "ws_echo_" + std::to_string(size) + "/raw", rounds, [&] {
    client.write(net::buffer(payload));
    server->read(server_buf);
    server->write(server_buf.data());
    server_buf.consume(server_buf.size());
    client.read(client_buf);
    if (client_buf.size() != size) die("beast echo");
    client_buf.consume(client_buf.size());
  });
}

// ---- HTTP POST against a canned plain-socket server ------------------------
const std::string kJson =
    R"({"symbol":"BTC-USD","side":"buy","type":"limit","qty":"0.010","px":"97000.50","tif":"IOC","id":"c-42"})";
const std::string kReplyBody = R"({"id":"c-42","status":"accepted","ts":1732380000123456789})";
const std::string kReply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(kReplyBody.size()) + "\r\n\r\n" + kReplyBody;

// One server step: read one request (head, then Content-Length bytes), write
// the canned reply. The same code serves every client.
struct CannedServer {
  int fd;
  std::string buf;
  void step() {
    char tmp[4096];
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t k = ::recv(fd, tmp, sizeof tmp, 0);
      if (k <= 0) die("canned recv");
      buf.append(tmp, static_cast<std::size_t>(k));
    }
    std::size_t length = 0;
    for (const char* key : {"Content-Length: ", "content-length: "}) {
      const std::size_t at = buf.find(key);
      if (at != std::string::npos && at < end) length = std::strtoul(buf.c_str() + at + 16, nullptr, 10);
    }
    while (buf.size() < end + 4 + length) {
      const ssize_t k = ::recv(fd, tmp, sizeof tmp, 0);
      if (k <= 0) die("canned recv body");
      buf.append(tmp, static_cast<std::size_t>(k));
    }
    buf.erase(0, end + 4 + length);
    send_all(fd, kReply.data(), kReply.size());
  }
};

tern::http::RequestWriter bench_writer() {
  auto w = tern::http::RequestWriter::create(
      {.host = "127.0.0.1", .base_path = "/api/v3",
       .default_headers = {{"User-Agent", "tern-bench"}, {"X-API-KEY", "k3y-0123456789abcdef"}}});
  if (!w.ok()) die("writer");
  return *std::move(w);
}

tern::http::WriteResult bench_request(const tern::http::RequestWriter& w, tern::WriteBuf& out) {
  return w.start(out, tern::http::Method::Post, "/order")
      .header("Content-Type", "application/json")
      .header("Accept", "application/json")
      .body(kJson);
}

// The HTTP floor: tern's request bytes, prebuilt, sent with one send(2) to
// the same canned server, and exactly the reply's bytes received back. It
// pays the canned server's step like the library rows do, so the difference
// is what each client library adds.
void raw_http(int rounds) {
  tern::WriteBuf sample(4096);
  const auto request = bench_request(bench_writer(), sample).bytes;
  auto [c, s] = tcp_pair();
  CannedServer server{s};
  std::vector<char> reply(kReply.size());
  measure("http_post/raw", "", rounds, [&, c = c] {
    send_all(c, request.data(), request.size());
    server.step();
    recv_all(c, reply.data(), reply.size());
  });
  ::close(c);
  ::close(s);
}

void tern_http(int rounds) {
  auto l = tern::posix::Listener::bind("127.0.0.1", 0);
  if (!l.ok()) die("bind");
  auto conn = tern::posix::HttpConnection::connect("http://127.0.0.1:" + std::to_string(l->port()));
  auto s = l->accept();
  if (!conn.ok() || !s.ok()) die("http connect");
  CannedServer server{s->fd()};
  const tern::http::RequestWriter writer = bench_writer();
  tern::http::ResponseReader reader;
  measure("http_post/tern", "http_post/raw", rounds, [&] {
    auto req = bench_request(writer, conn->request_buffer());
    if (!req.ok()) die("tern request");
    if (!conn->write_request().ok()) die("tern write");
    server.step();
    auto resp = conn->read_response(reader, tern::http::Method::Post);
    if (!resp.ok() || resp->status != 200) die("tern read");
  });
}

void beast_http(int rounds) {
  namespace http = beast::http;
  net::io_context ioc;
  net::ip::tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  net::ip::tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  client.set_option(net::ip::tcp::no_delay(true));
  net::ip::tcp::socket accepted = acceptor.accept();
  accepted.set_option(net::ip::tcp::no_delay(true));
  CannedServer server{accepted.native_handle()};
  beast::flat_buffer buffer;
  measure("http_post/beast", "http_post/raw", rounds, [&] {
    // What a Beast REST client does per order: build, serialize, parse.
    http::request<http::string_body> req{http::verb::post, "/api/v3/order", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::user_agent, "beast-bench");
    req.set("X-API-KEY", "k3y-0123456789abcdef");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.body() = kJson;
    req.prepare_payload();
    http::write(client, req);
    server.step();
    http::response<http::string_body> res;
    http::read(client, buffer, res);
    if (res.result_int() != 200) die("beast read");
  });
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 20000;
  // Optional second argument: run only rows whose name contains it.
  only = argc > 2 ? argv[2] : "";
  std::printf("loopback round trips, one thread, %d rounds each (after %d warm-up)\n\n", rounds, rounds / 10);
  raw_rows(rounds, "ping_pong_1/raw", 1, 1);
  for (std::size_t size : {40u, 128u}) {
    // Frame bytes on the wire: 2-byte header (+4 mask) each way.
    raw_rows(rounds, "ws_echo_" + std::to_string(size) + "/raw", size + 6, size + 2);
    tern_ws(rounds, size);
    beast_ws(rounds, size);
  }
  // The raw HTTP floor moves the same bytes as tern's request and reply.
  raw_http(rounds);
  tern_http(rounds);
  beast_http(rounds);
  std::printf("| round trip | p50 µs | p99 µs | round trips/s | p50 added over raw µs |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    double floor = 0;
    for (const Row& f : rows) {
      if (f.name == r.floor) floor = f.p50_us;
    }
    std::printf("| %s | %.2f | %.2f | %.0f | %s |\n", r.name.c_str(), r.p50_us, r.p99_us, r.per_sec,
                floor > 0 ? std::to_string(r.p50_us - floor).substr(0, 5).c_str() : "");
  }
  return 0;
}
