#pragma once
// Web links in chat text: where they are, so the chat can underline them and open them.
#include <cstdint>
#include <string_view>
#include <vector>

namespace lanchat::ui {

struct LinkSpan {
  std::uint32_t begin = 0, end = 0;  // byte range of the URL in the text
};

// Every http:// or https:// URL in text, in order. A URL starts at a word boundary and runs
// to the next space, control character or one of <>"`; punctuation that ends a sentence
// (".", ",", "!", "?", ":", ";", "'") and a ")" or "]" with no opening partner are left
// out, so "see (https://example.org/a_(b))." yields https://example.org/a_(b).
std::vector<LinkSpan> find_links(std::string_view text);

}  // namespace lanchat::ui
