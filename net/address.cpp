#include "net/address.hpp"

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <algorithm>
#include "net/endpoint.hpp"

#include <charconv>

namespace lanchat::net {

using asio::ip::tcp;

std::string to_string(const tcp::endpoint& ep) {
  const auto a = ep.address();
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(ep.port());
  return a.to_string() + ":" + std::to_string(ep.port());
}

std::variant<std::uint16_t, std::string> parse_port(std::string_view text, bool allow_zero) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  const unsigned min = allow_zero ? 0 : 1;
  if (text.empty() || ec != std::errc() || p != end || value < min || value > 65535) {
    return "port must be a number from " + std::to_string(min) + " to 65535, not \"" +
           std::string(text) + "\"";
  }
  return static_cast<std::uint16_t>(value);
}

std::optional<std::string> check_host(std::string_view host) {
  if (host.empty()) return "host is empty";
  asio::error_code ec;
  (void)asio::ip::make_address(std::string(host), ec);
  if (!ec) return std::nullopt;
  // Looks like a dotted quad but is not one (e.g. 192.168.1.300): say so rather than try
  // to resolve it as a name.
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    return "\"" + std::string(host) + "\" is not a valid IPv4 address";
  }
  if (host.size() > 253) return "host name is too long";
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    const char c = i < host.size() ? host[i] : '.';
    if (c == '.') {
      if (label == 0 || label > 63) return "\"" + std::string(host) + "\" is not a valid host name";
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return "\"" + std::string(host) + "\" is not a valid host name or address";
    ++label;
  }
  return std::nullopt;
}

std::string host_port_text(std::string_view host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

std::variant<HostPort, std::string> parse_host_port(std::string_view text,
                                                    std::uint16_t default_port) {
  HostPort hp{std::string(), default_port};
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return "missing ']' in \"" + std::string(text) + "\"";
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "expected ':' after ']' in \"" + std::string(text) + "\"";
      port = rest.substr(1);
      if (port.empty()) return "missing port after ':'";
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return "missing port after ':'";
  }
  if (auto why = check_host(host)) return *why;
  hp.host = std::string(host);
  if (!port.empty()) {
    auto p = parse_port(port, false);
    if (auto* e = std::get_if<std::string>(&p)) return *e;
    hp.port = std::get<std::uint16_t>(p);
  }
  return hp;
}

std::variant<tcp::endpoint, std::string> resolve_bind_endpoint(asio::io_context& io,
                                                               const std::string& address,
                                                               std::uint16_t port) {
  asio::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (!ec) return tcp::endpoint(addr, port);
  if (auto why = check_host(address)) return "bad bind address: " + *why;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(address, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return "bad bind address \"" + address + "\": " + (ec ? ec.message() : "no address found");
  }
  // Prefer IPv4 so "localhost" means 127.0.0.1, which every client can reach.
  for (const auto& r : results) {
    if (r.endpoint().address().is_v4()) return r.endpoint();
  }
  return results.begin()->endpoint();
}

}  // namespace lanchat::net
