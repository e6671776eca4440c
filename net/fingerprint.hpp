#pragma once
// Host identity fingerprints as people read, compare and paste them. Apart from the TLS
// machinery so that the UI can show them.
#include <optional>
#include <string>
#include <string_view>

namespace lanchat::net {

// "3F2A 91C0 …": the fingerprint as people compare it, in groups of four.
std::string grouped_fingerprint(std::string_view hex);
// The first four groups, for a status line.
std::string short_fingerprint(std::string_view hex);
// What a person pastes: any case, with or without spaces or colons, an optional "SHA256:"
// prefix. The 64 upper-case hex digits, or nothing if it is not a SHA-256 fingerprint.
std::optional<std::string> parse_fingerprint(std::string_view text);

}  // namespace lanchat::net
