#include "tests/interop/cli.h"

#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tern::interop {

std::optional<std::string_view> CommandLine::flag(std::string_view name) const {
  auto it = flags.find(name);
  if (it == flags.end()) return std::nullopt;
  return std::string_view(it->second);
}

CommandLine parse_command_line(int argc, char** argv,
                               std::initializer_list<std::string_view> known_flags) {
  CommandLine cl;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (flags_done || a.size() < 3 || a.substr(0, 2) != "--") {
      cl.positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    std::string_view name = a.substr(2);
    std::string value;
    bool has_value = false;
    if (const std::size_t eq = name.find('='); eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
      has_value = true;
    }
    bool known = false;
    for (std::string_view k : known_flags) known = known || k == name;
    if (!known) {
      cl.error = absl::StrCat("unknown flag --", av(name));
      return cl;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        cl.error = absl::StrCat("flag --", av(name), " needs a value");
        return cl;
      }
      value = argv[++i];
    }
    cl.flags[std::string(name)] = std::move(value);
  }
  return cl;
}

absl::StatusOr<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t v = 0;
  if (!absl::SimpleAtoi(av(text), &v)) {
    return absl::InvalidArgumentError(absl::StrCat("not a non-negative integer: \"", av(text), "\""));
  }
  return v;
}

absl::StatusOr<absl::Duration> parse_timeout(std::optional<std::string_view> ms,
                                             absl::Duration fallback) {
  if (!ms) return fallback;
  absl::StatusOr<std::uint64_t> v = parse_size(*ms);
  if (!v.ok()) return v.status();
  return *v == 0 ? absl::InfiniteDuration() : absl::Milliseconds(static_cast<std::int64_t>(*v));
}

absl::StatusOr<tls::TlsConfig> client_tls(std::optional<std::string_view> ca_file) {
  tls::TlsConfig::Builder b = tls::TlsConfig::client();
  if (ca_file) b.use_system_trust_store(false).add_ca_file(std::string(*ca_file));
  return b.build();
}

absl::StatusOr<tls::TlsConfig> server_tls(std::string_view cert_file, std::string_view key_file) {
  return tls::TlsConfig::server()
      .certificate_chain_file(std::string(cert_file))
      .private_key_file(std::string(key_file))
      .build();
}

int fail(const absl::Status& status) {
  // One line whatever the message holds (OpenSSL reasons may contain '\n');
  // code and message only: payloads (a refused upgrade's HTTP status) are
  // for programs, and would change the line the tests match.
  std::string line = absl::StrReplaceAll(absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message()),
                                         {{"\n", " "}, {"\r", " "}});
  std::printf("ERROR %s\n", line.c_str());
  std::fflush(stdout);
  return kExitFailure;
}

int usage(std::string_view text, std::string_view problem) {
  std::fprintf(stderr, "%.*s\nerror: %.*s\n", static_cast<int>(text.size()), text.data(),
               static_cast<int>(problem.size()), problem.data());
  return kExitUsage;
}

}  // namespace tern::interop
