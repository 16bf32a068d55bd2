// libFuzzer target for http::ClientConnection: a sequence of actions a
// backend and its caller take (queue a request, deliver response bytes,
// consume output, EOF, abort, read_space(), next()) checked step by step
// against a small model of the header's promises:
//   - in_flight() == requests queued - responses Complete (a failed
//     request stays in flight: "Requests still in flight then fail"), and
//     never above kMaxInFlight; front_method() is the oldest one's method;
//   - pending_output() is exactly the queued bytes not yet consumed (bytes
//     written but not queued are not in it); nothing_sent(i) is true iff the
//     transport took no byte of request i, so it never turns true again;
//   - queue_request() refuses exactly when the header says, and a refusal
//     leaves pending_output() and in_flight() as they were;
//   - once end_reason() is set it never changes and reusable() stays false;
//     response_error() is set iff the end was BadResponse;
//   - no Complete after the connection ended: responses are delivered only
//     while reusable() (the only end that can come while a response is
//     under way is abort(), and then nothing more is delivered); Failed is
//     sticky while requests are in flight;
//   - Complete: the request leaves the queue; the body lies inside the
//     read buffer, inside the response's message_size(), and within the
//     reader's max_body_size; never an interim 1xx; no body for HEAD, 204,
//     304 or a 2xx to CONNECT; 101 ends with Upgraded; a response without
//     keep-alive ends the connection; the views survive every call but
//     next();
//   - NeedMore with a request in flight means: not ended, no EOF, and room
//     to read into.
// After the actions, the responses still due are drained, EOF is given,
// and they are drained again.
// Input: [config][action count n][n x (op, arg)][response bytes...]
//   config bits 0-1 read buffer size, 2-3 write buffer size, 4-5 and 6-7
//   the Limits of the two readers (next() picks one per response; within a
//   response it keeps the one that started it); deliveries take the
//   response bytes in order.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>

#include "core/http/client_connection.h"
#include "core/http/tokens.h"
#include "core/http/response_reader.h"
#include "fuzz/check.h"

using tern::fuzz::check;
using namespace tern::http;

namespace {

// EOF seen with nothing left in flight ends the connection
// (tests/http/client_connection_test.cc, EofWithLastResponseBufferedEndsAfterIt).
constexpr bool kCheckEofEndsIdle = true;

constexpr std::size_t kReadSizes[] = {128, 256, 1024, 8192};
constexpr std::size_t kWriteSizes[] = {64, 256, 1024, 16384};
const Limits kLimits[] = {
    {},
    {.max_header_bytes = 64, .max_headers = 4, .max_body_size = 16},
    {.max_header_bytes = 200, .max_headers = 1, .max_body_size = 1},
    {.max_header_bytes = 1 << 20, .max_headers = 200, .max_body_size = 1 << 20},
};

// The requests queue() writes: each method's request line, some invalid.
constexpr std::string_view kRequests[] = {
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
    "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n",
    "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}",
    "PUT /d HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
    "DELETE /e HTTP/1.1\r\nHost: h\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    "PATCH /f HTTP/1.1\r\nHost: h\r\n\r\n",
    "FOO /g HTTP/1.1\r\n\r\n",  // Method::Other
    "GET\r\n\r\n",              // no SP: BadRequestLine
    " GET / HTTP/1.1\r\n\r\n",  // empty method: BadRequestLine
    "",                         // Empty
};
constexpr std::size_t kRequestKinds = sizeof kRequests / sizeof kRequests[0];

struct Request {
  std::uint64_t start;  // offset of its first byte in the output stream
  Method method;
  bool sent_seen;       // nothing_sent() was false once
};

// What the header says the method of `request` is: the text before the
// first SP, which must be there and not first (the implementation looks at
// the first 16 bytes only).
// The header's rule: "METHOD " within kMaxMethodLength + 1 bytes, the
// method a token (RFC 9110 §9.1).
bool request_method(std::string_view request, Method* m) {
  const std::size_t sp = request.substr(0, ClientConnection::kMaxMethodLength + 1).find(' ');
  if (sp == std::string_view::npos || sp == 0) return false;
  for (char c : request.substr(0, sp)) {
    if (!tern::http::is_token_char(static_cast<std::uint8_t>(c))) return false;
  }
  *m = parse_method(request.substr(0, sp));
  return true;
}

class Run {
 public:
  Run(std::uint8_t config, std::string_view responses)
      : c_({.read_buffer_size = kReadSizes[config & 3],
            .write_buffer_size = kWriteSizes[(config >> 2) & 3]}),
        readers_{ResponseReader(kLimits[(config >> 4) & 3]),
                 ResponseReader(kLimits[(config >> 6) & 3])},
        limits_{kLimits[(config >> 4) & 3], kLimits[(config >> 6) & 3]},
        responses_(responses) {}

  void step(std::uint8_t op, std::uint8_t arg) {
    switch (op & 7) {
      case 0: queue(arg); break;
      case 1: deliver(std::size_t{arg} + 1); break;
      case 2: next(arg & 1, (arg & 2) != 0); break;
      case 3: consume(arg == 255 ? ~std::size_t{0} : arg); break;
      case 4: eof(); break;
      case 5:
        if (arg % 4 == 0) abort();
        break;
      case 6: write_unqueued(arg % 24); break;
      case 7: read_space(); break;
    }
    check_state(op & 7);
  }

  void finish() {
    for (int i = 0; i < 40 && c_.in_flight() > 0; ++i) next(i & 1, false);
    if (!eof_) eof();
    for (int i = 0; i < 40 && c_.in_flight() > 0; ++i) next(i & 1, false);
    check_state(2);
  }

 private:
  void queue(std::uint8_t arg) {
    const std::string_view request = kRequests[arg % kRequestKinds];
    const bool whole = (arg & 0x80) != 0;  // queue_request(span)
    const std::size_t pending = c_.pending_output().size();
    const std::size_t in_flight = c_.in_flight();
    const bool reusable = c_.reusable();
    std::string fresh;  // what queue_request() takes as the request
    QueueError expected = QueueError::None;
    if (whole) {
      // It drops half-written bytes, then appends, then queues.
      const std::size_t room = c_.request_buffer().spare().size() + unqueued_.size();
      fresh = std::string(request);
      // After the server's EOF nothing new will be answered.
      if (!reusable || eof_) expected = QueueError::NotReusable;
      else if (request.size() > room) expected = QueueError::BufferFull;
    } else {
      if (!c_.request_buffer().append(bytes(request))) return;  // cannot even write it
      unqueued_ += request;
      fresh = unqueued_;
      if (!reusable || eof_) expected = QueueError::NotReusable;
    }
    Method method = Method::Get;
    if (expected == QueueError::None) {
      if (fresh.empty()) expected = QueueError::Empty;
      else if (in_flight == ClientConnection::kMaxInFlight) expected = QueueError::TooManyInFlight;
      else if (!request_method(fresh, &method)) expected = QueueError::BadRequestLine;
    }

    const QueueError e = whole ? c_.queue_request(bytes(request)) : c_.queue_request();
    check(e == expected, "queue_request() refuses exactly as the header says");
    if (e != QueueError::None) {
      check(c_.pending_output().size() == pending, "a refused request leaves pending_output()");
      check(c_.in_flight() == in_flight, "a refused request leaves in_flight()");
      // Every refusal drops the bytes written but not queued.
      check(c_.request_buffer().size() == pending, "a refused request's bytes are dropped");
      unqueued_.clear();
      return;
    }
    check(c_.in_flight() == in_flight + 1, "a queued request is in flight");
    check(c_.pending_output().size() == pending + fresh.size(), "pending_output() grows by the request");
    check(std::memcmp(c_.pending_output().data() + pending, fresh.data(), fresh.size()) == 0,
          "pending_output() ends with the request's bytes");
    requests_.push_back({queued_bytes_, method, false});
    queued_bytes_ += fresh.size();
    unqueued_.clear();
  }

  void deliver(std::size_t k) {
    while (k > 0 && fed_ < responses_.size()) {
      std::span<std::uint8_t> space = c_.read_space();
      if (space.empty()) return;
      const std::size_t n = std::min({k, space.size(), responses_.size() - fed_});
      std::memcpy(space.data(), responses_.data() + fed_, n);
      c_.commit(n);
      fed_ += n;
      k -= n;
    }
  }

  void next(int which, bool drain) {
    for (int i = 0; i < (drain ? 40 : 1); ++i) {
      if (next_once(which) != Progress::Complete) return;
    }
  }

  Progress next_once(int which) {
    // The reader may change between responses, not within one: the
    // connection resets and primes only the reader that starts a response.
    if (underway_ >= 0) which = underway_;
    ResponseReader& r = readers_[which];
    const bool ended = !c_.reusable();
    const std::size_t in_flight = c_.in_flight();
    const Method method = c_.front_method();
    held_ = nullptr;
    const Progress p = c_.next(r);
    if (in_flight == 0) {
      check(p == Progress::NeedMore, "next() with nothing in flight is NeedMore");
      return p;
    }
    if (failed_) check(p == Progress::Failed, "Failed is sticky");
    underway_ = p == Progress::NeedMore ? which : -1;
    if (p == Progress::Failed) {
      failed_ = true;
      check(!c_.reusable(), "Failed ends the connection");
      check(c_.in_flight() == in_flight, "a failed request stays in flight");
      return p;
    }
    if (p == Progress::NeedMore) {
      check(!ended, "NeedMore only while the connection lasts");
      check(!eof_, "after EOF a response completes or fails");
      check(c_.in_flight() == in_flight, "NeedMore leaves the request in flight");
      check(!c_.read_space().empty(), "NeedMore leaves room to read into");
      return p;
    }
    // Complete.
    check(!ended, "no Complete after the connection ended");
    check(c_.in_flight() == in_flight - 1, "Complete takes the request out of the queue");
    requests_.pop_front();
    const std::span<const std::uint8_t> data = c_.read_buffer().data();
    const std::size_t size = r.message_size();
    check(size > 0 && size <= data.size(), "the response lies in the read buffer");
    const std::string_view body = r.body();
    const auto* b = reinterpret_cast<const std::uint8_t*>(body.data());
    check(body.empty() || (b >= data.data() && b + body.size() <= data.data() + size),
          "the body lies inside the response's bytes");
    check(body.size() <= limits_[which].max_body_size, "the body is within max_body_size");
    check(r.headers().size() + r.trailers().size() <= limits_[which].max_headers,
          "the fields are within max_headers");
    const int status = r.status();
    // Any three digits; codes outside 100..599 count as final (RFC 9110 §15).
    check(status >= 0 && status <= 999 && (status == 101 || status < 100 || status >= 200),
          "only a final response or 101");
    if (method == Method::Head || status == 204 || status == 304 || status == 101 ||
        (method == Method::Connect && status >= 200 && status < 300)) {
      check(body.empty(), "no body for HEAD, 204, 304, 101 or a 2xx to CONNECT");
    }
    if (status == 101) check(c_.end_reason() == EndReason::Upgraded, "101 ends with Upgraded");
    if (!r.keep_alive()) check(!c_.reusable(), "no keep-alive ends the connection");
    if (r.keep_alive() && status != 101) {
      check(c_.reusable() || (eof_ && c_.in_flight() == 0) || method == Method::Connect,
            "keep-alive keeps the connection");
    }
    if (kCheckEofEndsIdle && eof_ && c_.in_flight() == 0) {
      check(!c_.reusable(), "EOF with nothing in flight ends the connection");
    }
    held_ = &r;
    held_status_ = status;
    held_body_.assign(body);
    return p;
  }

  void consume(std::size_t n) {
    const std::size_t pending = c_.pending_output().size();
    c_.consume_output(n);
    consumed_ += std::min(n, pending);
  }

  void eof() {
    c_.receive_eof();
    eof_ = true;
    if (c_.in_flight() == 0) check(!c_.reusable(), "EOF while idle ends the connection at once");
  }

  void abort() {
    const bool reusable = c_.reusable();
    c_.abort();
    if (reusable) check(c_.end_reason() == EndReason::Aborted, "abort() poisons");
  }

  void write_unqueued(std::size_t n) {
    const std::string_view part = std::string_view("GET /x HTTP/1.1\r\n\r\n").substr(0, n);
    if (c_.request_buffer().append(bytes(part))) unqueued_ += part;
  }

  void read_space() { (void)c_.read_space(); }

  void check_state(int op) {
    check(c_.in_flight() <= ClientConnection::kMaxInFlight, "in_flight() <= kMaxInFlight");
    check(c_.in_flight() == requests_.size(), "in_flight() == queued - completed");
    check(c_.front_method() == (requests_.empty() ? Method::Get : requests_.front().method),
          "front_method() is the oldest request's");
    check(c_.pending_output().size() == queued_bytes_ - consumed_,
          "pending_output() is the queued bytes not yet consumed");
    check(c_.request_buffer().size() == c_.pending_output().size() + unqueued_.size(),
          "the request buffer holds the queued and the unqueued bytes");
    for (std::size_t i = 0; i < requests_.size(); ++i) {
      Request& q = requests_[i];
      const bool unsent = c_.nothing_sent(i);
      check(unsent == (consumed_ <= q.start), "nothing_sent() iff no byte was taken");
      check(!(unsent && q.sent_seen), "nothing_sent() never turns true again");
      q.sent_seen |= !unsent;
    }
    check(!c_.nothing_sent(requests_.size()), "nothing_sent() is false past the queue");
    check(c_.reusable() == (c_.end_reason() == EndReason::None), "reusable() iff no end reason");
    if (end_ != EndReason::None) {
      check(c_.end_reason() == end_, "the end reason never changes");
    }
    end_ = c_.end_reason();
    check((c_.response_error() != Error::None) == (end_ == EndReason::BadResponse),
          "response_error() iff BadResponse");
    // Views of a Complete response live until the next next(), whatever
    // else is called (read_space() and deliveries included).
    if (held_ != nullptr) {
      check(held_->status() == held_status_ && held_->body() == held_body_,
            "a Complete response's views live until the next next()");
    }
  }

  static std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }

  ClientConnection c_;
  ResponseReader readers_[2];
  Limits limits_[2];
  std::string_view responses_;
  std::size_t fed_ = 0;
  std::deque<Request> requests_;
  std::string unqueued_;
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t consumed_ = 0;
  bool eof_ = false;
  bool failed_ = false;
  int underway_ = -1;  // the reader of the response under way
  EndReason end_ = EndReason::None;
  const ResponseReader* held_ = nullptr;
  int held_status_ = 0;
  std::string held_body_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t actions = std::min<std::size_t>(data[1], (size - 2) / 2);
  const std::uint8_t* ops = data + 2;
  const std::string_view responses(reinterpret_cast<const char*>(ops + 2 * actions),
                                   size - 2 - 2 * actions);
  Run run(data[0], responses);
  for (std::size_t i = 0; i < actions; ++i) run.step(ops[2 * i], ops[2 * i + 1]);
  run.finish();
  return 0;
}
