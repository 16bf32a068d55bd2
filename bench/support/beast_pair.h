// Boost.Beast's side of the loopback benchmarks: a connected client and
// server websocket stream on 127.0.0.1 (TCP_NODELAY, binary, handshake done)
// on one io_context, set up the same way for every backend's bench so that
// the peer is driven alike everywhere. Benchmark use only.
#ifndef TERN_BENCH_SUPPORT_BEAST_PAIR_H_
#define TERN_BENCH_SUPPORT_BEAST_PAIR_H_

#include <optional>
#include <thread>
#include <utility>  // before Boost: Beast 1.74 uses std::exchange unannounced

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace tern::bench {

struct BeastPair {
  using Stream = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;

  explicit BeastPair(boost::asio::io_context& ioc)
      : acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}), client(ioc) {
    // The server's accept and handshake block: they run beside the client's.
    std::thread accepter([&] {
      server.emplace(acceptor.accept());
      server->next_layer().set_option(boost::asio::ip::tcp::no_delay(true));
      server->binary(true);
      server->accept();
    });
    client.next_layer().connect(acceptor.local_endpoint());
    client.next_layer().set_option(boost::asio::ip::tcp::no_delay(true));
    client.binary(true);
    client.handshake("127.0.0.1", "/");
    accepter.join();
  }

  boost::asio::ip::tcp::acceptor acceptor;
  Stream client;
  std::optional<Stream> server;
};

}  // namespace tern::bench

#endif  // TERN_BENCH_SUPPORT_BEAST_PAIR_H_
