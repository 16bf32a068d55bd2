// http_client [--ca FILE] [--max-body N] [--timeout MS] [--backend=posix|epoll]
//             METHOD URL [URL ...]
//
// Sends METHOD to each http:// or https:// URL in order (HTTP/1.1, Host from
// the URL), keeping one persistent connection while the next URL has the same
// scheme, host and port and the previous response allowed keep-alive. For
// each response (1xx skipped) it prints on stdout:
//   STATUS <code>
//   BODY-SHA256 <lower-case hex SHA-256 of the de-chunked body>
//   BODY-LEN <bytes>
// HEAD, 204 and 304 have an empty body. The first failure (connect, TLS,
// timeout, malformed or truncated response, body over --max-body) prints
// "ERROR <reason>" and exits 1; bad usage exits 2; 0 after the last response,
// at once (it does not wait for the server to close).
#include <openssl/evp.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/http/method.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/url/url.h"
#include "tests/interop/backend.h"
#include "tests/interop/cli.h"

namespace tern::interop {
namespace {

constexpr std::string_view kUsage =
    "usage: http_client [--ca FILE] [--max-body N] [--timeout MS] [--backend=NAME]\n"
    "                   METHOD URL [URL ...]\n"
    "  METHOD      GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS or TRACE\n"
    "  --ca        trust only this PEM CA file for https:// (default: system store)\n"
    "  --max-body  largest accepted (de-chunked) body in bytes (default 1048576)\n"
    "  --timeout   connect and per-read timeout in ms, 0 = none (default 10000)\n"
    "  --backend   one of: posix, epoll (default posix)";

struct Target {
  std::string text;  // the URL as given; `url` views into it
  Url url;
};

struct Config {
  http::Method method = http::Method::Get;
  std::vector<Target> targets;
  std::optional<tls::TlsConfig> tls;
  std::size_t max_body = 1u << 20;
  absl::Duration timeout = absl::Seconds(10);
};

bool same_origin(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.port == b.port && a.host == b.host;
}

std::string sha256_hex(std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(body.data(), body.size(), md, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

template <typename B>
typename B::template Task<absl::Status> run(typename B::Context& ctx, const Config& c) {
  HttpOptions o;
  o.tls = c.tls ? &*c.tls : nullptr;
  o.socket.connect_timeout = c.timeout == absl::InfiniteDuration() ? absl::Seconds(60) : c.timeout;
  o.socket.read_timeout = c.timeout;
  // Head, trailers and one read's worth of chunk framing besides the body
  // (chunks are decoded in place as they arrive).
  o.read_buffer_size = c.max_body + (128u << 10);

  http::Limits limits;
  limits.max_body_size = c.max_body;
  http::ResponseReader reader(limits);

  std::optional<typename B::HttpConnection> conn;
  const Url* conn_url = nullptr;
  std::optional<http::RequestWriter> writer;
  std::string writer_host;
  for (const Target& t : c.targets) {
    if (!conn || !B::usable(*conn) || !same_origin(*conn_url, t.url)) {
      conn.reset();
      absl::StatusOr<typename B::HttpConnection> fresh = co_await B::connect_http(ctx, t.text, o);
      if (!fresh.ok()) co_return fresh.status();
      conn.emplace(*std::move(fresh));
      conn_url = &t.url;
    }
    if (std::string host = host_field(t.url); !writer || host != writer_host) {
      absl::StatusOr<http::RequestWriter> w = http::RequestWriter::create({.host = host});
      if (!w.ok()) co_return w.status();
      writer.emplace(*std::move(w));
      writer_host = std::move(host);
    }
    const std::string target =
        t.url.has_query ? absl::StrCat(av(t.url.path), "?", av(t.url.query)) : std::string(t.url.path);
    const http::WriteResult req = writer->start(conn->request_buffer(), c.method, target).finish();
    if (!req.ok()) {
      co_return absl::InvalidArgumentError(
          absl::StrCat("cannot write request for ", t.text, ": ", av(http::name(req.error))));
    }
    absl::StatusOr<HttpResponse> resp = co_await B::send(*conn, reader);
    if (!resp.ok()) co_return resp.status();
    std::printf("STATUS %d\nBODY-SHA256 %s\nBODY-LEN %zu\n", resp->status, sha256_hex(resp->body).c_str(),
                resp->body.size());
  }
  std::fflush(stdout);
  co_return absl::OkStatus();
}

int main_impl(int argc, char** argv) {
  CommandLine cl = parse_command_line(argc, argv, {"ca", "max-body", "timeout", "backend"});
  if (!cl.error.empty()) return usage(kUsage, cl.error);
  if (cl.positional.size() < 2) return usage(kUsage, "expected METHOD and at least one URL");
  Config c;
  c.method = http::parse_method(cl.positional[0]);
  if (c.method == http::Method::Other || c.method == http::Method::Connect) {
    return usage(kUsage, absl::StrCat("unsupported method \"", cl.positional[0], "\""));
  }
  if (auto mb = cl.flag("max-body")) {
    absl::StatusOr<std::uint64_t> n = parse_size(*mb);
    if (!n.ok() || *n > (std::uint64_t{1} << 34)) return usage(kUsage, "--max-body must be 0..16 GiB");
    c.max_body = static_cast<std::size_t>(*n);
  }
  absl::StatusOr<absl::Duration> t = parse_timeout(cl.flag("timeout"), absl::Seconds(10));
  if (!t.ok()) return usage(kUsage, sv(t.status().message()));
  c.timeout = *t;
  c.targets.reserve(cl.positional.size() - 1);
  bool any_https = false;
  for (std::size_t i = 1; i < cl.positional.size(); ++i) {
    Target& tg = c.targets.emplace_back();
    tg.text = cl.positional[i];
  }
  // Parse once the vector no longer moves: Url views into Target::text.
  for (Target& tg : c.targets) {
    if (const UrlError e = parse_url(tg.text, tg.url); e != UrlError::kNone) {
      return fail(absl::InvalidArgumentError(absl::StrCat("bad URL \"", tg.text, "\": ", av(name(e)))));
    }
    if (tg.url.websocket()) {
      return fail(absl::InvalidArgumentError(absl::StrCat("not an http(s) URL: \"", tg.text, "\"")));
    }
    any_https = any_https || tg.url.secure();
  }
  if (any_https) {
    absl::StatusOr<tls::TlsConfig> tls = client_tls(cl.flag("ca"));
    if (!tls.ok()) return fail(tls.status());
    c.tls = *std::move(tls);
  }
  return run_selected_backend(cl, kUsage, [&](auto b, auto& ctx) {
    using B = decltype(b);
    const absl::Status st = B::run(ctx, run<B>(ctx, c));
    if (!st.ok()) {
      std::fflush(stdout);
      return fail(st);
    }
    return 0;
  });
}

}  // namespace
}  // namespace tern::interop

int main(int argc, char** argv) { return tern::interop::main_impl(argc, argv); }
