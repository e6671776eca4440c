#include "net/log_text.hpp"

#include <cstdio>

#include "net/utf8.hpp"

namespace lanchat::net {

namespace {

// Characters that change how the rest of a line is shown without being visible
// themselves: bidi embeddings, overrides, isolates and marks, and line separators.
bool reorders_or_hides(char32_t c) {
  return utf8::is_invisible(c) || c == 0x061C || c == 0x2028 || c == 0x2029 ||
         (c >= 0x2066 && c <= 0x2069) || (c >= 0xFFF9 && c <= 0xFFFB);
}

void append_escape(std::string& out, char32_t c) {
  char buf[16];
  switch (c) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  std::snprintf(buf, sizeof buf, c < 0x100 ? "\\x%02X" : "\\u%04X", static_cast<unsigned>(c));
  out += buf;
}

}  // namespace

std::string escaped(std::string_view s, std::size_t max_code_points) {
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t shown = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (shown == max_code_points) {
      out += "…";
      break;
    }
    ++shown;
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7F || b == '\\') {
        if (b == '\\') {
          out += "\\\\";
        } else {
          append_escape(out, b);
        }
      } else {
        out += static_cast<char>(b);
      }
      ++i;
      continue;
    }
    // One code point if it is valid UTF-8, else the single byte, escaped.
    std::size_t len = (b & 0xE0U) == 0xC0U   ? 2
                      : (b & 0xF0U) == 0xE0U ? 3
                      : (b & 0xF8U) == 0xF0U ? 4
                                             : 1;
    if (len == 1 || i + len > s.size() || !utf8::is_valid(s.substr(i, len))) {
      append_escape(out, b);
      ++i;
      continue;
    }
    std::size_t j = i;
    const char32_t c = utf8::next(s, j);
    if (utf8::is_control(c) || reorders_or_hides(c)) {
      append_escape(out, c);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string quoted(std::string_view s, std::size_t max_code_points) {
  return "\"" + escaped(s, max_code_points) + "\"";
}

}  // namespace lanchat::net
