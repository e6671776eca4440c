#pragma once
// The chat view: history with timestamps and nick colours, the users list, connection
// status with RTT, and the input line.
#include <cstdint>
#include <deque>
#include <string>

#include "ui/context.hpp"
#include "ui/ui_model.hpp"

namespace lanchat::ui {

// One screen row of the history: a wrapped piece of one chat line.
struct ChatRow {
  std::uint64_t line = 0;            // absolute line number (see ChatModel::dropped)
  std::uint32_t begin = 0, end = 0;  // byte range of the line's text
  bool first = false;                // the row that carries the time and nick
  float indent = 0.0f;               // x offset of the text on this row
};

struct ChatViewState {
  std::string input;
  std::string input_error;
  bool refocus = true;
  bool jump_to_bottom = true;
  bool confirm_leave = false;
  // Wrapped rows, rebuilt only when the width or the session changes, extended as
  // lines arrive, so 100,000 lines cost nothing per frame.
  std::deque<ChatRow> rows;
  std::uint64_t rows_next = 0;  // next absolute line to lay out
  std::uint64_t rows_generation = ~0ull;
  float rows_width = -1.0f;
  float prefix_width = 0.0f;
};

// Draws into the current window region (x, y, w, h).
void DrawChat(ChatViewState& state, const UiModel& model, UiContext& ctx, ImVec2 pos, ImVec2 size);

}  // namespace lanchat::ui
