#pragma once
// UTF-8 helpers the protocol rules need. Kept free of any JSON or network type so they
// can be unit-tested and fuzzed on their own.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lanchat::utf8 {

// Strict RFC 3629 validation: rejects overlongs, surrogates and code points > U+10FFFF.
bool is_valid(std::string_view s);

// Decodes the code point starting at s[i] and advances i. s must be valid UTF-8.
char32_t next(std::string_view s, std::size_t& i);

// Number of code points; s must be valid UTF-8.
std::size_t length(std::string_view s);

// Unicode White_Space property.
bool is_space(char32_t c);
// C0, DEL and C1 controls.
bool is_control(char32_t c);
// Characters that render as nothing (zero-width space/joiners, BOM, word joiner, ...);
// refused in nicks because two different nicks would look identical.
bool is_invisible(char32_t c);

void append(std::string& out, char32_t c);

}  // namespace lanchat::utf8
