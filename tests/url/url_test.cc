#include "core/url/url.h"

#include <string>

#include "gtest/gtest.h"

namespace tern {
namespace {

struct Good {
  const char* text;
  Scheme scheme;
  const char* host;
  bool ipv6;
  int port;
  bool default_port;
  const char* path;
  bool has_query;
  const char* query;
};

// RFC 6455 §3 and RFC 3986 §3 forms, with the defaults each implies.
const Good kGood[] = {
    {"ws://example.com", Scheme::kWs, "example.com", false, 80, true, "/", false, ""},
    {"wss://example.com/", Scheme::kWss, "example.com", false, 443, true, "/", false, ""},
    {"WSS://Example.COM:443/chat", Scheme::kWss, "Example.COM", false, 443, true, "/chat", false, ""},
    {"ws://127.0.0.1:9001/runCase?case=7&agent=tern", Scheme::kWs, "127.0.0.1", false, 9001, false,
     "/runCase", true, "case=7&agent=tern"},
    {"ws://[::1]:8080/a/b?x", Scheme::kWs, "::1", true, 8080, false, "/a/b", true, "x"},
    {"wss://[2001:db8::7]/", Scheme::kWss, "2001:db8::7", true, 443, true, "/", false, ""},
    {"ws://[::ffff:192.0.2.1]", Scheme::kWs, "::ffff:192.0.2.1", true, 80, true, "/", false, ""},
    {"ws://host?only=query", Scheme::kWs, "host", false, 80, true, "/", true, "only=query"},
    {"ws://host/?", Scheme::kWs, "host", false, 80, true, "/", true, ""},
    {"http://api.exchange.test:8080/api/v3/order?symbol=BTC%2DUSD", Scheme::kHttp,
     "api.exchange.test", false, 8080, false, "/api/v3/order", true, "symbol=BTC%2DUSD"},
    {"https://h:65535", Scheme::kHttps, "h", false, 65535, false, "/", false, ""},
    {"http://h:80/", Scheme::kHttp, "h", false, 80, true, "/", false, ""},
};

TEST(ParseUrl, AcceptsWellFormedUrls) {
  for (const Good& g : kGood) {
    SCOPED_TRACE(g.text);
    Url url;
    ASSERT_EQ(parse_url(g.text, url), UrlError::kNone);
    EXPECT_EQ(url.scheme, g.scheme);
    EXPECT_EQ(url.host, g.host);
    EXPECT_EQ(url.host_is_ipv6, g.ipv6);
    EXPECT_EQ(url.port, g.port);
    EXPECT_EQ(url.port_is_default, g.default_port);
    EXPECT_EQ(url.path, g.path);
    EXPECT_EQ(url.has_query, g.has_query);
    EXPECT_EQ(url.query, g.query);
  }
}

TEST(ParseUrl, ViewsPointIntoTheInput) {
  const std::string text = "wss://feed.test:9443/md?x=1";
  Url url;
  ASSERT_EQ(parse_url(text, url), UrlError::kNone);
  EXPECT_TRUE(url.secure());
  EXPECT_TRUE(url.websocket());
  EXPECT_GE(url.host.data(), text.data());
  EXPECT_LE(url.query.data() + url.query.size(), text.data() + text.size());
}

struct Bad {
  const char* text;
  UrlError error;
};

const Bad kBad[] = {
    {"example.com/x", UrlError::kBadScheme},
    {"ftp://example.com", UrlError::kBadScheme},
    {"ws:/example.com", UrlError::kBadScheme},
    {"ws://", UrlError::kMissingHost},
    {"ws:///path", UrlError::kMissingHost},
    {"ws://:80/", UrlError::kMissingHost},
    {"ws://user:pw@host/", UrlError::kUserinfo},
    {"ws://[::1/", UrlError::kBadIpv6Literal},
    {"ws://[]/", UrlError::kBadIpv6Literal},
    {"ws://[1.2.3.4]/", UrlError::kBadIpv6Literal},
    {"ws://[::1]x/", UrlError::kBadIpv6Literal},
    {"ws://[::g]/", UrlError::kBadIpv6Literal},
    {"ws://::1]/", UrlError::kBadIpv6Literal},
    {"ws://ho st/", UrlError::kBadHost},
    {"ws://host\r\nX: y/", UrlError::kBadHost},
    {"ws://host:/", UrlError::kBadPort},
    {"ws://host:0/", UrlError::kBadPort},
    {"ws://host:65536/", UrlError::kBadPort},
    {"ws://host:123456/", UrlError::kBadPort},
    {"ws://host:8o/", UrlError::kBadPort},
    {"ws://host:+80/", UrlError::kBadPort},
    {"ws://host/#frag", UrlError::kFragment},
    {"ws://host/a b", UrlError::kBadTarget},
    {"ws://host/a\r\nInjected: 1", UrlError::kBadTarget},
    {"ws://host/caf\xc3\xa9", UrlError::kBadTarget},
};

TEST(ParseUrl, RejectsEachFaultPrecisely) {
  for (const Bad& b : kBad) {
    SCOPED_TRACE(b.text);
    Url url;
    EXPECT_EQ(parse_url(b.text, url), b.error) << name(parse_url(b.text, url));
  }
}

TEST(ParseUrl, ErrorNamesAreDistinct) {
  EXPECT_EQ(name(UrlError::kBadPort), "BadPort");
  EXPECT_EQ(name(UrlError::kFragment), "Fragment");
}

TEST(HostField, BracketsIpv6AndOmitsTheSchemesDefaultPort) {
  const struct {
    const char* url;
    const char* host;
  } cases[] = {
      {"ws://example.com/", "example.com"},
      {"wss://example.com:443/", "example.com"},
      {"wss://example.com:8443/", "example.com:8443"},
      {"http://10.0.0.1:80/x", "10.0.0.1"},
      {"https://10.0.0.1:80/x", "10.0.0.1:80"},
      {"http://[::1]/", "[::1]"},
      {"https://[::1]:9443/", "[::1]:9443"},
  };
  for (const auto& c : cases) {
    Url url;
    ASSERT_EQ(parse_url(c.url, url), UrlError::kNone) << c.url;
    EXPECT_EQ(host_field(url), c.host) << c.url;
  }
}

}  // namespace
}  // namespace tern
