#include "ui/chat_window.hpp"

#include <imgui.h>
#include <imgui_internal.h>  // SetNextWindowScroll: keep the view still while rows are added above
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "net/commands.hpp"
#include "net/fingerprint.hpp"
#include "net/nick.hpp"
#include "net/protocol.hpp"
#include "ui/launcher_window.hpp"
#include "ui/links.hpp"

namespace lanchat::ui {

namespace {

const char* advance_one(const char* p, const char* end) {
  // Step over one UTF-8 code point (never split a character across rows).
  ++p;
  while (p < end && (static_cast<unsigned char>(*p) & 0xC0U) == 0x80U) ++p;
  return p;
}

// What goes before a line's text on its first row: "alice" for a message, "* alice" for
// an action, "→ alice" for a join; the text of every row starts at the same indent.
std::string head_of(const ChatLine& line) {
  switch (line.kind) {
    case LineKind::message:
      return line.action ? "* " + line.nick : line.nick;
    case LineKind::join:
      return "→ " + line.nick;
    case LineKind::leave:
      return "← " + line.nick;
    case LineKind::nick:
    case LineKind::notice:
      return "*";
    default:
      return {};
  }
}

// The rows of one line, wrapped to `width`, appended to out. A line that starts a new day
// (or the first line there is) gets a separator row before it.
template <class Out>
void layout_line(Out& out, const ChatLine& line, std::uint64_t number, float width,
                 const ChatLine* previous) {
  if (previous == nullptr || local_day(previous->ts) != local_day(line.ts)) {
    out.push_back(ChatRow{number, 0, 0, false, true, 0.0f});
  }
  ImFont* font = ImGui::GetFont();
  float indent = ImGui::CalcTextSize("00:00:00  ").x;
  const std::string head = head_of(line);
  if (!head.empty()) indent += ImGui::CalcTextSize(head.c_str()).x + ImGui::CalcTextSize("  ").x;
  const float wrap = std::max(width - indent, 60.0f);
  const char* base = line.text.data();
  const char* end = base + line.text.size();
  bool first = true;
  const char* seg = base;
  while (seg <= end) {
    const char* nl = std::find(seg, end, '\n');
    const char* p = seg;
    do {
      const char* cut = nl == p ? p : font->CalcWordWrapPositionA(1.0f, p, nl, wrap);
      if (cut == p && p < nl) cut = advance_one(p, nl);
      out.push_back(ChatRow{number, static_cast<std::uint32_t>(p - base),
                            static_cast<std::uint32_t>(cut - base), first, false, indent});
      first = false;
      p = cut;
      while (p < nl && (*p == ' ')) ++p;  // a wrapped row does not start with spaces
    } while (p < nl);
    if (nl == end) break;
    seg = nl + 1;
  }
}

const ChatLine& line_at(const Conversation& c, std::uint64_t number) {
  return c.lines[static_cast<std::size_t>(number - c.first_line)];
}

const ChatLine* line_before(const Conversation& c, std::uint64_t number) {
  return number > c.first_line ? &line_at(c, number - 1) : nullptr;
}

// Brings the rows up to date with the conversation for `width`. Returns where the history
// must scroll to keep the reader's view still, when rows were added above it.
std::optional<float> update_rows(ChatViewState& s, const Conversation& c, float width,
                                 float row_h) {
  const std::uint64_t first = c.first_line;
  const std::uint64_t end = c.end_line();
  if (s.rows_generation != c.id) {
    // Another conversation (or session): laid out like a resize, newest first.
    s.rows.clear();
    s.unread_row_placed = false;
    s.rows_generation = c.id;
    s.rows_width = width;
    s.rows_font = ImGui::GetFontSize();
    s.rows_first = s.rows_next = end;
    s.has_anchor = false;
    s.jump_to_bottom = true;
  } else if (std::abs(s.rows_width - width) > 0.5f || s.rows_font != ImGui::GetFontSize()) {
    // Re-wrap from the newest line backwards: the bottom, where readers mostly are, is
    // right at once and older lines follow over the next frames. A reader scrolled up
    // gets the line they were reading back at the top once it is laid out again.
    if (!s.at_bottom && !s.rows.empty()) {
      const auto top = static_cast<std::size_t>(std::max(0.0f, s.scroll_y / row_h));
      s.anchor_line = s.rows[std::min(top, s.rows.size() - 1)].line;
      s.has_anchor = true;
    }
    s.rows.clear();
    s.unread_row_placed = false;
    s.rows_width = width;
    s.rows_font = ImGui::GetFontSize();
    s.rows_first = s.rows_next = end;
  }
  while (!s.rows.empty() && s.rows.front().line < first) s.rows.pop_front();
  s.rows_first = std::max(s.rows_first, first);
  s.rows_next = std::max(s.rows_next, s.rows_first);
  for (; s.rows_next < end; ++s.rows_next) {
    layout_line(s.rows, line_at(c, s.rows_next), s.rows_next, width, line_before(c, s.rows_next));
  }
  std::ptrdiff_t added = 0;
  std::vector<ChatRow> tmp;
  for (int budget = kRelayoutLinesPerFrame; s.rows_first > first && budget > 0; --budget) {
    --s.rows_first;
    tmp.clear();
    layout_line(tmp, line_at(c, s.rows_first), s.rows_first, width, line_before(c, s.rows_first));
    // The line after it was laid out as the first there was, with a day separator it no
    // longer needs when this one is of the same day.
    const std::size_t next = tmp.size();
    s.rows.insert(s.rows.begin(), tmp.begin(), tmp.end());
    added += static_cast<std::ptrdiff_t>(tmp.size());
    if (next < s.rows.size() && s.rows[next].day &&
        local_day(line_at(c, s.rows[next].line).ts) == local_day(line_at(c, s.rows_first).ts)) {
      s.rows.erase(s.rows.begin() + static_cast<std::ptrdiff_t>(next));
      --added;
    }
  }
  if (s.has_anchor) {
    if (s.anchor_line < first) s.has_anchor = false;
    if (s.has_anchor && s.rows_first <= s.anchor_line) {
      s.has_anchor = false;
      std::size_t index = 0;
      while (index < s.rows.size() && s.rows[index].line < s.anchor_line) ++index;
      return static_cast<float>(index) * row_h;
    }
    return std::nullopt;  // the view shows the bottom until the anchor is back
  }
  if (added != 0) return s.scroll_y + static_cast<float>(added) * row_h;
  return std::nullopt;
}

void clear_unread(ChatViewState& s) {
  if (s.unread_row_placed) std::erase_if(s.rows, [](const ChatRow& r) { return r.marker; });
  s.unread_from.reset();
  s.unread_row_placed = false;
  s.show_unread = false;
}

// Focus lost: remember where the conversation ended. Focus back: mark the first message
// that came after, to be placed among the rows (and shown) by place_unread.
void follow_focus(ChatViewState& s, const Conversation& c) {
  if (s.unread_from && s.left_conversation != c.id) clear_unread(s);
  if (s.was_focused && !s.window_focused) {
    clear_unread(s);
    s.left_conversation = c.id;
    s.left_end = c.end_line();
  } else if (!s.was_focused && s.window_focused && s.left_conversation == c.id) {
    for (std::uint64_t n = std::max(s.left_end, c.first_line); n < c.end_line(); ++n) {
      if (line_at(c, n).kind == LineKind::message) {
        s.unread_from = n;
        s.show_unread = true;
        break;
      }
    }
  }
  s.was_focused = s.window_focused;
}

// Puts the marker's row above the first unread line once that line has rows. Returns
// where to scroll: the marker at the top when it came back above the view (the reader
// starts where they left off and the bar below counts what is newer), or one row further
// when it was put above a reader who had scrolled up (their view stays still).
std::optional<float> place_unread(ChatViewState& s, const Conversation& c, float row_h) {
  if (!s.unread_from) return std::nullopt;
  const std::uint64_t line = *s.unread_from;
  if (line < c.first_line || line >= c.end_line()) {
    clear_unread(s);
    return std::nullopt;
  }
  if (s.unread_row_placed || line < s.rows_first || line >= s.rows_next) return std::nullopt;
  std::size_t index = 0;
  while (index < s.rows.size() && (s.rows[index].line < line || s.rows[index].day)) ++index;
  ChatRow rule{};
  rule.line = line;
  rule.marker = true;
  s.rows.insert(s.rows.begin() + static_cast<std::ptrdiff_t>(index), rule);
  s.unread_row_placed = true;
  const float y = static_cast<float>(index) * row_h;
  if (s.show_unread) {
    s.show_unread = false;
    if (y < s.scroll_y) {
      s.jump_to_bottom = false;
      s.seen_end = line;
      return std::max(0.0f, y - row_h);
    }
    return std::nullopt;
  }
  if (!s.at_bottom && y < s.scroll_y) return s.scroll_y + row_h;
  return std::nullopt;
}

// A row that is a horizontal rule with a label on it: `align` 0.5 centres the label (a
// day), 1 puts it at the right end (the "new since you left" rule).
void draw_rule(const char* label, ImVec4 line_colour, ImVec4 label_colour, float align,
               float thickness) {
  const float w = ImGui::GetContentRegionAvail().x;
  const float tw = ImGui::CalcTextSize(label).x;
  const float x = (w - tw) * align;  // where the label starts
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float mid = p.y + ImGui::GetTextLineHeight() * 0.5f;
  const ImU32 c = ImGui::GetColorU32(line_colour);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddLine(ImVec2(p.x, mid), ImVec2(p.x + x - 8, mid), c, thickness);
  if (x + tw + 8 < w)
    draw->AddLine(ImVec2(p.x + x + tw + 8, mid), ImVec2(p.x + w, mid), c, thickness);
  ImGui::SetCursorPosX(ImGui::GetCursorPosX() + x);
  ImGui::PushStyleColor(ImGuiCol_Text, label_colour);
  ImGui::TextUnformatted(label);
  ImGui::PopStyleColor();
}

void draw_unread_rule(UiContext& ctx) {
  draw_rule("new since you left", colour::unread_marker, colour::unread_marker, 1.0f, 1.5f);
  ctx.probe->item("chat.unread_marker");
}

void draw_day(const ChatLine& line) {
  draw_rule(day_text(line.ts).c_str(), ImVec4(0.55f, 0.57f, 0.62f, 0.35f), colour::dim, 0.5f, 1.0f);
}

// A message's text on one row with its links underlined: hovering one shows the whole
// address (a link can wrap over rows) and a click asks the desktop to open it.
void draw_message_text(const ChatLine& line, const ChatRow& r, UiContext& ctx) {
  const char* text = line.text.data();
  bool first_piece = true;
  auto piece = [&](std::uint32_t a, std::uint32_t b) {
    if (!first_piece) ImGui::SameLine(0, 0);
    ImGui::TextUnformatted(text + a, text + b);
    first_piece = false;
  };
  std::uint32_t at = r.begin;
  if (line.text.find("://") != std::string::npos) {
    for (const LinkSpan& link : find_links(line.text)) {
      if (link.end <= r.begin || link.begin >= r.end) continue;
      const std::uint32_t a = std::max(link.begin, r.begin);
      const std::uint32_t b = std::min(link.end, r.end);
      if (a > at) piece(at, a);
      ImGui::PushStyleColor(ImGuiCol_Text, colour::link);
      piece(a, b);
      ImGui::PopStyleColor();
      const ImVec2 lo = ImGui::GetItemRectMin();
      const ImVec2 hi = ImGui::GetItemRectMax();
      ImGui::GetWindowDrawList()->AddLine(ImVec2(lo.x, hi.y - 1), ImVec2(hi.x, hi.y - 1),
                                          ImGui::GetColorU32(colour::link));
      const std::string url = line.text.substr(link.begin, link.end - link.begin);
      // The input line keeps ImGui's active id, so hovering must look past it.
      if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenBlockedByActiveItem)) {
        ImGui::SetMouseCursor(ImGuiMouseCursor_Hand);
        ImGui::SetTooltip("%s", url.c_str());
        if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) ctx.actions->push_back(OpenLink{url});
      }
      if (a == link.begin) ctx.probe->item("link." + url);
      at = b;
    }
  }
  if (at < r.end || first_piece) piece(at, r.end);
}

void draw_row(const ChatRow& r, const Conversation& c, UiContext& ctx) {
  const ChatLine& line = line_at(c, r.line);
  if (r.day) {
    draw_day(line);
    return;
  }
  if (r.marker) {
    draw_unread_rule(ctx);
    return;
  }
  if (line.mention) {
    // A line that names the user stands out, every row of it.
    const ImVec2 a = ImGui::GetCursorScreenPos();
    ImGui::GetWindowDrawList()->AddRectFilled(
        ImVec2(a.x - 4, a.y),
        ImVec2(a.x + ImGui::GetContentRegionAvail().x, a.y + ImGui::GetTextLineHeightWithSpacing()),
        ImGui::GetColorU32(colour::mention_bg));
  }
  const char* text = line.text.data();
  const float x0 = ImGui::GetCursorPosX();
  if (r.first) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextUnformatted(clock_time(line.ts).c_str());
    ImGui::PopStyleColor();
    ImGui::SameLine(x0 + ImGui::CalcTextSize("00:00:00  ").x, 0);
    switch (line.kind) {
      case LineKind::message:
        if (line.action) {
          ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
          ImGui::TextUnformatted("* ");
          ImGui::PopStyleColor();
          ImGui::SameLine(0, 0);
        }
        ImGui::PushStyleColor(ImGuiCol_Text, nick_colour(line.nick));
        ImGui::TextUnformatted(line.nick.c_str());
        ImGui::PopStyleColor();
        ImGui::SameLine(x0 + r.indent, 0);
        if (line.action) ImGui::PushStyleColor(ImGuiCol_Text, colour::action);
        draw_message_text(line, r, ctx);
        if (line.action) ImGui::PopStyleColor();
        return;
      case LineKind::join:
      case LineKind::leave: {
        const ImVec4 col = line.kind == LineKind::join ? colour::join : colour::leave;
        ImGui::PushStyleColor(ImGuiCol_Text, col);
        ImGui::TextUnformatted(line.kind == LineKind::join ? "→ " : "← ");
        ImGui::SameLine(0, 0);
        ImGui::PushStyleColor(ImGuiCol_Text, nick_colour(line.nick));
        ImGui::TextUnformatted(line.nick.c_str());
        ImGui::PopStyleColor();
        ImGui::SameLine(x0 + r.indent, 0);
        ImGui::TextUnformatted(text + r.begin, text + r.end);
        ImGui::PopStyleColor();
        return;
      }
      case LineKind::nick:
      case LineKind::notice:
        ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
        ImGui::TextUnformatted("*");
        ImGui::PopStyleColor();
        ImGui::SameLine(x0 + r.indent, 0);
        ImGui::PushStyleColor(ImGuiCol_Text,
                              line.kind == LineKind::notice ? colour::warn : colour::dim);
        ImGui::TextUnformatted(text + r.begin, text + r.end);
        ImGui::PopStyleColor();
        return;
      default:
        break;
    }
  }
  ImGui::SetCursorPosX(x0 + r.indent);
  ImVec4 col = colour::dim;
  if (line.kind == LineKind::message)
    col = line.action ? colour::action : ImGui::GetStyleColorVec4(ImGuiCol_Text);
  if (line.kind == LineKind::error) col = colour::error;
  if (line.kind == LineKind::marker || line.kind == LineKind::notice) col = colour::warn;
  ImGui::PushStyleColor(ImGuiCol_Text, col);
  if (line.kind == LineKind::message) {
    draw_message_text(line, r, ctx);
  } else {
    ImGui::TextUnformatted(text + r.begin, text + r.end);
  }
  ImGui::PopStyleColor();
}

// Messages the user sent that the room has not confirmed (yet), under the history.
void DrawPending(const Conversation& c, const ChatModel& m, UiContext& ctx) {
  const float x0 = ImGui::GetCursorPosX();
  const std::string me = m.nick().empty() ? "you" : m.nick();
  nlohmann::json facts = nlohmann::json::array();
  for (const PendingSay& p : c.pending) {
    const std::string head = p.action ? "* " + me : me;
    const float indent = ImGui::CalcTextSize("00:00:00  ").x + ImGui::CalcTextSize(head.c_str()).x +
                         ImGui::CalcTextSize("  ").x;
    ImGui::PushID(static_cast<int>(p.local_id));
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextUnformatted(clock_time(p.ts).c_str());
    ImGui::SameLine(x0 + ImGui::CalcTextSize("00:00:00  ").x, 0);
    ImGui::TextUnformatted(head.c_str());
    ImGui::SameLine(x0 + indent, 0);
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextUnformatted(p.text.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
    ImGui::SetCursorPosX(x0 + indent);
    if (p.failed) {
      ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
      ImGui::TextUnformatted(("Not sent: " + p.why).c_str());
      ImGui::PopStyleColor();
      ImGui::SameLine();
      if (ImGui::SmallButton("Retry")) ctx.actions->push_back(RetrySay{p.local_id});
      ImGui::SameLine();
      if (ImGui::SmallButton("Dismiss")) ctx.actions->push_back(DismissSay{p.local_id});
    } else {
      ImGui::PushStyleColor(ImGuiCol_Text, colour::warn);
      ImGui::TextUnformatted(m.connection() == Connection::joined
                                 ? "sending…"
                                 : "waiting for the connection; it goes out once it is back");
      ImGui::PopStyleColor();
    }
    ImGui::PopID();
    facts.push_back({{"text", p.text}, {"failed", p.failed}, {"why", p.why}});
  }
  ctx.probe->fact("pending", facts);
}

void DrawOptions(ChatViewState& s, UiContext& ctx) {
  if (ImGui::Button("Options")) ImGui::OpenPopup("##options");
  ctx.probe->item("chat.options");
  if (ImGui::BeginPopup("##options")) {
    bool on = s.notifications;
    if (ImGui::Checkbox("Desktop notifications for mentions and direct messages", &on)) {
      s.notifications = on;
      ctx.actions->push_back(SetNotifications{on});
    }
    ctx.probe->item("options.notifications");
    ImGui::Separator();
    if (ImGui::MenuItem("Larger text", "Ctrl +")) ctx.actions->push_back(ZoomText{1});
    ctx.probe->item("options.larger");
    if (ImGui::MenuItem("Smaller text", "Ctrl -")) ctx.actions->push_back(ZoomText{-1});
    ctx.probe->item("options.smaller");
    if (ImGui::MenuItem("Default text size", "Ctrl 0")) ctx.actions->push_back(ZoomText{0});
    ctx.probe->item("options.default_size");
    ImGui::EndPopup();
  }
}

void DrawHeader(ChatViewState& s, const UiModel& model, UiContext& ctx) {
  const ChatModel& m = model.chat;
  const std::string& room = !m.room().empty() ? m.room() : model.server.room();
  ImGui::TextUnformatted(room.empty() ? "lanchat" : room.c_str());
  ImGui::SameLine();
  if (!m.nick().empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::Text("as %s", m.nick().c_str());
    ImGui::PopStyleColor();
    ImGui::SameLine();
  }
  ImVec4 c = colour::ok;
  if (m.connection() == Connection::reconnecting || m.connection() == Connection::connecting) {
    c = colour::warn;
  } else if (m.connection() != Connection::joined) {
    c = colour::error;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, c);
  ImGui::TextUnformatted("●");
  ImGui::SameLine();
  ImGui::TextUnformatted(m.status().c_str());
  ImGui::PopStyleColor();
  ctx.probe->item("chat.status");
  if (m.loading_older()) {
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextUnformatted("· loading older messages…");
    ImGui::PopStyleColor();
  }
  const bool serving = model.hosting() && model.server.state() == ServerState::running;
  const char* leave_label = serving ? "Stop & leave" : "Leave";
  const float pad = ImGui::GetStyle().FramePadding.x * 2;
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const float bw = ImGui::CalcTextSize(leave_label).x + pad;
  const float sw = ImGui::CalcTextSize("Search").x + pad + spacing;
  const float ow = ImGui::CalcTextSize("Options").x + pad + spacing;
  const float buttons_x = ImGui::GetWindowContentRegionMax().x - bw - sw - ow;
  // What follows the status goes only where it fits before the buttons.
  const auto fits = [&](const std::string& text) {
    const float after_last = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x;
    return after_last + 2 * spacing + ImGui::CalcTextSize(text.c_str()).x < buttons_x;
  };
  if (m.connection() == Connection::joined) {
    // Whether anyone on the network can read along, and which host identity this is: the
    // short fingerprint, to compare with the host's panel; the whole one on hover.
    if (!m.fingerprint().empty()) {
      const std::string full = "· Encrypted · " + net::short_fingerprint(m.fingerprint());
      const std::string text = fits(full) ? full : std::string("· Encrypted");
      ImGui::SameLine();
      ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
      ImGui::TextUnformatted(text.c_str());
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("%s\nHost identity (SHA-256):\n%s", m.tls_description().c_str(),
                          net::grouped_fingerprint(m.fingerprint()).c_str());
      }
      ctx.probe->fact("chat.encryption", full);  // what the line and its tooltip say
    } else {
      ImGui::SameLine();
      ImGui::PushStyleColor(ImGuiCol_Text, colour::warn);
      ImGui::TextUnformatted("· Not encrypted");
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("This room is plain text: anyone on the network can read it");
      }
      ctx.probe->fact("chat.encryption", "not encrypted");
    }
    ctx.probe->item("chat.encryption");
  }
  if (m.rtt() && m.connection() == Connection::joined) {
    const double ms = static_cast<double>(m.rtt()->count()) / 1000.0;
    char rtt[32];
    std::snprintf(rtt, sizeof rtt, ms < 10 ? "RTT %.1f ms" : "RTT %.0f ms", ms);
    if (fits(rtt)) {
      ImGui::SameLine();
      ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
      ImGui::TextUnformatted(rtt);
      ImGui::PopStyleColor();
    }
  }
  ImGui::SameLine(buttons_x);
  DrawOptions(s, ctx);
  ImGui::SameLine();
  if (ImGui::Button("Search")) {
    s.search.open = !s.search.open;
    s.search.focus = s.search.open;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Search the room's history (Ctrl+F)");
  ctx.probe->item("chat.search");
  ImGui::SameLine();
  if (ImGui::Button(leave_label)) {
    if (serving) {
      s.confirm_leave = true;
    } else {
      ctx.actions->push_back(LeaveRoom{});
    }
  }
  ctx.probe->item("chat.leave");
  if (s.confirm_leave) {
    ImGui::OpenPopup("Stop the server and leave?");
    s.confirm_leave = false;
  }
  if (ImGui::BeginPopupModal("Stop the server and leave?", nullptr,
                             ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted(
        "You are hosting this room. Leaving stops the server\nand disconnects everyone.");
    if (ImGui::Button("Stop server and leave")) {
      ctx.actions->push_back(LeaveRoom{});
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Stay") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

// The server refused our nick (while reconnecting, or the host's own client lost a race for
// it): say so and let the user pick another without leaving the room's screen.
void DrawRejoin(ChatViewState& s, const UiModel& model, UiContext& ctx) {
  const ChatModel& m = model.chat;
  ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
  if (m.refused_nick().empty()) {
    ImGui::TextWrapped("The room did not let you in: %s", m.refusal().c_str());
  } else {
    ImGui::TextWrapped("The room did not let you in as \"%s\": %s. Pick another nick:",
                       m.refused_nick().c_str(), m.refusal().c_str());
  }
  ImGui::PopStyleColor();
  if (!m.refused_nick().empty()) {
    if (s.rejoin_nick.empty()) s.rejoin_nick = m.refused_nick() + "_";
    ImGui::SetNextItemWidth(220.0f * ctx.scale);
    const bool enter =
        ImGui::InputText("##rejoin_nick", &s.rejoin_nick, ImGuiInputTextFlags_EnterReturnsTrue);
    ctx.probe->item("chat.rejoin_nick");
    ctx.probe->fact("value.chat.rejoin_nick", s.rejoin_nick);
    ImGui::SameLine();
    const auto why = proto::check_nick(s.rejoin_nick);
    ImGui::BeginDisabled(why.has_value());
    const bool clicked = ImGui::Button("Join");
    ImGui::EndDisabled();
    ctx.probe->item("chat.rejoin");
    if ((enter || clicked) && !why) {
      ctx.actions->push_back(RejoinAs{s.rejoin_nick});
      s.rejoin_nick.clear();
    }
    if (why && !s.rejoin_nick.empty()) {
      ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
      ImGui::TextUnformatted(why->c_str());
      ImGui::PopStyleColor();
    }
  }
  if (model.hosting() && model.server.state() == ServerState::running) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextWrapped("Your server keeps running; Stop Server is on the right.");
    ImGui::PopStyleColor();
  } else {
    if (ImGui::Button("Back to the launcher")) ctx.actions->push_back(LeaveRoom{});
    ctx.probe->item("chat.back");
  }
  ImGui::Separator();
}

void open_conversation(ChatViewState& s, UiContext& ctx, const std::string& peer) {
  if (!peer.empty()) ctx.actions->push_back(OpenDirect{peer});
  s.select_view = peer;
  s.select_pending = true;
  s.refocus = true;
}

// A filter box once the list no longer fits at a glance.
constexpr std::size_t kFilterUsersFrom = 20;

void update_shown_users(UsersViewState& v, const ChatModel& m) {
  if (v.shown_generation == m.generation() && v.shown_revision == m.users_revision() &&
      v.shown_filter == v.filter) {
    return;
  }
  v.shown_generation = m.generation();
  v.shown_revision = m.users_revision();
  v.shown_filter = v.filter;
  v.shown.clear();
  const auto& users = m.users();
  v.shown.reserve(users.size());
  // Folded as nicks are compared elsewhere, so "jurg" finds Jürgen and "ALI" finds alice.
  const std::string needle = lanchat::nick::fold_case(v.filter);
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (needle.empty() || lanchat::nick::fold_case(users[i]).find(needle) != std::string::npos) {
      v.shown.push_back(static_cast<std::uint32_t>(i));
    }
  }
}

void DrawUsers(ChatViewState& s, const ChatModel& m, UiContext& ctx) {
  UsersViewState& v = s.users;
  ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
  ImGui::Text("Online: %zu", m.members());
  // A large room's welcome lists only the first members; the rest are on their way.
  if (m.members() > m.users().size()) {
    ImGui::SameLine();
    ImGui::TextUnformatted("(listing…)");
  }
  ImGui::PopStyleColor();
  if (m.users().size() >= kFilterUsersFrom || !v.filter.empty()) {
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::InputTextWithHint("##find_user", "Find someone", &v.filter);
    ctx.probe->item("users.filter");
  }
  ImGui::Separator();
  update_shown_users(v, m);
  if (v.shown.empty() && !v.filter.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextWrapped("Nobody here matches \"%s\"", v.filter.c_str());
    ImGui::PopStyleColor();
  }
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(v.shown.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const std::string& u = m.users()[v.shown[static_cast<std::size_t>(i)]];
      const bool me = u == m.nick();
      ImGui::PushID(i);
      ImGui::PushStyleColor(ImGuiCol_Text, nick_colour(u));
      // Clicking someone opens a conversation with them beside the room.
      if (ImGui::Selectable(u.c_str(), s.view == u) && !me) open_conversation(s, ctx, u);
      ImGui::PopStyleColor();
      if (!me && ImGui::IsItemHovered()) ImGui::SetTooltip("Send %s a direct message", u.c_str());
      ctx.probe->item("user." + u);
      if (me) {
        ImGui::SameLine();
        ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
        ImGui::TextUnformatted("(you)");
        ImGui::PopStyleColor();
      }
      ImGui::PopID();
    }
  }
  if (ctx.probe->enabled) {
    nlohmann::json users = nlohmann::json::array();
    for (std::uint32_t i : v.shown) users.push_back(m.users()[i]);
    ctx.probe->fact("users", users);
    ctx.probe->fact("members", m.members());
  }
}

// The room and each conversation with someone, as tabs; unread counts on the tabs.
void DrawTabs(ChatViewState& s, const ChatModel& m, UiContext& ctx) {
  if (m.direct().empty()) {
    s.view.clear();
    return;
  }
  if (ImGui::BeginTabBar("##conversations")) {
    auto tab = [&](const Conversation& c) {
      std::string label =
          c.peer.empty() ? "# " + (m.room().empty() ? std::string("room") : m.room()) : c.peer;
      if (c.mentions > 0) {
        label += " (" + std::to_string(c.mentions) + "!)";
      } else if (c.unread > 0) {
        label += " (" + std::to_string(c.unread) + ")";
      }
      label += "###conv" + std::to_string(c.id);
      const bool select = s.select_pending && s.select_view == c.peer;
      const bool open =
          ImGui::BeginTabItem(label.c_str(), nullptr, select ? ImGuiTabItemFlags_SetSelected : 0);
      ctx.probe->item(c.peer.empty() ? "tab.room" : "tab.dm." + c.peer);
      if (open) {
        if (!s.select_pending) s.view = c.peer;
        ImGui::EndTabItem();
      }
    };
    tab(m.room_conversation());
    for (const auto& c : m.direct()) tab(c);
    if (s.select_pending) {
      s.view = s.select_view;
      s.select_pending = false;
    }
    ImGui::EndTabBar();
  }
  if (ctx.probe->enabled) {
    nlohmann::json tabs = nlohmann::json::object();
    for (const auto& c : m.direct())
      tabs[c.peer] = {{"unread", c.unread}, {"mentions", c.mentions}};
    ctx.probe->fact("direct", tabs);
  }
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  // Keep leading spaces on the first line (indentation can matter); drop leading blank lines.
  const auto line_start = s.rfind('\n', b);
  const std::size_t from = line_start == std::string::npos ? 0 : line_start + 1;
  return s.substr(from, e + 1 - from);
}

// The connection number of the member called `nick`, for the host's commands.
std::optional<std::uint64_t> conn_of(const UiModel& model, const std::string& nick) {
  for (const auto& p : model.server.peers()) {
    if (!p.nick.empty() && lanchat::nick::fold_case(p.nick) == lanchat::nick::fold_case(nick)) {
      return p.conn;
    }
  }
  return std::nullopt;
}

// Turns what was typed into actions; false (with input_error set) if it cannot be done.
bool Run(ChatViewState& s, const UiModel& model, UiContext& ctx, const std::string& text) {
  const bool host = model.hosting() && model.server.state() == ServerState::running;
  auto host_only = [&](const char* what) {
    if (!host) s.input_error = std::string("Only the host can ") + what + ".";
    return host;
  };
  auto member = [&](const std::string& nick) -> std::optional<std::uint64_t> {
    auto conn = conn_of(model, nick);
    if (!conn) s.input_error = "Nobody called \"" + nick + "\" is in the room.";
    return conn;
  };
  return std::visit(
      [&](const auto& c) -> bool {
        using T = std::decay_t<decltype(c)>;
        namespace cmd = net::command;
        if constexpr (std::is_same_v<T, cmd::Say>) {
          if (auto why = proto::check_text(c.text)) {
            s.input_error = *why;  // the text stays in the box to be fixed
            return false;
          }
          // In a conversation with someone, what is typed goes to them.
          const std::string to = !c.to.empty() ? c.to : s.view;
          ctx.actions->push_back(SendText{c.text, to, c.action});
          if (!c.to.empty() && c.to != s.view) open_conversation(s, ctx, c.to);
          return true;
        } else if constexpr (std::is_same_v<T, cmd::Nick>) {
          if (auto why = proto::check_nick(c.nick)) {
            s.input_error = *why;
            return false;
          }
          ctx.actions->push_back(ChangeNick{c.nick});
          return true;
        } else if constexpr (std::is_same_v<T, cmd::Kick>) {
          if (!host_only("remove someone")) return false;
          auto conn = member(c.nick);
          if (conn) ctx.actions->push_back(Moderate{Moderate::Kind::kick, *conn, c.reason, {}});
          return conn.has_value();
        } else if constexpr (std::is_same_v<T, cmd::Mute>) {
          if (!host_only(c.muted ? "mute someone" : "unmute someone")) return false;
          auto conn = member(c.nick);
          if (conn) {
            ctx.actions->push_back(
                Moderate{c.muted ? Moderate::Kind::mute : Moderate::Kind::unmute, *conn, {}, {}});
          }
          return conn.has_value();
        } else if constexpr (std::is_same_v<T, cmd::Ban>) {
          if (!host_only("ban someone")) return false;
          auto conn = member(c.nick);
          if (conn) {
            ctx.actions->push_back(Moderate{Moderate::Kind::ban, *conn, c.reason, c.duration});
          }
          return conn.has_value();
        } else if constexpr (std::is_same_v<T, cmd::Unban>) {
          if (!host_only("lift a ban")) return false;
          for (const auto& b : model.server.bans()) {
            if (b.address == c.who ||
                lanchat::nick::fold_case(b.nick) == lanchat::nick::fold_case(c.who)) {
              ctx.actions->push_back(ui::Unban{b.address});
              return true;
            }
          }
          s.input_error = "No ban for \"" + c.who + "\".";
          return false;
        } else if constexpr (std::is_same_v<T, cmd::Help>) {
          ctx.actions->push_back(ShowInfo{std::string(net::command_help())});
          return true;
        } else {
          s.input_error = c.message;
          return false;
        }
      },
      net::parse_command(text));
}

void Submit(ChatViewState& s, const UiModel& model, UiContext& ctx) {
  const ChatModel& m = model.chat;
  s.refocus = true;
  const std::string text = trimmed(s.input);
  if (text.empty()) return;
  if (m.connection() == Connection::shut_down || m.connection() == Connection::lost) {
    s.input_error = "Not connected: the message was not sent.";
    return;
  }
  if (!Run(s, model, ctx, text)) return;
  s.last_sent = s.input;
  s.input.clear();
  s.input_error.clear();
  s.jump_to_bottom = true;
}

// Tab completes the nick being typed from the users list; Tab again cycles through the
// others that fit. At the start of the message the nick gets a ": ", as is the custom.
struct Completion {
  ChatViewState* state;
  const ChatModel* model;
  bool recall = false;  // Up was pressed in an empty input
};

int complete_nick(ImGuiInputTextCallbackData* d) {
  auto& c = *static_cast<Completion*>(d->UserData);
  if (d->EventFlag == ImGuiInputTextFlags_CallbackAlways) {
    // Up in an empty input: the last message sent, to correct and send again. In a message
    // being written, Up keeps moving the cursor. (ImGui 1.86 has no history callback for a
    // multi-line input, and ignores changes made to an active input from outside.)
    if (c.recall && d->BufTextLen == 0 && !c.state->last_sent.empty()) {
      d->InsertChars(0, c.state->last_sent.c_str());
    }
    return 0;
  }
  if (d->EventFlag != ImGuiInputTextFlags_CallbackCompletion) return 0;
  ChatViewState& s = *c.state;
  const bool cycling =
      s.completion_start >= 0 && d->CursorPos == s.completion_end && !s.completions.empty();
  if (!cycling) {
    int start = d->CursorPos;
    while (start > 0 && d->Buf[start - 1] != ' ' && d->Buf[start - 1] != '\n') --start;
    std::string stem(d->Buf + start, static_cast<std::size_t>(d->CursorPos - start));
    const bool at = !stem.empty() && stem[0] == '@';
    if (at) stem.erase(0, 1);
    if (stem.empty()) return 0;
    const std::string folded = lanchat::nick::fold_case(stem);
    s.completions.clear();
    for (const auto& u : c.model->users()) {
      if (u != c.model->nick() && lanchat::nick::fold_case(u).rfind(folded, 0) == 0) {
        s.completions.push_back(u);
      }
    }
    if (s.completions.empty()) return 0;
    s.completion_next = 0;
    s.completion_start = start + (at ? 1 : 0);
  }
  const std::string& nick = s.completions[s.completion_next % s.completions.size()];
  ++s.completion_next;
  const std::string insert = nick + (s.completion_start == 0 ? ": " : " ");
  d->DeleteChars(s.completion_start, d->CursorPos - s.completion_start);
  d->InsertChars(s.completion_start, insert.c_str());
  s.completion_end = d->CursorPos;
  return 0;
}

void DrawInput(ChatViewState& s, const UiModel& model, UiContext& ctx) {
  ImGuiIO& io = ImGui::GetIO();
  const float send_w = ImGui::CalcTextSize("Send").x + ImGui::GetStyle().FramePadding.x * 2 +
                       ImGui::GetStyle().ItemSpacing.x;
  const float h = ImGui::GetTextLineHeight() * 3 + ImGui::GetStyle().FramePadding.y * 2;
  if (s.refocus) {
    ImGui::SetKeyboardFocusHere();
    s.refocus = false;
  }
  // Enter and Ctrl+Enter send; Shift+Enter starts a new line. ImGui 1.86 only knows
  // Ctrl+Enter for a new line, so for this one widget Shift is presented as Ctrl and Ctrl
  // as nothing.
  const bool enter = ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)) ||
                     ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_KeyPadEnter));
  // (1.86 asserts that KeyMods agrees with KeyCtrl, so both change together.)
  const bool saved_ctrl = io.KeyCtrl;
  const ImGuiKeyModFlags saved_mods = io.KeyMods;
  if (enter && io.KeyShift) {
    io.KeyCtrl = true;
    io.KeyMods |= ImGuiKeyModFlags_Ctrl;
  } else if (enter && io.KeyCtrl) {
    io.KeyCtrl = false;
    io.KeyMods &= ~ImGuiKeyModFlags_Ctrl;
  }
  const bool escape = ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)) &&
                      !ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId);
  Completion completion{
      &s, &model.chat,
      s.input.empty() && ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))};
  const bool submitted = ImGui::InputTextMultiline(
      "##input", &s.input, ImVec2(-send_w, h),
      ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CtrlEnterForNewLine |
          ImGuiInputTextFlags_CallbackCompletion | ImGuiInputTextFlags_CallbackAlways,
      complete_nick, &completion);
  io.KeyCtrl = saved_ctrl;
  io.KeyMods = saved_mods;
  if (escape && (ImGui::IsItemActive() || ImGui::IsItemDeactivated())) {
    // Escape clears what was being written (ImGui would only give up the edit).
    s.input.clear();
    s.input_error.clear();
    s.refocus = true;
  }
  ctx.probe->item("chat.input");
  ImGui::SameLine();
  const bool clicked = ImGui::Button("Send", ImVec2(-1, h));
  ctx.probe->item("chat.send");
  if (submitted || clicked) Submit(s, model, ctx);
  if (!s.input_error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
    ImGui::TextUnformatted(s.input_error.c_str());
    ImGui::PopStyleColor();
  } else {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    const std::size_t n = s.input.size();
    if (model.chat.connection() == Connection::reconnecting) {
      ImGui::TextUnformatted(
          "Reconnecting: messages you send now go out once the connection is back.");
    } else if (n > 3000) {
      ImGui::Text("%zu bytes (limit: %zu characters)", n, proto::kMaxTextCodePoints);
    } else if (!s.view.empty()) {
      ImGui::Text("To %s only · Enter sends · /me for an action", s.view.c_str());
    } else {
      ImGui::TextUnformatted(
          "Enter sends · Shift+Enter adds a line · Up edits the last · Tab completes a nick · "
          "/help");
    }
    ImGui::PopStyleColor();
  }
  ctx.probe->fact("input", s.input);
  ctx.probe->fact("input_error", s.input_error);
}

// While the reader is scrolled up, messages that arrive below are counted on a bar at the
// bottom of the history; clicking it (or End) follows the newest lines again.
void DrawJumpToLatest(ChatViewState& s, const Conversation& c, bool at_bottom, UiContext& ctx) {
  const std::uint64_t end = c.first_line + c.lines.size();
  if (s.seen_conversation != c.id) {
    s.seen_conversation = c.id;
    s.seen_end = end;
  }
  if (at_bottom || s.jump_to_bottom) s.seen_end = end;
  std::uint64_t fresh = 0;
  for (std::uint64_t n = std::max(s.seen_end, c.first_line); n < end; ++n) {
    if (line_at(c, n).kind == LineKind::message) ++fresh;
  }
  ctx.probe->fact("new_below", fresh);
  if (fresh == 0) return;
  const std::string label =
      std::to_string(fresh) + (fresh == 1 ? " new message" : " new messages") + " — jump to latest";
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 text = ImGui::CalcTextSize(label.c_str());
  const float w = text.x + style.FramePadding.x * 2;
  const float h = text.y + style.FramePadding.y * 2;
  const ImVec2 saved = ImGui::GetCursorPos();
  ImGui::SetCursorPos(
      ImVec2(std::max(0.0f, (ImGui::GetWindowWidth() - w) * 0.5f),
             ImGui::GetScrollY() + ImGui::GetWindowHeight() - h - style.WindowPadding.y));
  // The input below usually holds ImGui's active id, which keeps a Button from taking the
  // first click; the bar answers the click itself so that one click is enough.
  const bool pressed = ImGui::Button(label.c_str());
  const bool clicked = ImGui::IsWindowHovered(ImGuiHoveredFlags_AllowWhenBlockedByActiveItem) &&
                       ImGui::IsMouseClicked(ImGuiMouseButton_Left) &&
                       ImGui::IsMouseHoveringRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax());
  if (pressed || clicked) {
    s.jump_to_bottom = true;
    s.refocus = true;
  }
  ctx.probe->item("chat.jump_latest");
  ImGui::SetCursorPos(saved);
}

void DrawHistory(ChatViewState& s, const Conversation& c, const ChatModel& m, UiContext& ctx,
                 ImVec2 size) {
  // Rows are brought up to date before the child begins (at last frame's width), so rows
  // added above the reader (a re-wrap working backwards) move the scroll position in this
  // same frame and the view does not jump.
  const float row_h = ImGui::GetTextLineHeightWithSpacing();
  follow_focus(s, c);
  if (s.content_width > 0) {
    if (auto y = update_rows(s, c, s.content_width, row_h)) s.scroll_to = *y;
    if (auto y = place_unread(s, c, row_h)) s.scroll_to = *y;
  }
  // Page Up/Down scroll the history whatever has the keyboard (the input always does).
  if (!ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId) && s.page_height > 0) {
    const float page = s.page_height * 0.9f;
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageUp))) {
      s.scroll_to = std::max(0.0f, s.scroll_y - page);
    } else if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageDown))) {
      s.scroll_to = s.scroll_y + page;  // ImGui clamps it to the end
    }
    // End (in an empty input; Ctrl+End anywhere) follows the newest lines again.
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_End)) &&
        (s.input.empty() || ImGui::GetIO().KeyCtrl)) {
      s.jump_to_bottom = true;
    }
  }
  if (s.scroll_to) {
    ImGui::SetNextWindowScroll(ImVec2(-1.0f, *s.scroll_to));
    s.scroll_to.reset();
  }
  ImGui::BeginChild("##history", size, true);
  s.content_width = ImGui::GetContentRegionAvail().x;  // laid out for from the next frame
  if (!c.peer.empty() && c.lines.empty() && c.pending.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextWrapped(
        "Direct messages with %s: only the two of you see them, and they are not kept in the "
        "room's history.",
        c.peer.c_str());
    ImGui::PopStyleColor();
  }
  s.page_height = ImGui::GetWindowHeight();
  // The line under the pointer, for the menu's Copy text.
  std::optional<std::uint64_t> hovered_line;
  const float left = ImGui::GetWindowPos().x;
  const float right = left + ImGui::GetWindowWidth();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(s.rows.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const ChatRow& row = s.rows[static_cast<std::size_t>(i)];
      const float y0 = ImGui::GetCursorScreenPos().y;
      draw_row(row, c, ctx);
      if (static_cast<std::size_t>(i) + 1 == s.rows.size()) ctx.probe->item("chat.row.last");
      if (!row.day && !row.marker &&
          ImGui::IsMouseHoveringRect(ImVec2(left, y0), ImVec2(right, ImGui::GetCursorScreenPos().y),
                                     false)) {
        hovered_line = row.line;
      }
    }
  }
  clipper.End();
  if (!c.pending.empty()) {
    DrawPending(c, m, ctx);
  } else {
    ctx.probe->fact("pending", nlohmann::json::array());
  }
  // Scrolled to the top of what is loaded: ask for the page before it. The rows added
  // above keep the reader's view where it is (see update_rows).
  if (c.peer.empty() && s.seen_bottom && ImGui::GetScrollY() <= 0.5f && m.more_older() &&
      !m.loading_older() && s.rows_first == c.first_line && m.oldest_id() != 0 &&
      m.connection() == Connection::joined) {
    ctx.actions->push_back(LoadOlder{m.oldest_id()});
  }
  // Follow new lines only when the reader is already at the bottom (or just sent).
  // SetScrollHereY puts the last line at the bottom, which can leave the window's own
  // padding (a few pixels) below: that is the bottom too.
  const bool at_bottom = ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - row_h * 0.5f;
  if (at_bottom && !s.rows.empty()) s.seen_bottom = true;
  if (s.jump_to_bottom || at_bottom) {
    ImGui::SetScrollHereY(1.0f);
    s.jump_to_bottom = false;
  }
  s.at_bottom = at_bottom;
  s.scroll_y = ImGui::GetScrollY();
  DrawJumpToLatest(s, c, at_bottom, ctx);
  if (ImGui::BeginPopupContextWindow("##history_menu")) {
    if (ImGui::IsWindowAppearing()) s.menu_line = hovered_line;
    const ChatLine* line = nullptr;
    if (s.menu_line && *s.menu_line >= c.first_line &&
        *s.menu_line < c.first_line + c.lines.size()) {
      line = &line_at(c, *s.menu_line);
    }
    if (line != nullptr && !line->text.empty()) {
      if (ImGui::MenuItem("Copy text")) ImGui::SetClipboardText(line->text.c_str());
      ctx.probe->item("menu.copy_text");
      if (ImGui::MenuItem("Copy with nick and time")) {
        ImGui::SetClipboardText(line_as_text(*line).c_str());
      }
      ctx.probe->item("menu.copy_line");
      ImGui::Separator();
    }
    if (ImGui::MenuItem("Copy the whole conversation")) {
      ImGui::SetClipboardText(chat_as_text(c).c_str());
    }
    ctx.probe->item("menu.copy_all");
    ImGui::EndPopup();
  }
  ImGui::EndChild();
  ctx.probe->item("chat.history");
  ctx.probe->fact("relayout_done", s.rows_first == c.first_line);
}

}  // namespace

void DrawChat(ChatViewState& s, const UiModel& model, UiContext& ctx, ImVec2 pos, ImVec2 size) {
  const ChatModel& m = model.chat;
  BeginPanel("Chat", pos, size);
  DrawHeader(s, model, ctx);
  ImGui::Separator();

  if (m.connection() == Connection::rejected) {
    DrawRejoin(s, model, ctx);
  } else if (m.ended()) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
    ImGui::TextWrapped("%s", m.status().c_str());
    ImGui::PopStyleColor();
    if (m.mismatch() && !model.hosting()) {
      TrustButton(*m.mismatch(), ctx);
      ImGui::SameLine();
    }
    if (ImGui::Button("Back to the launcher")) ctx.actions->push_back(LeaveRoom{});
    ctx.probe->item("chat.back");
    ImGui::Separator();
  }

  DrawTabs(s, m, ctx);
  const Conversation* shown = m.conversation(s.view);
  if (shown == nullptr) {  // the person's conversation is gone (a new session)
    s.view.clear();
    shown = &m.room_conversation();
  }

  const float users_w = 170.0f * ctx.scale;
  const float input_h = ImGui::GetTextLineHeight() * 4 + ImGui::GetStyle().FramePadding.y * 2 +
                        ImGui::GetStyle().ItemSpacing.y * 3;
  const float body_h = ImGui::GetContentRegionAvail().y - input_h;

  // Ctrl+F opens the search panel in place of the users list (GLFW's key codes for letters
  // are their ASCII capitals).
  if (ImGui::GetIO().KeyCtrl && ImGui::IsKeyPressed('F', false)) {
    s.search.open = true;
    s.search.focus = true;
  }
  if (s.search.open) {
    const float search_w = std::floor(ImGui::GetContentRegionAvail().x * 0.45f);
    DrawHistory(s, *shown, m, ctx, ImVec2(-search_w, body_h));
    ImGui::SameLine();
    DrawSearch(s.search, model, ctx, ImVec2(0, body_h));
  } else {
    DrawHistory(s, *shown, m, ctx, ImVec2(-users_w, body_h));
    ImGui::SameLine();
    ImGui::BeginChild("##users", ImVec2(0, body_h), true);
    DrawUsers(s, m, ctx);
    ImGui::EndChild();
  }
  ctx.probe->fact("search_open", s.search.open);

  DrawInput(s, model, ctx);

  // Facts for the UI tests: what the conversation on screen shows, newest last.
  if (ctx.probe->enabled) {
    nlohmann::json last = nlohmann::json::array();
    const std::size_t n = shown->lines.size();
    for (std::size_t i = n > 20 ? n - 20 : 0; i < n; ++i)
      last.push_back(line_as_text(shown->lines[i]).substr(11));
    ctx.probe->fact("chat_lines", last);
    ctx.probe->fact("chat_line_count", n);
    ctx.probe->fact("view", s.view);
    ctx.probe->fact("connection", m.status());
    ctx.probe->fact("more_older", m.more_older());
    ctx.probe->fact("loading_older", m.loading_older());
    ctx.probe->fact("unread", m.total_unread());
    ctx.probe->fact("mentions", m.total_mentions());
    nlohmann::json mentioned = nlohmann::json::array();
    for (const auto& l : shown->lines) {
      if (l.mention) mentioned.push_back(l.text);
    }
    ctx.probe->fact("mentioned_lines", mentioned);
    const Conversation& seen = *shown;
    ctx.probe->fact("unread_marker", s.unread_from && *s.unread_from >= seen.first_line &&
                                             *s.unread_from < seen.end_line()
                                         ? line_at(seen, *s.unread_from).text
                                         : std::string());
    for (const auto& l : m.lines()) {
      if (l.kind == LineKind::message) {
        ctx.probe->fact("oldest_shown", l.text);
        ctx.probe->fact("oldest_shown_day", day_text(l.ts));
        break;
      }
    }
  }
  ImGui::End();
}

}  // namespace lanchat::ui
