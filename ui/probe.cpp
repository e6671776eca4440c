#include "ui/probe.hpp"

#include <imgui.h>

namespace lanchat::ui {

void Probe::item(const std::string& name) {
  if (!enabled) return;
  const ImVec2 a = ImGui::GetItemRectMin();
  const ImVec2 b = ImGui::GetItemRectMax();
  frame_["widgets"][name] = {a.x, a.y, b.x, b.y};
}

void Probe::fact(const std::string& key, nlohmann::json value) {
  if (!enabled) return;
  frame_["facts"][key] = std::move(value);
}

std::optional<std::string> Probe::end_frame() {
  if (!enabled) return std::nullopt;
  std::string s = frame_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  frame_ = nlohmann::json::object();
  if (s == last_) return std::nullopt;
  last_ = s;
  return s;
}

}  // namespace lanchat::ui
