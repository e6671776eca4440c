#include "ui/links.hpp"

#include <cctype>

namespace lanchat::ui {

namespace {

bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view prefix) {
  if (text.size() - at < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != prefix[i]) return false;
  }
  return true;
}

bool ends_url(unsigned char c) {
  return c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '`';
}

bool is_word(unsigned char c) {
  return std::isalnum(c) != 0 || c == '_' || c >= 0x80;
}

// The length of a scheme ("http://", "https://") at `at`, or 0.
std::size_t scheme_at(std::string_view text, std::size_t at) {
  if (starts_with_nocase(text, at, "https://")) return 8;
  if (starts_with_nocase(text, at, "http://")) return 7;
  return 0;
}

// Drops trailing punctuation and closing brackets the URL did not open.
std::size_t trim_end(std::string_view text, std::size_t begin, std::size_t end) {
  while (end > begin) {
    const char c = text[end - 1];
    if (c == '.' || c == ',' || c == '!' || c == '?' || c == ':' || c == ';' || c == '\'') {
      --end;
      continue;
    }
    if (c == ')' || c == ']') {
      const char open = c == ')' ? '(' : '[';
      int balance = 0;
      for (std::size_t i = begin; i < end; ++i) {
        if (text[i] == open) ++balance;
        if (text[i] == c) --balance;
      }
      if (balance < 0) {
        --end;
        continue;
      }
    }
    break;
  }
  return end;
}

}  // namespace

std::vector<LinkSpan> find_links(std::string_view text) {
  std::vector<LinkSpan> links;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if ((c != 'h' && c != 'H') || (i > 0 && is_word(static_cast<unsigned char>(text[i - 1])))) {
      ++i;
      continue;
    }
    const std::size_t scheme = scheme_at(text, i);
    if (scheme == 0) {
      ++i;
      continue;
    }
    std::size_t end = i + scheme;
    while (end < text.size() && !ends_url(static_cast<unsigned char>(text[end]))) ++end;
    const std::size_t trimmed = trim_end(text, i, end);
    if (trimmed > i + scheme) {  // "https://" alone is not a link
      links.push_back(LinkSpan{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(trimmed)});
    }
    i = end;
  }
  return links;
}

}  // namespace lanchat::ui
