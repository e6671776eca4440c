#pragma once
// What a server's port offers; see net/tls.hpp. Apart so that the UI can name it without
// seeing any TLS machinery.
#include <cstdint>
#include <optional>
#include <string_view>

namespace lanchat::net {

// Plain JSON lines only; TLS and plain on the same port (told apart by the first byte);
// TLS only.
enum class TlsMode : std::uint8_t { off, on, required };
std::optional<TlsMode> parse_tls_mode(std::string_view text);
const char* to_string(TlsMode mode);

}  // namespace lanchat::net
