// File: client_connection.h
//
// ClientConnection is the client side of one persistent HTTP/1.1 connection
// as a sans-IO object (in the spirit of h11's Connection): which requests are
// in flight and what method each used, the bytes of the next response, and
// whether the connection may carry another request, or why not. Every tern
// backend drives one per HTTP connection; a user driving their own loop gets
// the same keep-alive and poisoning rules.
//
// Requests: write one (or several: pipelining) into request_buffer(), with a
// RequestWriter, then queue_request() marks it as sent-to-be; only queued
// bytes appear in pending_output(). The method is read from the request line,
// so a HEAD's response is known to have no body (RFC 9112 §6.3).
//
// Responses: the transport reads into read_space() and commit()s (or
// receive_eof()); next(reader) parses the response to the oldest request in
// flight with the caller's ResponseReader, whose Limits apply. On Complete,
// the reader's views (status, headers, body) borrow the read buffer until the
// next call to next(); the connection drops those bytes itself then, so a
// different reader may parse each response (but one response, from its first
// NeedMore to Complete, must be read by one reader: it holds the parse).
//
// Reuse (RFC 9112 §9.3): after a response that allows keep-alive the
// connection takes more requests. It ends for good, and end_reason() says
// why, on "Connection: close" (or HTTP/1.0 without keep-alive), a body that
// ran to EOF, a 101 or a 2xx to CONNECT, EOF (once the responses already
// received are read), a response that does not parse, bytes nobody asked
// for, or abort() (the caller's transport failed: the connection is
// poisoned). Requests still in flight then fail; none is retried here: the
// caller owns idempotency, and nothing_sent() tells it whether a request
// provably never reached the transport.
//
// Allocation: both buffers at construction, nothing afterwards.
//
//   tern::http::ClientConnection c({});
//   writer.start(c.request_buffer(), tern::http::Method::Get, "/time").finish();
//   c.queue_request();                      // then write pending_output()
//   while (c.next(reader) == tern::http::Progress::NeedMore) read_into(c);
#ifndef TERN_CORE_HTTP_CLIENT_CONNECTION_H_
#define TERN_CORE_HTTP_CLIENT_CONNECTION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/http/error.h"
#include "core/http/method.h"
#include "core/http/response_reader.h"

namespace tern::http {

// Why a connection takes no more requests.
enum class EndReason : std::uint8_t {
  None,                 // still reusable
  ConnectionClose,      // the server said so (Connection: close, or 1.0)
  CloseDelimited,       // the body ran until the server closed
  Upgraded,             // 101 Switching Protocols: no longer HTTP
  PeerClosed,           // EOF with no response under way
  BadResponse,          // a response did not parse: response_error()
  UnsolicitedResponse,  // bytes arrived with no request in flight
  Aborted,              // abort(): the transport failed (I/O, TLS, timeout)
};
std::string_view name(EndReason reason) noexcept;

// Why queue_request() refused a request (it is then dropped from the buffer).
enum class QueueError : std::uint8_t {
  None,
  NotReusable,      // end_reason() is set
  Empty,            // nothing written since the last queue_request()
  BadRequestLine,   // the bytes do not start with "METHOD "
  TooManyInFlight,  // kMaxInFlight requests already await responses
  BufferFull,       // queue_request(span): it does not fit the write buffer now
};
std::string_view name(QueueError error) noexcept;

struct ClientConnectionOptions {
  // A whole response (head and body) must fit: size it above the reader's
  // max_body_size.
  std::size_t read_buffer_size = (1u << 20) + (64u << 10);
  // Requests queued and not yet taken by the transport.
  std::size_t write_buffer_size = 64u << 10;
};

class ClientConnection {
 public:
  using Options = ClientConnectionOptions;
  // Pipelining depth: requests sent whose responses have not completed.
  static constexpr std::size_t kMaxInFlight = 32;
  // Longest request method queue_request() reads from a request line.
  static constexpr std::size_t kMaxMethodLength = 32;

  explicit ClientConnection(const Options& options = {});

  ClientConnection(ClientConnection&&) noexcept = default;
  ClientConnection& operator=(ClientConnection&&) noexcept = default;

  // --- requests -----------------------------------------------------------
  // Where the next request is written (after any not yet sent).
  WriteBuf& request_buffer() noexcept { return out_; }
  // Takes everything written to request_buffer() since the last call as one
  // request. On error the bytes are dropped and nothing is queued.
  QueueError queue_request() noexcept;
  // Copies `request` (built elsewhere) into the buffer and queues it.
  QueueError queue_request(std::span<const std::uint8_t> request) noexcept;

  // --- connection -> network ---------------------------------------------
  // Queued bytes not yet taken by the transport.
  std::span<const std::uint8_t> pending_output() const noexcept {
    return out_.data().first(queued_unsent_);
  }
  void consume_output(std::size_t n) noexcept;

  // --- network -> connection ---------------------------------------------
  // Where the transport writes received bytes (compacted first when the
  // tail is full, unless a completed response's views are still live).
  std::span<std::uint8_t> read_space() noexcept;
  void commit(std::size_t n) noexcept;
  ReadBuf& read_buffer() noexcept { return in_; }
  // The server closed its side. With nothing in flight the connection ends
  // at once (an idle keep-alive close); otherwise next() reports it.
  void receive_eof() noexcept {
    eof_ = true;
    if (count_ == 0) end(EndReason::PeerClosed);
  }

  // Parses the response to the oldest request in flight. NeedMore: read
  // more (or, with nothing in flight, nothing to do). Complete: `reader`
  // holds it; the request left the in-flight queue. Failed: the response
  // did not parse or the server closed first; the connection is finished.
  Progress next(ResponseReader& reader) noexcept;

  // Gives the buffers' memory back to the kernel while nothing is buffered
  // either way (an idle keep-alive connection; large buffers only). No-op
  // while a response's views are live or bytes are buffered.
  void release_memory() noexcept {
    if (previous_size_ != 0) return;
    in_.release_memory();
    out_.release_memory();
  }

  // --- state ----------------------------------------------------------------
  bool reusable() const noexcept { return end_ == EndReason::None; }
  EndReason end_reason() const noexcept { return end_; }
  // The reader's error when end_reason() is BadResponse.
  Error response_error() const noexcept { return response_error_; }
  // The transport failed: poison the connection (no-op once ended).
  void abort() noexcept { end(EndReason::Aborted); }

  std::size_t in_flight() const noexcept { return count_; }
  // The method of the oldest request in flight (Get when none).
  Method front_method() const noexcept {
    return count_ == 0 ? Method::Get : ring_[head_].method;
  }
  // True if no byte of the index-th oldest request in flight has been taken
  // by the transport: it is provably not on the wire, so a caller may send
  // it on another connection.
  bool nothing_sent(std::size_t index = 0) const noexcept;

 private:
  struct InFlight {
    Method method = Method::Get;
    std::uint64_t start = 0;  // offset of its first byte in the output stream
  };
  void end(EndReason reason) noexcept {
    if (end_ == EndReason::None) end_ = reason;
  }

  ReadBuf in_;
  WriteBuf out_;
  std::array<InFlight, kMaxInFlight> ring_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t queued_unsent_ = 0;  // bytes at out_'s front that are queued
  std::uint64_t queued_total_ = 0;  // bytes ever queued
  std::uint64_t sent_total_ = 0;    // bytes ever taken by the transport
  std::size_t previous_size_ = 0;   // completed response still in in_
  EndReason end_ = EndReason::None;
  Error response_error_ = Error::None;
  bool eof_ = false;
  bool parsing_ = false;  // a response to ring_[head_] has started
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_CLIENT_CONNECTION_H_
