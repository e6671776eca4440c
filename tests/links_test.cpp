// Which parts of a chat message the window underlines and opens as links.
#include "ui/links.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

std::vector<std::string> links_in(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& l : lanchat::ui::find_links(text))
    out.push_back(text.substr(l.begin, l.end - l.begin));
  return out;
}

using V = std::vector<std::string>;

TEST(Links, WebAddressesAreFoundWhereverTheyAreInTheText) {
  EXPECT_EQ(links_in("https://example.org"), V{"https://example.org"});
  EXPECT_EQ(links_in("the notes: http://10.0.0.5:8000/notes.pdf and https://x.org/a?b=c&d#e ok"),
            (V{"http://10.0.0.5:8000/notes.pdf", "https://x.org/a?b=c&d#e"}));
  EXPECT_EQ(links_in("line one\nHTTPS://Example.org/Path\tnext"), V{"HTTPS://Example.org/Path"});
  EXPECT_EQ(links_in("ünïcode https://de.wikipedia.org/wiki/Straße too"),
            V{"https://de.wikipedia.org/wiki/Straße"});
}

TEST(Links, SentencePunctuationAndUnopenedBracketsAreNotPartOfTheLink) {
  EXPECT_EQ(links_in("see https://example.org."), V{"https://example.org"});
  EXPECT_EQ(links_in("really? https://example.org/q?!"), V{"https://example.org/q"});
  EXPECT_EQ(links_in("(see https://example.org/a)"), V{"https://example.org/a"});
  EXPECT_EQ(links_in("(see https://en.wikipedia.org/wiki/Bit_(unit))."),
            V{"https://en.wikipedia.org/wiki/Bit_(unit)"});
  EXPECT_EQ(links_in("<https://example.org/x>"), V{"https://example.org/x"});
  EXPECT_EQ(links_in("\"https://example.org/y\","), V{"https://example.org/y"});
  EXPECT_EQ(links_in("'https://example.org/z'"), V{"https://example.org/z"});
}

TEST(Links, OtherSchemesBareSchemesAndWordsThatMerelyContainOneAreNotLinks) {
  EXPECT_TRUE(links_in("ftp://example.org file:///etc/passwd javascript:alert(1)").empty());
  EXPECT_TRUE(links_in("https:// and http://. alone").empty());
  EXPECT_TRUE(links_in("xhttps://example.org").empty());
  EXPECT_TRUE(links_in("www.example.org").empty());
  EXPECT_TRUE(links_in("").empty());
  EXPECT_TRUE(links_in("h").empty());
  EXPECT_TRUE(links_in("http").empty());
}

}  // namespace
