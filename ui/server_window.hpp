#pragma once
// The host's server panel: status and counters, the connections table, the live event log
// (levels, filter, auto-scroll, copy) and Stop Server with a confirmation and a reason.
#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ui/context.hpp"
#include "ui/ui_model.hpp"

namespace lanchat::ui {

struct ServerPanelState {
  ImGuiTextFilter filter;
  bool show_info = true;
  bool show_warn = true;
  bool show_error = true;
  bool auto_scroll = true;
  bool open_stop_dialog = false;
  std::string stop_reason = "The host stopped the server.";
  // Indices of the log rows that pass the filter, extended incrementally.
  std::vector<std::uint64_t> visible;
  std::uint64_t visible_next = 0;  // next log row (absolute) to test
  std::uint64_t visible_key = 0;   // hash of the filter settings the list was built for
  // Kick dialog: whom, and the reason the host may give.
  bool open_kick = false;
  std::uint64_t kick_conn = 0;
  std::string kick_nick;
  std::string kick_reason;
};

void DrawServerPanel(ServerPanelState& state, const UiModel& model, UiContext& ctx, ImVec2 pos,
                     ImVec2 size);

}  // namespace lanchat::ui
