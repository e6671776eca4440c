#include "ui/server_window.hpp"

#include <imgui_stdlib.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "net/fingerprint.hpp"

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

// What the port offers, and the host identity people compare with what their lanchat
// shows when it asks them to trust it.
void DrawEncryption(const ServerModel& m, UiContext& ctx) {
  if (m.tls() == net::TlsMode::off) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::warn);
    ImGui::TextWrapped("Encryption off: anyone on the network can read this room");
    ImGui::PopStyleColor();
    ctx.probe->fact("server.encryption", "off");
    return;
  }
  const std::string grouped = net::grouped_fingerprint(m.fingerprint());
  ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
  ImGui::TextUnformatted(m.tls() == net::TlsMode::required ? "Encryption required · identity"
                                                           : "Encryption on · identity");
  ImGui::SameLine();
  ImGui::PopStyleColor();
  ImGui::TextWrapped("%s", grouped.c_str());
  if (ImGui::IsItemHovered()) {
    ImGui::SetTooltip(
        "SHA-256 of this host's certificate. People joining for the first time\n"
        "can compare it with what their lanchat shows.");
  }
  ctx.probe->item("server.fingerprint");
  ctx.probe->fact("server.encryption", net::to_string(m.tls()));
  ctx.probe->fact("server.fingerprint", grouped);
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

  if (running) DrawEncryption(m, ctx);
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

// The host's menu for one member: kick (with a reason), mute, ban for a while.
void DrawModerationMenu(ServerPanelState& s, const PeerRow& p, UiContext& ctx) {
  if (ImGui::MenuItem("Kick…")) {
    s.open_kick = true;
    s.kick_conn = p.conn;
    s.kick_nick = p.nick;
    s.kick_reason.clear();
  }
  ctx.probe->item("moderate.kick");
  if (ImGui::MenuItem(p.muted ? "Unmute" : "Mute")) {
    ctx.actions->push_back(
        Moderate{p.muted ? Moderate::Kind::unmute : Moderate::Kind::mute, p.conn, {}, {}});
  }
  ctx.probe->item(p.muted ? "moderate.unmute" : "moderate.mute");
  if (ImGui::BeginMenu("Ban")) {
    using namespace std::chrono;
    const std::pair<const char*, seconds> choices[] = {{"for 10 minutes", minutes(10)},
                                                       {"for 1 hour", hours(1)},
                                                       {"for 1 day", hours(24)},
                                                       {"until unbanned", seconds(0)}};
    for (const auto& [label, d] : choices) {
      if (ImGui::MenuItem(label))
        ctx.actions->push_back(Moderate{Moderate::Kind::ban, p.conn, {}, d});
      ctx.probe->item(std::string("moderate.ban.") + label);
    }
    ImGui::EndMenu();
  }
  ctx.probe->item("moderate.ban");
}

void DrawKickDialog(ServerPanelState& s, UiContext& ctx) {
  if (s.open_kick) {
    ImGui::OpenPopup("Remove from the room?");
    s.open_kick = false;
  }
  ImGui::SetNextWindowSize(ImVec2(420 * ctx.scale, 0));
  if (ImGui::BeginPopupModal("Remove from the room?", nullptr, ImGuiWindowFlags_NoResize)) {
    ImGui::TextWrapped("%s is disconnected and everyone is told, with your reason.",
                       s.kick_nick.c_str());
    ImGui::TextUnformatted("Reason (optional)");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    const bool enter =
        ImGui::InputText("##kick_reason", &s.kick_reason, ImGuiInputTextFlags_EnterReturnsTrue);
    ctx.probe->item("kick.reason");
    ctx.probe->fact("value.kick.reason", s.kick_reason);
    const bool confirm = ImGui::Button("Kick", ImVec2(120 * ctx.scale, 0));
    ctx.probe->item("kick.confirm");
    if (confirm || enter) {
      ctx.actions->push_back(Moderate{Moderate::Kind::kick, s.kick_conn, s.kick_reason, {}});
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel", ImVec2(100 * ctx.scale, 0)) ||
        ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

void DrawPeers(ServerPanelState& s, const ServerModel& m, UiContext& ctx, float height) {
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_Resizable |
                                ImGuiTableFlags_SizingStretchProp;
  const bool running = m.state() == ServerState::running;
  if (ImGui::BeginTable("##peers", 6, flags, ImVec2(0, height))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("Nick", ImGuiTableColumnFlags_None, 1.2f);
    ImGui::TableSetupColumn("Address", ImGuiTableColumnFlags_None, 1.4f);
    ImGui::TableSetupColumn("Link", ImGuiTableColumnFlags_None, 0.5f);
    ImGui::TableSetupColumn("Since", ImGuiTableColumnFlags_None, 0.8f);
    ImGui::TableSetupColumn("Msgs", ImGuiTableColumnFlags_None, 0.5f);
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_None, 0.3f);
    ImGui::TableHeadersRow();
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(m.peers().size()));
    while (clipper.Step()) {
      for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
        const PeerRow& p = m.peers()[static_cast<std::size_t>(i)];
        const bool can_moderate = running && !p.nick.empty() && !p.host;
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
          const char* note = p.host ? "(you)" : p.muted ? "(muted)" : nullptr;
          if (note != nullptr) {
            ImGui::SameLine();
            ImGui::PushStyleColor(ImGuiCol_Text, p.muted ? colour::warn : colour::dim);
            ImGui::TextUnformatted(note);
            ImGui::PopStyleColor();
          }
        }
        // Right-click anywhere on the row for the host's menu, as with the … button.
        if (can_moderate && ImGui::BeginPopupContextItem("##row_menu")) {
          DrawModerationMenu(s, p, ctx);
          ImGui::EndPopup();
        }
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(p.address.c_str());
        ImGui::TableNextColumn();
        if (p.tls.empty()) {
          ImGui::PushStyleColor(ImGuiCol_Text, colour::warn);
          ImGui::TextUnformatted("plain");
          ImGui::PopStyleColor();
        } else {
          ImGui::TextUnformatted("TLS");
          if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", p.tls.c_str());
        }
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(clock_time(p.since).c_str());
        ImGui::TableNextColumn();
        ImGui::Text("%llu", static_cast<unsigned long long>(p.messages));
        ImGui::TableNextColumn();
        if (can_moderate) {
          if (ImGui::SmallButton("…")) ImGui::OpenPopup("##menu");
          if (ImGui::IsItemHovered()) ImGui::SetTooltip("Kick, mute or ban %s", p.nick.c_str());
          ctx.probe->item("peer.menu." + p.nick);
          if (ImGui::BeginPopup("##menu")) {
            DrawModerationMenu(s, p, ctx);
            ImGui::EndPopup();
          }
        }
        ImGui::PopID();
      }
    }
    ImGui::EndTable();
  }
  ctx.probe->fact("peer_count", m.peers().size());
  if (ctx.probe->enabled) {
    nlohmann::json muted = nlohmann::json::array();
    for (const auto& p : m.peers()) {
      if (p.muted) muted.push_back(p.nick);
    }
    ctx.probe->fact("muted", muted);
  }
}

std::string until_text(std::int64_t until) {
  if (until == 0) return "until unbanned";
  const std::int64_t left = until - net::now_ms();
  if (left <= 0) return "ending";
  return "for " + format_duration(left) + " more";
}

void DrawBans(const ServerModel& m, UiContext& ctx) {
  const std::string title = "Bans (" + std::to_string(m.bans().size()) + ")###bans";
  if (!ImGui::CollapsingHeader(title.c_str(), ImGuiTreeNodeFlags_None)) {
    ctx.probe->fact("bans", m.bans().size());
    return;
  }
  if (m.bans().empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextUnformatted("Nobody is banned. Ban from a member's … menu.");
    ImGui::PopStyleColor();
  }
  for (const auto& b : m.bans()) {
    ImGui::PushID(b.address.c_str());
    ImGui::Text("%s (%s) %s", b.address.c_str(), b.nick.c_str(), until_text(b.until).c_str());
    if (!b.reason.empty()) {
      ImGui::SameLine();
      ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
      ImGui::Text("— %s", b.reason.c_str());
      ImGui::PopStyleColor();
    }
    ImGui::SameLine();
    if (ImGui::SmallButton("Unban")) ctx.actions->push_back(Unban{b.address});
    ctx.probe->item("unban." + b.address);
    ImGui::PopID();
  }
  ctx.probe->fact("bans", m.bans().size());
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
  DrawPeers(s, m, ctx, std::max(ImGui::GetContentRegionAvail().y * 0.35f, 80.0f));
  DrawKickDialog(s, ctx);
  DrawBans(m, ctx);
  ImGui::Separator();
  ImGui::TextUnformatted("Event log");
  DrawLog(s, m, ctx);
  ImGui::End();
}

}  // namespace lanchat::ui
