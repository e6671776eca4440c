#include "ui/search_window.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

namespace lanchat::ui {

namespace {

// One message as a wrapped row: time, nick, text; the picked hit stands out.
void DrawMessage(const proto::ChatMsg& m, bool highlight) {
  const ImVec2 top = ImGui::GetCursorScreenPos();
  ImGui::BeginGroup();
  ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
  ImGui::TextUnformatted(clock_time(m.ts).c_str());
  ImGui::PopStyleColor();
  ImGui::SameLine();
  ImGui::PushStyleColor(ImGuiCol_Text, nick_colour(m.from));
  ImGui::TextUnformatted(m.from.c_str());
  ImGui::PopStyleColor();
  ImGui::SameLine();
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextUnformatted(m.text.c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndGroup();
  if (highlight) {
    // A bar in the margin, as tall as the message however it wraps.
    const float x = top.x - ImGui::GetStyle().WindowPadding.x * 0.6f;
    ImGui::GetWindowDrawList()->AddLine(ImVec2(x, top.y), ImVec2(x, ImGui::GetItemRectMax().y),
                                        ImGui::GetColorU32(colour::warn), 3.0f);
  }
}

std::string one_line(const std::string& text, std::size_t max_bytes) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_bytes && (static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      out += "…";
      break;
    }
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

void DrawSearch(SearchViewState& s, const UiModel& model, UiContext& ctx, ImVec2 size) {
  const SearchModel& m = model.search;
  ImGui::BeginChild("##search", size, true);
  ImGui::TextUnformatted("Search the room's history");
  const float close_w = ImGui::CalcTextSize("Close").x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SameLine(ImGui::GetContentRegionMax().x - close_w);
  if (ImGui::SmallButton("Close") || (ImGui::IsWindowFocused(ImGuiFocusedFlags_ChildWindows) &&
                                      ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))) {
    s.open = false;
  }
  ctx.probe->item("search.close");
  if (s.focus) {
    ImGui::SetKeyboardFocusHere();
    s.focus = false;
  }
  ImGui::SetNextItemWidth(-1);
  const bool enter =
      ImGui::InputTextWithHint("##search_text", "words or the start of words, e.g. citta", &s.query,
                               ImGuiInputTextFlags_EnterReturnsTrue);
  ctx.probe->item("search.text");
  ctx.probe->fact("value.search.text", s.query);
  if (enter && s.query.find_first_not_of(" \t") != std::string::npos) {
    ctx.actions->push_back(SearchFor{s.query});
    s.picked = 0;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, m.error().empty() ? colour::dim : colour::error);
  if (!m.error().empty()) {
    ImGui::TextWrapped("Search failed: %s", m.error().c_str());
  } else if (m.searching()) {
    ImGui::TextUnformatted("Searching…");
  } else if (!m.text().empty()) {
    ImGui::Text("%zu message%s found for \"%s\" (newest first)", m.hits().size(),
                m.hits().size() == 1 ? "" : "s", m.text().c_str());
  } else {
    ImGui::TextWrapped(
        "Enter searches every message the room has kept; click a hit to see it in "
        "context.");
  }
  ImGui::PopStyleColor();

  const float list_h = s.picked != 0 ? ImGui::GetContentRegionAvail().y * 0.45f : 0.0f;
  ImGui::BeginChild("##hits", ImVec2(0, list_h), false);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(m.hits().size()));
  nlohmann::json facts = nlohmann::json::array();
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const proto::ChatMsg& h = m.hits()[static_cast<std::size_t>(i)];
      ImGui::PushID(static_cast<int>(h.id));
      const std::string label = clock_time(h.ts) + "  " + h.from + ":  " + one_line(h.text, 120);
      if (ImGui::Selectable(label.c_str(), s.picked == h.id)) {
        s.picked = h.id;
        s.scroll_to_hit = true;
        ctx.actions->push_back(ShowContext{h.id});
      }
      ctx.probe->item("search.hit." + std::to_string(i));
      ImGui::PopID();
    }
  }
  for (const auto& h : m.hits()) facts.push_back(h.from + ": " + h.text);
  ctx.probe->fact("search_hits", facts);
  ImGui::EndChild();

  if (s.picked != 0) {
    ImGui::Separator();
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextUnformatted(m.context_loading() ? "Loading the conversation around it…"
                                               : "The conversation around it:");
    ImGui::PopStyleColor();
    ImGui::BeginChild("##context", ImVec2(0, 0), true);
    nlohmann::json ctx_facts = nlohmann::json::array();
    for (const auto& c : m.context()) {
      const bool hit = c.id == s.picked;
      DrawMessage(c, hit);
      if (hit && s.scroll_to_hit && !m.context_loading()) {
        ImGui::SetScrollHereY(0.5f);
        s.scroll_to_hit = false;
      }
      ctx_facts.push_back((hit ? "> " : "") + c.from + ": " + c.text);
    }
    ctx.probe->fact("search_context", ctx_facts);
    ImGui::EndChild();
  }
  ImGui::EndChild();
}

}  // namespace lanchat::ui
