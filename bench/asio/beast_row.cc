// The Beast row of bench/asio:loopback_bench (see rows.h for why it is a
// translation unit of its own).
#include <functional>
#include <optional>
#include <thread>
#include <utility>  // before Boost: Beast 1.74 uses std::exchange unannounced
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "bench/asio/rows.h"
#include "bench/support/beast_pair.h"

namespace tern::bench::asio_rows {

namespace net = boost::asio;
namespace beast = boost::beast;

Run beast_async(int rounds, std::size_t size) {
  net::io_context ioc(1);
  tern::bench::BeastPair pair(ioc);
  auto& client = pair.client;
  auto& server = pair.server;
  const std::vector<std::uint8_t> payload(size, 'x');
  beast::flat_buffer server_buf, client_buf;
  Recorder rec(rounds);
  rec.warm_up(rounds / 10);
  std::function<void()> server_read = [&] {
    server->async_read(server_buf, [&](beast::error_code ec, std::size_t) {
      if (ec) return;
      server->async_write(server_buf.data(), [&](beast::error_code ec2, std::size_t) {
        if (ec2) return;
        server_buf.consume(server_buf.size());
        server_read();
      });
    });
  };
  std::function<void()> client_round = [&] {
    if (!rec.begin()) return;
    client.async_write(net::buffer(payload), [&](beast::error_code ec, std::size_t) {
      if (ec) die("beast write");
      client.async_read(client_buf, [&](beast::error_code ec2, std::size_t) {
        if (ec2 || client_buf.size() != size) die("beast read");
        client_buf.consume(client_buf.size());
        rec.end();
        client_round();
      });
    });
  };
  server_read();
  client_round();
  while (rec.i < rounds && ioc.run_one() != 0) {
  }
  return rec.result();
}

}  // namespace tern::bench::asio_rows
