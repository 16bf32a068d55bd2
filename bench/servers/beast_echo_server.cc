// A WebSocket echo server on Boost.Beast's asynchronous stream, one
// io_context thread (Debian's Boost 1.74), for the many-connection
// benchmark. The usual Beast session: async_read into a flat_buffer, then
// async_write of it.
//
//   beast_echo_server PORT      (prints "listening on PORT")
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>  // before Boost: Beast 1.74 uses std::exchange unannounced

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket s) : ws_(std::move(s)) {}
  void start() {
    ws_.next_layer().set_option(tcp::no_delay(true));
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->ws_.binary(self->ws_.got_binary());
      self->ws_.async_write(self->buffer_.data(), [self](beast::error_code ec2, std::size_t) {
        if (ec2) return;
        self->buffer_.consume(self->buffer_.size());
        self->read();
      });
    });
  }
  beast::websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket s) {
    if (!ec) std::make_shared<Session>(std::move(s))->start();
    accept(acceptor);
  });
}

int main(int argc, char** argv) {
  net::io_context ioc(1);
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0)});
  acceptor.listen(4096);
  std::printf("listening on %u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  accept(acceptor);
  ioc.run();
  return 0;
}
