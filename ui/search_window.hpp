#pragma once
// Searching the room's history (Ctrl+F): a box, the hits newest first, and the messages
// around the hit the user picks.
#include <cstdint>
#include <string>

#include "ui/context.hpp"
#include "ui/ui_model.hpp"

namespace lanchat::ui {

struct SearchViewState {
  bool open = false;
  bool focus = false;  // put the cursor in the box on the next frame
  std::string query;
  std::uint64_t picked = 0;  // the hit shown in context
  bool scroll_to_hit = false;
};

// Draws the panel as a child region of the current window (size: its width and height).
void DrawSearch(SearchViewState& state, const UiModel& model, UiContext& ctx, ImVec2 size);

}  // namespace lanchat::ui
