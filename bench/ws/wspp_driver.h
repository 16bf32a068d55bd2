// File: wspp_driver.h
//
// Plain C++ interface to websocketpp 0.8.2's hybi13 processor, so the frame
// benchmark (C++20) can drive it: websocketpp only compiles as C++17, so its
// code lives in wspp_driver.cc, built with -std=c++17. Benchmark use only.
#ifndef TERN_BENCH_WS_WSPP_DRIVER_H_
#define TERN_BENCH_WS_WSPP_DRIVER_H_

#include <cstddef>
#include <cstdint>

namespace tern::bench::wspp {

// processor::hybi13::consume() is websocketpp's closest thing to a sans-IO
// reader. It unmasks in place, so callers restore masked input per round.
class Parser {
 public:
  explicit Parser(bool server);
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  // Feeds n bytes; returns messages completed (-1 on error) and adds their
  // payload sizes to *bytes.
  long parse(std::uint8_t* data, std::size_t n, std::size_t* bytes);

 private:
  struct Impl;
  Impl* impl_;
};

// processor::hybi13::prepare_data_frame(): a message object in, a prepared
// (header + masked payload) message out, as connection::send() does.
class Encoder {
 public:
  explicit Encoder(bool server);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  // Encodes a Text frame; returns header + payload bytes produced (0 on error).
  std::size_t text(const char* data, std::size_t n);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace tern::bench::wspp

#endif  // TERN_BENCH_WS_WSPP_DRIVER_H_
