// File: cli.h
//
// Command-line plumbing shared by the interop programs: a small argv scanner
// (flags as --name=value or --name value, then positional arguments), the
// --backend and --timeout conventions, TLS configs from --ca and
// --tls-cert/--tls-key, and the one-line "ERROR <reason>" exit.
#ifndef TERN_TESTS_INTEROP_CLI_H_
#define TERN_TESTS_INTEROP_CLI_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/tls/tls_config.h"

namespace tern::interop {

// Debian's Abseil has its own string_view type.
inline absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view sv(absl::string_view s) { return {s.data(), s.size()}; }

// Exit codes: 0 success, 1 a failed connection or response, 2 bad usage.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct CommandLine {
  std::map<std::string, std::string, std::less<>> flags;
  std::vector<std::string> positional;
  std::string error;  // non-empty if the command line is malformed

  std::optional<std::string_view> flag(std::string_view name) const;
};

// Every flag takes a value. Flags may appear anywhere before "--"; unknown
// names set `error`.
CommandLine parse_command_line(int argc, char** argv,
                               std::initializer_list<std::string_view> known_flags);

// --timeout MS: 0 means none (absl::InfiniteDuration()).
absl::StatusOr<absl::Duration> parse_timeout(std::optional<std::string_view> ms,
                                             absl::Duration fallback);
absl::StatusOr<std::uint64_t> parse_size(std::string_view text);

// Client trust: the test CA in `ca_file` only, or the system store if none.
absl::StatusOr<tls::TlsConfig> client_tls(std::optional<std::string_view> ca_file);
// Server identity from PEM files.
absl::StatusOr<tls::TlsConfig> server_tls(std::string_view cert_file, std::string_view key_file);

// Prints "ERROR <code>: <message>" (one line) on stdout, flushes, returns
// kExitFailure.
int fail(const absl::Status& status);
// Prints the usage text and the problem on stderr, returns kExitUsage.
int usage(std::string_view text, std::string_view problem);

}  // namespace tern::interop

#endif  // TERN_TESTS_INTEROP_CLI_H_
