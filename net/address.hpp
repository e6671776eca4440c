#pragma once
// Host and port parsing for the command line and the launcher. No asio here: ui/ uses it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace lanchat::net {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// Parses "host", "host:port", "1.2.3.4:port", "[::1]:port". Returns a message on error.
std::variant<HostPort, std::string> parse_host_port(std::string_view text,
                                                    std::uint16_t default_port);
// "host:port", with an IPv6 address in brackets ("[fe80::1%eth0]:5555"): what
// parse_host_port reads back.
std::string host_port_text(std::string_view host, std::uint16_t port);
// Port from text: 1..65535 (allow_zero: 0 too, meaning "any free port").
std::variant<std::uint16_t, std::string> parse_port(std::string_view text, bool allow_zero);
// Checks that text is an IPv4/IPv6 address or a syntactically valid host name.
std::optional<std::string> check_host(std::string_view host);

}  // namespace lanchat::net
