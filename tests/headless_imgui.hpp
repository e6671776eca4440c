#pragma once
// A Dear ImGui context without a window: a display size and a font atlas are all ImGui
// needs to lay out windows and build their draw lists.
#include <imgui.h>

namespace lanchat::test {

struct HeadlessImGui {
  explicit HeadlessImGui(ImVec2 display) {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = display;
    unsigned char* px = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
  }
  ~HeadlessImGui() { ImGui::DestroyContext(); }
  HeadlessImGui(const HeadlessImGui&) = delete;
  HeadlessImGui& operator=(const HeadlessImGui&) = delete;
};

}  // namespace lanchat::test
