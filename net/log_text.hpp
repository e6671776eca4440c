#pragma once
// Text that goes into the host's log (the window's panel and headless stdout) but came from
// a client. Nothing a client sends may start a new log line, hide part of one or reorder
// it on screen: newlines, C0 and C1 controls, bidi overrides and invisible characters are
// written as escapes, and long values are cut.
#include <cstddef>
#include <string>
#include <string_view>

namespace lanchat::net {

// s in double quotes, escaped as above; at most max_code_points shown, then "…".
std::string quoted(std::string_view s, std::size_t max_code_points = 64);
// The same without the quotes.
std::string escaped(std::string_view s, std::size_t max_code_points = 64);

}  // namespace lanchat::net
