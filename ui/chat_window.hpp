#pragma once
// The chat view: history with timestamps and nick colours, messages still on their way,
// the users list, connection status with RTT, and the input line.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "ui/context.hpp"
#include "ui/search_window.hpp"
#include "ui/ui_model.hpp"

namespace lanchat::ui {

// One screen row of the history: a wrapped piece of one chat line.
struct ChatRow {
  std::uint64_t line = 0;            // line number (see Conversation::first_line)
  std::uint32_t begin = 0, end = 0;  // byte range of the line's text
  bool first = false;                // the row that carries the time and nick
  bool day = false;                  // a "Monday, 23 November" separator before the line
  float indent = 0.0f;               // x offset of the text on this row
  bool marker = false;               // the "new since you left" rule above the line
};

// The users list: a filter (shown once the list is long), and which rows match it, worked
// out again only when the list or the filter changes (10,000 names stay cheap per frame).
struct UsersViewState {
  std::string filter;
  std::vector<std::uint32_t> shown;  // indices into the model's users()
  std::string shown_filter;
  std::uint64_t shown_generation = ~0ull;
  std::uint64_t shown_revision = ~0ull;
};

struct ChatViewState {
  std::string input;
  UsersViewState users;
  std::string input_error;
  std::string rejoin_nick;  // the "choose another nick" box after a refusal
  bool refocus = true;
  bool jump_to_bottom = true;
  bool confirm_leave = false;
  // Wrapped rows, kept across frames and extended as lines arrive, so 100,000 lines cost
  // nothing per frame. After a width change they are laid out again from the newest line
  // backwards, a bounded number of lines per frame, so a resize never stalls a frame.
  std::deque<ChatRow> rows;
  std::uint64_t rows_first = 0;  // first line that has rows
  std::uint64_t rows_next = 0;   // next line to lay out at the end
  std::uint64_t rows_generation = ~0ull;
  float rows_width = -1.0f;     // width the rows were laid out for
  float rows_font = -1.0f;      // and the font size (the text size can change)
  float content_width = -1.0f;  // the history's width last frame
  float scroll_y = 0.0f;        // the history's scroll position last frame
  bool at_bottom = true;
  // A scroll position for the history to take on the next frame (jumping to a line).
  std::optional<float> scroll_to;
  // While re-wrapping: the line the reader had at the top of the view, to bring back.
  std::uint64_t anchor_line = 0;
  bool has_anchor = false;
  bool seen_bottom = false;  // older history loads only once the view has settled
  SearchViewState search;    // the search panel (Ctrl+F) shares the chat's area
  // The conversation on screen: "" the room, otherwise the nick of the person messaged.
  std::string view;
  std::string select_view;  // a tab to bring forward on the next frame
  bool select_pending = false;
  // Tab completion of nicks: the candidates being cycled through, and where in the input
  // the last one was put (so that another Tab replaces it with the next).
  std::vector<std::string> completions;
  std::size_t completion_next = 0;
  int completion_start = -1;
  int completion_end = -1;
  bool notifications = true;  // the Options menu's switch (the app owns the setting)
  // The last message sent (Up in an empty input brings it back to edit and send again).
  std::string last_sent;
  // Lines of the conversation seen at the bottom: those after it arrived while the reader
  // was scrolled up ("3 new messages — jump to latest").
  std::uint64_t seen_end = 0;
  std::uint64_t seen_conversation = ~0ull;
  float page_height = 0.0f;  // the history's height (Page Up/Down)
  // The line under the pointer when the history's menu opened (Copy text).
  std::optional<std::uint64_t> menu_line;
  // "New since you left": the app says each frame whether the window has the focus; when
  // it comes back, the first message that arrived while it was away gets a rule above it
  // (until the focus goes again or another conversation is shown).
  bool window_focused = true;
  // Starts false: a window that has never had the focus in this session has not "left";
  // what arrives before anyone looked (the welcome's history) is not marked.
  bool was_focused = false;
  std::uint64_t left_end = 0;  // the conversation's end when the focus went
  std::uint64_t left_conversation = ~0ull;
  std::optional<std::uint64_t> unread_from;
  bool unread_row_placed = false;
  bool show_unread = false;  // bring the rule into view once it is placed
};

// Lines laid out per frame while re-wrapping after a resize.
inline constexpr int kRelayoutLinesPerFrame = 2000;

// Draws into the current window region (x, y, w, h).
void DrawChat(ChatViewState& state, const UiModel& model, UiContext& ctx, ImVec2 pos, ImVec2 size);

}  // namespace lanchat::ui
