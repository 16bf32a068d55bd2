// A WebSocket echo server on websocketpp 0.8.2's Asio transport (Boost
// Asio), one thread, for the many-connection benchmark. websocketpp only
// compiles as C++17.
//
//   wspp_echo_server PORT      (prints "listening on PORT")
#include <cstdio>
#include <cstdlib>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

using Server = websocketpp::server<websocketpp::config::asio>;

int main(int argc, char** argv) {
  Server s;
  s.clear_access_channels(websocketpp::log::alevel::all);
  s.clear_error_channels(websocketpp::log::elevel::all);
  s.init_asio();
  s.set_reuse_addr(true);
  s.set_listen_backlog(4096);
  // After accept (the socket is open then): Nagle off, as on every server here.
  s.set_tcp_post_init_handler([&s](websocketpp::connection_hdl h) {
    boost::system::error_code ec;
    s.get_con_from_hdl(h)->get_socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
  });
  s.set_message_handler([&s](websocketpp::connection_hdl h, Server::message_ptr m) {
    websocketpp::lib::error_code ec;
    s.send(h, m->get_payload(), m->get_opcode(), ec);
  });
  const unsigned short port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
  s.listen(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  websocketpp::lib::asio::error_code ec;
  const auto ep = s.get_local_endpoint(ec);
  std::printf("listening on %u\n", ep.port());
  std::fflush(stdout);
  s.start_accept();
  s.run();
  return 0;
}
