// websocketpp driver (C++17). See wspp_driver.h.
#include <utility>  // before Boost/websocketpp headers (std::exchange)

#include "bench/ws/wspp_driver.h"

#include <memory>
#include <string>

#include <websocketpp/config/core.hpp>
#include <websocketpp/config/core_client.hpp>
#include <websocketpp/processors/hybi13.hpp>

namespace tern::bench::wspp {
namespace {

template <class Config>
struct Proc {
  using processor = websocketpp::processor::hybi13<Config>;
  using manager = typename Config::con_msg_manager_type;
  typename Config::rng_type rng;
  typename manager::ptr msgs = std::make_shared<manager>();
  processor p;
  explicit Proc(bool server) : p(false, server, msgs, rng) {}
};

}  // namespace

// The core config's rng is a stub; the reader never draws keys.
struct Parser::Impl : Proc<websocketpp::config::core> {
  using Proc::Proc;
};

Parser::Parser(bool server) : impl_(new Impl(server)) {}
Parser::~Parser() { delete impl_; }

long Parser::parse(std::uint8_t* data, std::size_t n, std::size_t* bytes) {
  long messages = 0;
  while (n > 0) {
    websocketpp::lib::error_code ec;
    const std::size_t used = impl_->p.consume(data, n, ec);
    if (ec) return -1;
    data += used;
    n -= used;
    if (impl_->p.ready()) {
      auto msg = impl_->p.get_message();
      *bytes += msg->get_payload().size();
      ++messages;
    }
  }
  return messages;
}

// core_client draws client masking keys from std::random_device (websocketpp's
// own choice for clients); the server role does not mask.
struct Encoder::Impl {
  explicit Impl(bool server) : server(server), client_proc(false), server_proc(true) {}
  bool server;
  Proc<websocketpp::config::core_client> client_proc;
  Proc<websocketpp::config::core> server_proc;
};

Encoder::Encoder(bool server) : impl_(new Impl(server)) {}
Encoder::~Encoder() { delete impl_; }

std::size_t Encoder::text(const char* data, std::size_t n) {
  auto run = [&](auto& proc) -> std::size_t {
    auto in = proc.msgs->get_message(websocketpp::frame::opcode::text, n);
    in->append_payload(data, n);
    auto out = proc.msgs->get_message();
    if (proc.p.prepare_data_frame(in, out)) return 0;
    return out->get_header().size() + out->get_payload().size();
  };
  return impl_->server ? run(impl_->server_proc) : run(impl_->client_proc);
}

}  // namespace tern::bench::wspp
