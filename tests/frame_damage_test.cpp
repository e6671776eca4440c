// What the window redraws on a software renderer (app/frame_damage): real ImGui frames,
// built headless, compared the way the window compares them.
#include "app/frame_damage.hpp"

#include <gtest/gtest.h>
#include <imgui.h>

#include <functional>
#include <ostream>
#include <string>

#include "tests/headless_imgui.hpp"

using lanchat::app::FrameDamage;
using lanchat::app::PixelRect;

namespace lanchat::app {
// Failures print rectangles as rectangles, not bytes.
void PrintTo(const PixelRect& r, std::ostream* os) {
  *os << "(" << r.x0 << "," << r.y0 << ")-(" << r.x1 << "," << r.y1 << ")";
}
}  // namespace lanchat::app

namespace {

struct Headless : lanchat::test::HeadlessImGui {
  Headless() : HeadlessImGui(ImVec2(800, 600)) {}

  // ImGui settles focus and sizes over the first frames; tests compare settled frames.
  void settle(FrameDamage& damage, const std::function<void()>& draw) {
    for (int i = 0; i < 3; ++i) damage.update(frame(draw));
  }

  ImDrawData& frame(const std::function<void()>& draw) {
    ImGui::GetIO().DeltaTime = 1.0f / 60.0f;
    ImGui::NewFrame();
    draw();
    ImGui::Render();
    return *ImGui::GetDrawData();
  }
};

// Two side-by-side windows: a log on the left, a status panel with a counter on the right.
void two_panels(const std::string& counter, const std::string& log_line = "first line",
                bool popup = false) {
  const ImGuiWindowFlags fixed =
      ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoSavedSettings;
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(400, 600));
  ImGui::Begin("Log", nullptr, fixed);
  for (int i = 0; i < 20; ++i) ImGui::Text("%02d %s", i, log_line.c_str());
  ImGui::End();
  ImGui::SetNextWindowPos(ImVec2(400, 0));
  ImGui::SetNextWindowSize(ImVec2(400, 600));
  ImGui::Begin("Status", nullptr, fixed);
  ImGui::TextUnformatted("Server running on 127.0.0.1");
  ImGui::Text("Messages: %s", counter.c_str());
  ImGui::TextUnformatted("Everything below stays the same");
  ImGui::End();
  if (popup) {
    ImGui::SetNextWindowPos(ImVec2(100, 100));
    ImGui::SetNextWindowSize(ImVec2(200, 100));
    ImGui::Begin("Popup", nullptr, fixed);
    ImGui::TextUnformatted("hello");
    ImGui::End();
  }
}

const PixelRect kWhole{0, 0, 800, 600};

bool inside(const PixelRect& r, const PixelRect& outer) {
  return r.x0 >= outer.x0 && r.y0 >= outer.y0 && r.x1 <= outer.x1 && r.y1 <= outer.y1;
}

}  // namespace

TEST(FrameDamage, TheFirstFrameIsDrawnWhole) {
  Headless imgui;
  FrameDamage damage;
  EXPECT_EQ(damage.update(imgui.frame([] { two_panels("100"); })), std::vector<PixelRect>{kWhole});
}

TEST(FrameDamage, AnUnchangedFrameRedrawsNothing) {
  Headless imgui;
  FrameDamage damage;
  imgui.settle(damage, [] { two_panels("100"); });
  EXPECT_TRUE(damage.update(imgui.frame([] { two_panels("100"); })).empty());
  EXPECT_TRUE(damage.update(imgui.frame([] { two_panels("100"); })).empty());
}

TEST(FrameDamage, ACounterThatChangesRedrawsOnlyItsOwnLine) {
  Headless imgui;
  FrameDamage damage;
  imgui.settle(damage, [] { two_panels("100"); });
  const auto rects = damage.update(imgui.frame([] { two_panels("173"); }));
  ASSERT_EQ(rects.size(), 1u);
  const PixelRect& r = rects[0];
  // In the status panel, one text line high, no wider than the panel.
  EXPECT_TRUE(inside(r, PixelRect{400, 0, 800, 600})) << ::testing::PrintToString(r);
  EXPECT_LE(r.y1 - r.y0, static_cast<int>(ImGui::GetFontSize()) + 2);
  EXPECT_LT(r.area(), 400 * 30);
  // And once drawn, the same counter again redraws nothing.
  EXPECT_TRUE(damage.update(imgui.frame([] { two_panels("173"); })).empty());
}

TEST(FrameDamage, ChangesInTwoPanelsAreTwoRectangles) {
  Headless imgui;
  FrameDamage damage;
  imgui.settle(damage, [] { two_panels("100", "first line"); });
  const auto rects = damage.update(imgui.frame([] { two_panels("101", "other line"); }));
  ASSERT_EQ(rects.size(), 2u);
  const PixelRect left{0, 0, 400, 600};
  const PixelRect right{400, 0, 800, 600};
  EXPECT_TRUE((inside(rects[0], left) && inside(rects[1], right)) ||
              (inside(rects[1], left) && inside(rects[0], right)));
}

TEST(FrameDamage, TextOfANewLengthRedrawsTheWholeWindowItIsIn) {
  Headless imgui;
  FrameDamage damage;
  imgui.settle(damage, [] { two_panels("99"); });
  // More glyphs: the triangles cannot be paired with last frame's, so everything the
  // window drew is redrawn, and nothing of the other window.
  const auto rects = damage.update(imgui.frame([] { two_panels("100"); }));
  ASSERT_EQ(rects.size(), 1u);
  // (399: the window border's anti-aliased edge reaches half a pixel outside the window.)
  EXPECT_TRUE(inside(rects[0], PixelRect{399, 0, 800, 600})) << ::testing::PrintToString(rects);
  EXPECT_GT(rects[0].area(), 300 * 60) << ::testing::PrintToString(rects);
}

TEST(FrameDamage, AWindowThatAppearsOrASizeChangeRedrawsEverything) {
  Headless imgui;
  FrameDamage damage;
  imgui.settle(damage, [] { two_panels("100"); });
  EXPECT_EQ(damage.update(imgui.frame([] { two_panels("100", "first line", true); })),
            std::vector<PixelRect>{kWhole});
  EXPECT_EQ(damage.update(imgui.frame([] { two_panels("100"); })), std::vector<PixelRect>{kWhole});
  ImGui::GetIO().DisplaySize = ImVec2(900, 600);
  EXPECT_EQ(damage.update(imgui.frame([] { two_panels("100"); })),
            (std::vector<PixelRect>{PixelRect{0, 0, 900, 600}}));
}

TEST(FrameDamage, InvalidateRedrawsEverythingOnce) {
  Headless imgui;
  FrameDamage damage;
  imgui.settle(damage, [] { two_panels("100"); });
  damage.invalidate();
  EXPECT_EQ(damage.update(imgui.frame([] { two_panels("100"); })), std::vector<PixelRect>{kWhole});
  EXPECT_TRUE(damage.update(imgui.frame([] { two_panels("100"); })).empty());
}

TEST(FrameDamage, WhenMostOfTheWindowChangesItIsOneFullRedraw) {
  Headless imgui;
  FrameDamage damage;
  auto full = [](const char* word) {
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(800, 600));
    ImGui::Begin("All", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize);
    for (int i = 0; i < 40; ++i) {
      std::string line;
      for (int w = 0; w < 20; ++w) line += std::string(word) + " ";
      ImGui::TextUnformatted(line.c_str());
    }
    ImGui::End();
  };
  imgui.settle(damage, [&] { full("abcd"); });
  EXPECT_EQ(damage.update(imgui.frame([&] { full("wxyz"); })), std::vector<PixelRect>{kWhole});
}
