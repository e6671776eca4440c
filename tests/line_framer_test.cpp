// The framing rules: "\n"-terminated lines, "\r\n" accepted, a 65,536-byte cap
// (newline included) with over-long lines discarded whole.
#include "net/line_framer.hpp"

#include <gtest/gtest.h>

#include "net/protocol.hpp"

using lanchat::net::LineFramer;

namespace {
struct Collect {
  std::vector<std::string> lines;
  int too_long = 0;
  void feed(LineFramer& f, std::string_view data) {
    f.feed(
        data,
        [this](std::string_view l) {
          lines.emplace_back(l);
          return true;
        },
        [this] {
          ++too_long;
          return true;
        });
  }
};
}  // namespace

TEST(LineFramer, SplitsLinesAndStripsCarriageReturn) {
  LineFramer f(100);
  Collect c;
  c.feed(f, "one\ntwo\r\nthr");
  c.feed(f, "ee\n");
  EXPECT_EQ(c.lines, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(LineFramer, ByteByByte) {
  LineFramer f(100);
  Collect c;
  for (char ch : std::string("ab\ncd\r\n")) c.feed(f, std::string_view(&ch, 1));
  EXPECT_EQ(c.lines, (std::vector<std::string>{"ab", "cd"}));
}

TEST(LineFramer, CapCountsTheNewline) {
  const std::size_t cap = lanchat::proto::kMaxLineBytes;
  LineFramer f(cap);
  Collect c;
  c.feed(f, std::string(cap - 1, 'x') + "\n");  // exactly the cap: accepted
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.too_long, 0);
  c.feed(f, std::string(cap, 'x') + "\n");  // one byte over
  EXPECT_EQ(c.too_long, 1);
  EXPECT_EQ(c.lines.size(), 1u);
}

TEST(LineFramer, OverlongLineIsSkippedWholeAndNextLineWorks) {
  LineFramer f(64);
  Collect c;
  // Arrives in pieces, far longer than the cap, then a good line in the same chunk.
  for (int i = 0; i < 100; ++i) c.feed(f, std::string(50, 'y'));
  c.feed(f, "tail-of-long\nok\n");
  EXPECT_EQ(c.too_long, 1);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"ok"}));
  EXPECT_LE(f.capacity(), 4096u) << "memory of a discarded line must not stay pinned";
}

TEST(LineFramer, BufferGrowsOnlyAsALineNeedsIt) {
  LineFramer f(1 << 20);
  Collect c;
  EXPECT_EQ(f.capacity(), std::string().capacity());
  c.feed(f, std::string(200000, 'z'));
  EXPECT_GE(f.buffered(), 200000u);
  c.feed(f, "\n");
  EXPECT_EQ(c.lines.size(), 1u);
  EXPECT_LE(f.capacity(), 4096u) << "a big line's buffer is released after use";
}

TEST(LineFramer, CallbackCanStopFeeding) {
  LineFramer f(100);
  std::vector<std::string> got;
  f.feed(
      "a\nb\nc\n",
      [&](std::string_view l) {
        got.emplace_back(l);
        return l != "b";
      },
      [] { return true; });
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
}
