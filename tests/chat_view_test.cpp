// The chat view's layout under Dear ImGui without a window: a context with a display size
// and a font atlas is all ImGui needs to lay out and build draw lists.
#include <gtest/gtest.h>
#include <imgui.h>

#include "tests/headless_imgui.hpp"
#include "ui/chat_window.hpp"

using namespace lanchat;
using namespace lanchat::ui;

namespace {

struct Headless : test::HeadlessImGui {
  Headless() : HeadlessImGui(ImVec2(1100, 720)) {}

  ActionList frame(ChatViewState& s, const UiModel& m, float width) {
    ImGui::GetIO().DeltaTime = 1.0f / 60.0f;
    ImGui::NewFrame();
    ActionList actions;
    UiContext ctx{&fonts, &probe, 1.0f, &actions, {}};
    DrawChat(s, m, ctx, ImVec2(0, 0), ImVec2(width, 700));
    ImGui::Render();
    return actions;
  }
  Fonts fonts;
  Probe probe;
};

UiModel room_with(std::size_t lines, std::size_t first_id = 1, bool more = false) {
  UiModel ui;
  ui.begin_join({"h", 1, "me", ""});
  proto::Welcome w{"me", "Lab", 1, {"me"}, {}};
  w.more = more;
  ui.apply(net::ClientWelcome{w, false});
  for (std::size_t i = first_id; i < first_id + lines; ++i) {
    ui.apply(net::ClientChat{proto::ChatMsg{i, "bob",
                                            "line " + std::to_string(i) +
                                                " with enough words in it to wrap when the chat is "
                                                "narrow, as real messages do",
                                            net::now_ms()}});
  }
  return ui;
}

}  // namespace

TEST(ChatView, ReWrappingAfterAResizeIsSpreadOverFramesNewestFirst) {
  Headless imgui;
  UiModel ui = room_with(50'000);
  ChatViewState s;
  for (int i = 0; i < 60 && !(s.rows_first == ui.chat.first_line() && s.rows_width > 0); ++i) {
    imgui.frame(s, ui, 1000);
  }
  ASSERT_EQ(s.rows_first, ui.chat.first_line()) << "laid out within 60 frames";
  ASSERT_EQ(s.rows_next, ui.chat.end_line());
  const std::size_t wide_rows = s.rows.size();

  imgui.frame(s, ui, 500);  // the user narrows the window: noticed this frame
  imgui.frame(s, ui, 500);  // and laid out from here on
  const std::uint64_t done = ui.chat.end_line() - s.rows_first;
  EXPECT_LE(done, static_cast<std::uint64_t>(kRelayoutLinesPerFrame))
      << "one frame re-wraps a bounded slice, not 50,000 lines";
  EXPECT_EQ(s.rows.back().line, ui.chat.end_line() - 1) << "the newest lines first";
  int frames = 2;
  while (s.rows_first != ui.chat.first_line() && frames < 100) {
    imgui.frame(s, ui, 500);
    ++frames;
  }
  EXPECT_EQ(s.rows_first, ui.chat.first_line());
  EXPECT_GE(frames, 50'000 / kRelayoutLinesPerFrame);
  EXPECT_GT(s.rows.size(), wide_rows) << "narrower: more rows";
  for (std::size_t i = 1; i < s.rows.size(); ++i) {
    ASSERT_LE(s.rows[i - 1].line, s.rows[i].line) << "rows stay in line order";
  }
}

TEST(ChatView, AReaderScrolledUpKeepsTheirLineThroughAResize) {
  Headless imgui;
  UiModel ui = room_with(20'000);
  ChatViewState s;
  for (int i = 0; i < 40; ++i) imgui.frame(s, ui, 1000);
  ASSERT_EQ(s.rows_first, ui.chat.first_line());
  // Scroll to the row of line 5,000 (as the mouse wheel would, one frame before).
  const float row_h = ImGui::GetTextLineHeightWithSpacing();
  std::size_t index = 0;
  while (s.rows[index].line < ui.chat.first_line() + 5'000) ++index;
  const std::uint64_t reading = s.rows[index].line;
  s.scroll_y = static_cast<float>(index) * row_h;
  s.at_bottom = false;
  s.jump_to_bottom = false;
  s.scroll_to = s.scroll_y;
  imgui.frame(s, ui, 1000);
  ASSERT_NEAR(s.scroll_y, static_cast<float>(index) * row_h, row_h);
  for (int i = 0; i < 40; ++i) imgui.frame(s, ui, 450);
  ASSERT_EQ(s.rows_first, ui.chat.first_line());
  const auto top = static_cast<std::size_t>(s.scroll_y / row_h + 0.5f);
  ASSERT_LT(top, s.rows.size());
  EXPECT_EQ(s.rows[top].line, reading) << "the line being read is back at the top";
}

TEST(ChatView, ScrollingToTheTopLoadsTheOlderPageWithoutMovingWhatIsRead) {
  Headless imgui;
  UiModel ui = room_with(300, 1001, /*more=*/true);
  ChatViewState s;
  for (int i = 0; i < 10; ++i) imgui.frame(s, ui, 1000);
  ASSERT_TRUE(s.seen_bottom);
  // The reader scrolls all the way up.
  s.scroll_to = 0.0f;
  imgui.frame(s, ui, 1000);
  const auto actions = imgui.frame(s, ui, 1000);
  const LoadOlder* ask = nullptr;
  for (const auto& a : actions) {
    if (auto* l = std::get_if<LoadOlder>(&a)) ask = l;
  }
  ASSERT_NE(ask, nullptr) << "the top of what is loaded asks for the page before it";
  EXPECT_EQ(ask->before, 1001u);
  ui.chat.mark_loading_older();
  const float row_h = ImGui::GetTextLineHeightWithSpacing();
  // The first row of text on screen (the very top one is the day separator, which the
  // older page makes redundant).
  const auto top_before = static_cast<std::size_t>(s.scroll_y / row_h + 0.5f) + 1;
  const std::uint64_t top_line = s.rows[top_before].line;
  ASSERT_FALSE(s.rows[top_before].day);
  std::vector<proto::ChatMsg> older;
  for (std::uint64_t i = 901; i <= 1000; ++i) {
    older.push_back({i, "bob", "older " + std::to_string(i), net::now_ms()});
  }
  ui.apply(net::ClientHistory{older, true, 0});
  for (int i = 0; i < 5; ++i) imgui.frame(s, ui, 1000);
  ASSERT_EQ(s.rows_first, ui.chat.first_line()) << "the page is laid out";
  const auto top = static_cast<std::size_t>(s.scroll_y / row_h + 0.5f) + 1;
  EXPECT_EQ(s.rows[top].line, top_line) << "the line the reader was on stays where it was";
  EXPECT_TRUE(s.rows[top].first);
  int separators = 0;
  for (const auto& r : s.rows) separators += r.day;
  EXPECT_EQ(separators, 1) << "one day, one separator, at the very top";
  EXPECT_TRUE(s.rows.front().day);
}
