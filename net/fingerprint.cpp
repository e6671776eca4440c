#include "net/fingerprint.hpp"

namespace lanchat::net {

std::string grouped_fingerprint(std::string_view hex) {
  std::string s;
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    if (!s.empty()) s += ' ';
    s += hex.substr(i, 4);
  }
  return s;
}

std::string short_fingerprint(std::string_view hex) {
  return grouped_fingerprint(hex.substr(0, 16));
}

std::optional<std::string> parse_fingerprint(std::string_view text) {
  for (std::string_view prefix : {"SHA256:", "sha256:", "SHA-256:", "sha256 ", "SHA256 "}) {
    if (text.substr(0, prefix.size()) == prefix) text.remove_prefix(prefix.size());
  }
  std::string hex;
  for (char c : text) {
    if (c == ' ' || c == ':' || c == '\t' || c == '-') continue;
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return std::nullopt;
    hex += c;
  }
  if (hex.size() != 64) return std::nullopt;
  return hex;
}

}  // namespace lanchat::net
