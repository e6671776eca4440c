#include "ui/server_window.hpp"

#include <imgui_stdlib.h>

#include <cstdio>
#include <functional>

namespace lanchat::ui {

namespace {

bool level_shown(const ServerPanelState& s, net::LogLevel l) {
  switch (l) {
    case net::LogLevel::warn:
      return s.show_warn;
    case net::LogLevel::error:
      return s.show_error;
    default:
      return s.show_info;
  }
}

std::uint64_t filter_key(const ServerPanelState& s, const ServerModel& m) {
  std::uint64_t k = std::hash<std::string>{}(s.filter.InputBuf);
  k ^= (s.show_info ? 1u : 0u) | (s.show_warn ? 2u : 0u) | (s.show_error ? 4u : 0u);
  // A reset model (a new hosting session) restarts the list.
  return k ^ (static_cast<std::uint64_t>(m.started_at()) * 31u);
}

// The log is a bounded deque: row number `abs` lives at index abs - dropped.
void update_visible(ServerPanelState& s, const ServerModel& m) {
  const std::uint64_t total = m.log_revision();  // rows ever added
  const std::uint64_t dropped = total - m.log().size();
  const std::uint64_t key = filter_key(s, m);
  if (key != s.visible_key || s.visible_next > total) {
    s.visible.clear();
    s.visible_next = dropped;
    s.visible_key = key;
  }
  s.visible_next = std::max(s.visible_next, dropped);
  for (; s.visible_next < total; ++s.visible_next) {
    const LogRow& r = m.log()[static_cast<std::size_t>(s.visible_next - dropped)];
    if (level_shown(s, r.level) && s.filter.PassFilter(r.text.c_str()))
      s.visible.push_back(s.visible_next);
  }
  std::size_t cut = 0;
  while (cut < s.visible.size() && s.visible[cut] < dropped) ++cut;
  if (cut > 0)
    s.visible.erase(s.visible.begin(), s.visible.begin() + static_cast<std::ptrdiff_t>(cut));
}

const char* state_text(ServerState st) {
  switch (st) {
    case ServerState::off:
      return "Off";
    case ServerState::starting:
      return "Starting…";
    case ServerState::running:
      return "Running";
    case ServerState::stopping:
      return "Stopping…";
    case ServerState::stopped:
      return "Stopped";
    case ServerState::failed:
      return "Failed";
  }
  return "";
}

std::string size_text(std::uint64_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f KB", static_cast<double>(bytes) / 1024);
  }
  return buf;
}

// Where the room's history is kept, and whether writing it works.
void DrawStore(const ServerModel& m, UiContext& ctx) {
  if (!m.store_known()) return;
  const net::ServerStore& st = m.store();
  std::string line;
  if (st.path.empty()) {
    line = "History: in memory only (" + std::to_string(st.messages) +
           " messages; gone when the server stops)";
  } else {
    line = "History: " + std::to_string(st.messages) + " messages, " + size_text(st.bytes) +
           " in " + st.path;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, st.failing ? colour::error : colour::dim);
  ImGui::TextWrapped("%s", line.c_str());
  if (st.failing) {
    ImGui::TextWrapped("Cannot write it: %s. Chat goes on; %llu messages wait to be written.",
                       st.error.c_str(), static_cast<unsigned long long>(st.unsaved));
  }
  ImGui::PopStyleColor();
  ctx.probe->fact("store", {{"path", st.path},
                            {"messages", st.messages},
                            {"bytes", st.bytes},
                            {"failing", st.failing},
                            {"error", st.error}});
}

void DrawStatus(ServerPanelState& s, const ServerModel& m, UiContext& ctx) {
  const bool running = m.state() == ServerState::running;
  ImGui::PushStyleColor(ImGuiCol_Text, running ? colour::ok : colour::error);
  ImGui::TextUnformatted("●");
  ImGui::SameLine();
  ImGui::TextUnformatted(state_text(m.state()));
  ImGui::PopStyleColor();
  ctx.probe->fact("server_state", state_text(m.state()));
  ImGui::SameLine();
  ImGui::Text("%s on %s", m.room().c_str(), m.address().c_str());

  ImGui::BeginDisabled(!running);
  ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.62f, 0.18f, 0.18f, 1.0f));
  ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(0.78f, 0.24f, 0.24f, 1.0f));
  ImGui::PushStyleColor(ImGuiCol_ButtonActive, ImVec4(0.88f, 0.28f, 0.28f, 1.0f));
  const float bw = ImGui::CalcTextSize("Stop Server").x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - bw);
  if (ImGui::Button("Stop Server")) s.open_stop_dialog = true;
  ctx.probe->item("server.stop");
  ImGui::PopStyleColor(3);
  ImGui::EndDisabled();

  DrawStore(m, ctx);
  ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
  if (running) {
    ImGui::Text("Up %s · %zu online · %zu connections · %llu messages",
                format_duration(net::now_ms() - m.started_at()).c_str(), m.joined_count(),
                m.peers().size(), static_cast<unsigned long long>(m.total_messages()));
  } else if (m.state() == ServerState::stopped) {
    ImGui::Text("Stopped: %s", m.stop_reason().c_str());
  } else if (m.state() == ServerState::failed) {
    ImGui::TextWrapped("%s", m.error().c_str());
  }
  ImGui::PopStyleColor();
}

void DrawStopDialog(ServerPanelState& s, UiContext& ctx) {
  if (s.open_stop_dialog) {
    ImGui::OpenPopup("Stop the server?");
    s.open_stop_dialog = false;
  }
  ImGui::SetNextWindowSize(ImVec2(420 * ctx.scale, 0));
  if (ImGui::BeginPopupModal("Stop the server?", nullptr, ImGuiWindowFlags_NoResize)) {
    ImGui::TextWrapped("Everyone connected gets this reason and is disconnected.");
    ImGui::TextUnformatted("Reason (optional)");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    const bool enter =
        ImGui::InputText("##reason", &s.stop_reason, ImGuiInputTextFlags_EnterReturnsTrue);
    ctx.probe->item("stop.reason");
    ctx.probe->fact("value.stop.reason", s.stop_reason);
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.62f, 0.18f, 0.18f, 1.0f));
    const bool confirm = ImGui::Button("Stop Server", ImVec2(140 * ctx.scale, 0));
    ctx.probe->item("stop.confirm");
    ImGui::PopStyleColor();
    if (confirm || enter) {
      ctx.actions->push_back(StopServer{s.stop_reason});
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel", ImVec2(100 * ctx.scale, 0)) ||
        ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
      ImGui::CloseCurrentPopup();
    }
    ctx.probe->item("stop.cancel");
    ImGui::EndPopup();
  }
}

void DrawPeers(const ServerModel& m, UiContext& ctx, float height) {
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_Resizable |
                                ImGuiTableFlags_SizingStretchProp;
  if (ImGui::BeginTable("##peers", 4, flags, ImVec2(0, height))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("Nick", ImGuiTableColumnFlags_None, 1.2f);
    ImGui::TableSetupColumn("Address", ImGuiTableColumnFlags_None, 1.4f);
    ImGui::TableSetupColumn("Since", ImGuiTableColumnFlags_None, 0.8f);
    ImGui::TableSetupColumn("Msgs", ImGuiTableColumnFlags_None, 0.5f);
    ImGui::TableHeadersRow();
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(m.peers().size()));
    while (clipper.Step()) {
      for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
        const PeerRow& p = m.peers()[static_cast<std::size_t>(i)];
        ImGui::PushID(static_cast<int>(p.conn));
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        if (p.nick.empty()) {
          ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
          ImGui::TextUnformatted("(not joined)");
          ImGui::PopStyleColor();
        } else {
          ImGui::PushStyleColor(ImGuiCol_Text, nick_colour(p.nick));
          ImGui::TextUnformatted(p.nick.c_str());
          ImGui::PopStyleColor();
          if (p.host) {
            ImGui::SameLine();
            ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
            ImGui::TextUnformatted("(you)");
            ImGui::PopStyleColor();
          }
        }
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(p.address.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(clock_time(p.since).c_str());
        ImGui::TableNextColumn();
        ImGui::Text("%llu", static_cast<unsigned long long>(p.messages));
        ImGui::PopID();
      }
    }
    ImGui::EndTable();
  }
  ctx.probe->fact("peer_count", m.peers().size());
}

void DrawLog(ServerPanelState& s, const ServerModel& m, UiContext& ctx) {
  const float copy_w = ImGui::CalcTextSize("Copy").x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - copy_w -
                          ImGui::GetStyle().ItemSpacing.x);
  s.filter.Draw("##filter");
  ctx.probe->item("log.filter");
  if (!s.filter.IsActive()) {
    // Placeholder text: 1.86 has no hint for ImGuiTextFilter.
    const ImVec2 a = ImGui::GetItemRectMin();
    ImGui::GetWindowDrawList()->AddText(
        ImVec2(a.x + ImGui::GetStyle().FramePadding.x, a.y + ImGui::GetStyle().FramePadding.y),
        ImGui::GetColorU32(colour::dim), "filter: word, -excluded, a,b");
  }
  ImGui::SameLine();
  update_visible(s, m);
  const bool copy = ImGui::Button("Copy");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Copy the lines shown to the clipboard");
  ImGui::Checkbox("info", &s.show_info);
  ImGui::SameLine();
  ImGui::Checkbox("warnings", &s.show_warn);
  ImGui::SameLine();
  ImGui::Checkbox("errors", &s.show_error);
  ImGui::SameLine();
  ImGui::Checkbox("follow new lines", &s.auto_scroll);

  const std::uint64_t dropped = m.log_revision() - m.log().size();
  ImGui::BeginChild("##log", ImVec2(0, 0), true, ImGuiWindowFlags_HorizontalScrollbar);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(s.visible.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const LogRow& r =
          m.log()[static_cast<std::size_t>(s.visible[static_cast<std::size_t>(i)] - dropped)];
      ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
      ImGui::TextUnformatted(clock_time(r.ts).c_str());
      ImGui::PopStyleColor();
      ImGui::SameLine();
      const bool coloured = r.level == net::LogLevel::warn || r.level == net::LogLevel::error;
      if (coloured)
        ImGui::PushStyleColor(ImGuiCol_Text,
                              r.level == net::LogLevel::warn ? colour::warn : colour::error);
      ImGui::TextUnformatted(r.text.c_str());
      if (coloured) ImGui::PopStyleColor();
    }
  }
  clipper.End();
  if (copy) {
    // Every row that passes the filter, not just the ones on screen.
    std::string all;
    for (std::uint64_t abs : s.visible) {
      const LogRow& r = m.log()[static_cast<std::size_t>(abs - dropped)];
      all += clock_time(r.ts) + " " + r.text + "\n";
    }
    ImGui::SetClipboardText(all.c_str());
  }
  if (s.auto_scroll && ImGui::GetScrollY() >= ImGui::GetScrollMaxY()) ImGui::SetScrollHereY(1.0f);
  ImGui::EndChild();

  nlohmann::json last = nlohmann::json::array();
  const std::size_t n = m.log().size();
  for (std::size_t i = n > 15 ? n - 15 : 0; i < n; ++i) last.push_back(m.log()[i].text);
  ctx.probe->fact("log_lines", last);
}

}  // namespace

void DrawServerPanel(ServerPanelState& s, const UiModel& model, UiContext& ctx, ImVec2 pos,
                     ImVec2 size) {
  const ServerModel& m = model.server;
  BeginPanel("Server", pos, size);
  DrawStatus(s, m, ctx);
  DrawStopDialog(s, ctx);
  ImGui::Separator();
  ImGui::TextUnformatted("Connections");
  DrawPeers(m, ctx, std::max(ImGui::GetContentRegionAvail().y * 0.35f, 80.0f));
  ImGui::Separator();
  ImGui::TextUnformatted("Event log");
  DrawLog(s, m, ctx);
  ImGui::End();
}

}  // namespace lanchat::ui
