#include "core/http/client_connection.h"

#include <algorithm>
#include <cstring>

#include "core/http/tokens.h"

namespace tern::http {

std::string_view name(EndReason reason) noexcept {
  switch (reason) {
    case EndReason::None: return "None";
    case EndReason::ConnectionClose: return "ConnectionClose";
    case EndReason::CloseDelimited: return "CloseDelimited";
    case EndReason::Upgraded: return "Upgraded";
    case EndReason::PeerClosed: return "PeerClosed";
    case EndReason::BadResponse: return "BadResponse";
    case EndReason::UnsolicitedResponse: return "UnsolicitedResponse";
    case EndReason::Aborted: return "Aborted";
  }
  return "Unknown";
}

std::string_view name(QueueError error) noexcept {
  switch (error) {
    case QueueError::None: return "None";
    case QueueError::NotReusable: return "NotReusable";
    case QueueError::Empty: return "Empty";
    case QueueError::BadRequestLine: return "BadRequestLine";
    case QueueError::TooManyInFlight: return "TooManyInFlight";
    case QueueError::BufferFull: return "BufferFull";
  }
  return "Unknown";
}

ClientConnection::ClientConnection(const Options& o)
    : in_(o.read_buffer_size), out_(o.write_buffer_size) {}

QueueError ClientConnection::queue_request() noexcept {
  const std::size_t fresh = out_.size() - queued_unsent_;
  QueueError e = QueueError::None;
  Method method = Method::Get;
  if (end_ != EndReason::None || eof_) {
    e = QueueError::NotReusable;  // after the server's EOF, nothing new will be answered
  } else if (fresh == 0) {
    e = QueueError::Empty;
  } else if (count_ == kMaxInFlight) {
    e = QueueError::TooManyInFlight;
  } else {
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
    const std::span<const std::uint8_t> bytes = out_.data().subspan(queued_unsent_);
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                                std::min<std::size_t>(bytes.size(), kMaxMethodLength + 1));
    const std::size_t sp = text.find(' ');
    if (sp == std::string_view::npos || sp == 0 || !is_token(text.substr(0, sp))) {
      e = QueueError::BadRequestLine;
    } else {
      method = parse_method(text.substr(0, sp));
    }
  }
  if (e != QueueError::None) {
    out_.truncate(queued_unsent_);
    return e;
  }
  ring_[(head_ + count_) % kMaxInFlight] = {method, queued_total_};
  ++count_;
  queued_unsent_ += fresh;
  queued_total_ += fresh;
  return QueueError::None;
}

QueueError ClientConnection::queue_request(std::span<const std::uint8_t> request) noexcept {
  out_.truncate(queued_unsent_);  // nothing half-written may ride along
  if (end_ != EndReason::None || eof_) return QueueError::NotReusable;
  if (!out_.append(request)) return QueueError::BufferFull;
  return queue_request();
}

void ClientConnection::consume_output(std::size_t n) noexcept {
  n = std::min(n, queued_unsent_);
  out_.consume(n);
  queued_unsent_ -= n;
  sent_total_ += n;
}

bool ClientConnection::nothing_sent(std::size_t index) const noexcept {
  if (index >= count_) return false;
  return sent_total_ <= ring_[(head_ + index) % kMaxInFlight].start;
}

std::span<std::uint8_t> ClientConnection::read_space() noexcept {
  // Not while a completed response's views are live (until the next next()).
  if (in_.spare().empty() && previous_size_ == 0) in_.compact();
  return in_.spare();
}

void ClientConnection::commit(std::size_t n) noexcept {
  n = std::min(n, in_.spare().size());
  (void)in_.commit(n);
  // Bytes with nothing asked (a "408 Request Timeout" on an idle keep-alive
  // connection, say) must not become the answer to the next request.
  if (n != 0 && count_ == 0) end(EndReason::UnsolicitedResponse);
}

Progress ClientConnection::next(ResponseReader& reader) noexcept {
  // The previous response's bytes go now, so its views lived until here.
  if (previous_size_ != 0) {
    in_.consume(previous_size_);
    previous_size_ = 0;
  }
  if (count_ == 0) {
    // Nothing asked: bytes from the server are a protocol error, and its
    // EOF ends the connection (an idle keep-alive close).
    if (!in_.empty()) end(EndReason::UnsolicitedResponse);
    if (eof_) end(EndReason::PeerClosed);
    return Progress::NeedMore;
  }
  // A request queued behind a response that ended the connection will never
  // be answered; a poisoned transport delivers nothing more.
  if (end_ == EndReason::Aborted || (!parsing_ && end_ != EndReason::None)) return Progress::Failed;
  if (!parsing_) {
    // reset() makes whichever reader the caller passes forget older
    // messages; the method decides whether a body follows (HEAD).
    reader.reset();
    reader.set_request_method(ring_[head_].method);
    parsing_ = true;
  }
  Progress p = reader.next(in_);
  bool at_eof = false;
  if (p == Progress::NeedMore && eof_) {
    p = reader.finish(in_);
    at_eof = true;
  }
  if (p == Progress::NeedMore) return p;
  parsing_ = false;
  if (p == Progress::Failed) {
    response_error_ = reader.error();
    end(EndReason::BadResponse);
    return p;
  }
  const Method method = ring_[head_].method;
  head_ = (head_ + 1) % kMaxInFlight;
  --count_;
  previous_size_ = reader.message_size();
  if (at_eof) {
    end(EndReason::CloseDelimited);
  } else if (reader.status() == 101 ||
             (method == Method::Connect && reader.status() >= 200 && reader.status() < 300)) {
    // RFC 9110 §9.3.6: after a 2xx to CONNECT the connection is a tunnel.
    end(EndReason::Upgraded);
  } else if (!reader.keep_alive()) {
    end(EndReason::ConnectionClose);
  } else if (eof_ && count_ == 0) {
    end(EndReason::PeerClosed);  // the server closed right after this response
  }
  return p;
}

}  // namespace tern::http
