#include "ui/launcher_window.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include "net/address.hpp"
#include "net/fingerprint.hpp"
#include "net/protocol.hpp"

namespace lanchat::ui {

void LauncherState::load(const Settings& s) {
  host_bind = s.host_bind;
  host_port = s.host_port;
  host_room = s.host_room;
  host_nick = s.host_nick;
  host_tls = net::parse_tls_mode(s.host_tls).value_or(net::TlsMode::on);
  join_host = s.join_host;
  join_port = s.join_port;
  join_nick = s.join_nick;
  tab = s.last_tab;
  select_tab = s.last_tab;
}

void LauncherState::store(Settings& s) const {
  s.host_bind = host_bind;
  s.host_port = host_port;
  s.host_room = host_room;
  s.host_nick = host_nick;
  s.host_tls = net::to_string(host_tls);
  s.join_host = join_host;
  s.join_port = join_port;
  s.join_nick = join_nick;
  s.last_tab = tab;
}

namespace {

std::optional<std::string> port_error(const std::string& text, bool allow_zero) {
  auto p = net::parse_port(text, allow_zero);
  if (auto* e = std::get_if<std::string>(&p)) return *e;
  return std::nullopt;
}

std::optional<std::string> nick_error(const std::string& nick) {
  return proto::check_nick(nick);
}

std::optional<std::string> room_error(const std::string& room) {
  if (room.find_first_not_of(" \t") == std::string::npos) return "room name is empty";
  if (room.size() > 64) return "room name is longer than 64 bytes";
  return std::nullopt;
}

// A labelled input with its error underneath. Empty fields complain only after a try.
bool Field(const char* label, const char* id, std::string& value,
           const std::optional<std::string>& err, bool show_empty_error, UiContext& ctx,
           const std::string& probe_name, ImGuiInputTextFlags flags = 0) {
  ImGui::TextUnformatted(label);
  ImGui::SetNextItemWidth(-1);
  const bool entered = ImGui::InputText(id, &value, flags | ImGuiInputTextFlags_EnterReturnsTrue);
  ctx.probe->item(probe_name);
  if ((flags & ImGuiInputTextFlags_Password) == 0) ctx.probe->fact("value." + probe_name, value);
  if (err && (!value.empty() || show_empty_error)) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
    ImGui::TextWrapped("%s", err->c_str());
    ImGui::PopStyleColor();
    ctx.probe->fact("error." + probe_name, *err);
  }
  return entered;
}

void NetworkError(const UiModel& model, ErrorField field) {
  if (model.launcher_error().empty() || model.error_field() != field) return;
  ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
  ImGui::TextWrapped("%s", model.launcher_error().c_str());
  ImGui::PopStyleColor();
}

}  // namespace

void TrustButton(const net::ClientIdentityMismatch& m, UiContext& ctx) {
  // Never automatic, and worded for what it does: the person has checked with the host.
  const char* label = m.got.empty() ? "Join without encryption" : "Trust the new identity";
  if (ImGui::Button(label)) ctx.actions->push_back(TrustIdentity{m.host, m.port, m.got});
  ctx.probe->item("trust_identity");
  if (ImGui::IsItemHovered()) {
    ImGui::SetTooltip("%s", m.got.empty()
                                ? "Only if the host confirms it turned encryption off"
                                : "Only if the host confirms its identity changed: compare the "
                                  "fingerprint with the one in its server panel");
  }
}

namespace {

constexpr const char* kTlsChoices[] = {"Off: plain text only", "On: encrypted, plain allowed",
                                       "Required: encrypted only"};

void DrawHostTab(LauncherState& s, const UiModel& model, UiContext& ctx) {
  const auto bind_err = net::check_host(s.host_bind);
  const auto port_err = port_error(s.host_port, true);
  const auto room_err = room_error(s.host_room);
  const auto nick_err = nick_error(s.host_nick);
  bool go = false;
  if (s.focus_first) {
    ImGui::SetKeyboardFocusHere();
    s.focus_first = false;
  }
  go |= Field("Your nick", "##host_nick", s.host_nick, nick_err, s.tried_host, ctx, "host.nick");
  NetworkError(model, ErrorField::nick);
  go |= Field("Room name", "##host_room", s.host_room, room_err, s.tried_host, ctx, "host.room");
  ImGui::Columns(2, "##hostaddr", false);
  go |= Field("Listen on address", "##host_bind", s.host_bind, bind_err, s.tried_host, ctx,
              "host.bind");
  ImGui::NextColumn();
  go |= Field("Port", "##host_port", s.host_port, port_err, s.tried_host, ctx, "host.port",
              ImGuiInputTextFlags_CharsDecimal);
  ImGui::Columns(1);
  NetworkError(model, ErrorField::address);
  go |= Field("Room password (optional)", "##host_pw", s.host_password, std::nullopt, false, ctx,
              "host.password", ImGuiInputTextFlags_Password);
  // Encryption: what the port offers. The words say what each choice means for people.
  ImGui::TextUnformatted("Encryption");
  int tls = static_cast<int>(s.host_tls);
  ImGui::SetNextItemWidth(-1);
  if (ImGui::Combo("##host_tls", &tls, kTlsChoices, 3)) s.host_tls = static_cast<net::TlsMode>(tls);
  ctx.probe->item("host.tls");
  ctx.probe->fact("value.host.tls", net::to_string(s.host_tls));
  const bool has_password = !s.host_password.empty();
  std::optional<std::string> tls_err;
  if (has_password && s.host_tls == net::TlsMode::off) {
    tls_err = "A password sent in plain text is no password: choose On or Required";
  }
  if (tls_err) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::error);
    ImGui::TextWrapped("%s", tls_err->c_str());
    ImGui::PopStyleColor();
  } else if (has_password && s.host_tls == net::TlsMode::on) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextWrapped("With a password, only encrypted connections are let in.");
    ImGui::PopStyleColor();
  }
  ImGui::Spacing();
  ImGui::BeginDisabled(model.busy());
  go |= ImGui::Button(model.busy() ? "Starting…" : "Start hosting", ImVec2(-1, 0));
  ctx.probe->item("host.start");
  ImGui::EndDisabled();
  NetworkError(model, ErrorField::none);
  if (go && !model.busy()) {
    s.tried_host = true;
    if (!bind_err && !port_err && !room_err && !nick_err && !tls_err) {
      ctx.actions->push_back(
          HostRequest{s.host_bind, std::get<std::uint16_t>(net::parse_port(s.host_port, true)),
                      s.host_room, s.host_nick, s.host_password, s.host_tls});
    }
  }
}

// A padlock and a shield, drawn rather than taken from a font: DejaVu Sans has neither.
void LockIcon(ImDrawList* dl, ImVec2 p, float h, ImU32 col) {
  const float w = h * 0.62f;
  const ImVec2 body_min(p.x, p.y + h * 0.45f);
  const ImVec2 body_max(p.x + w, p.y + h);
  dl->AddRectFilled(body_min, body_max, col, h * 0.08f);
  const ImVec2 centre(p.x + w * 0.5f, p.y + h * 0.45f);
  dl->PathArcTo(centre, w * 0.32f, 3.14159f, 2.0f * 3.14159f, 10);
  dl->PathStroke(col, 0, std::max(1.0f, h * 0.12f));
}

void ShieldIcon(ImDrawList* dl, ImVec2 p, float h, ImU32 col) {
  const float w = h * 0.8f;
  const ImVec2 pts[] = {{p.x, p.y + h * 0.12f},     {p.x + w * 0.5f, p.y},
                        {p.x + w, p.y + h * 0.12f}, {p.x + w, p.y + h * 0.5f},
                        {p.x + w * 0.5f, p.y + h},  {p.x, p.y + h * 0.5f}};
  dl->AddConvexPolyFilled(pts, 6, col);
}

// Joins what the fields say; returns whether it went (fields valid, nothing missing).
void TryJoin(LauncherState& s, const RoomsModel& rooms, UiContext& ctx) {
  s.tried_join = true;
  s.room_note.clear();
  const auto host_err = net::check_host(s.join_host);
  const auto port_err = port_error(s.join_port, false);
  if (host_err || port_err || nick_error(s.join_nick)) return;
  const std::uint16_t port = std::get<std::uint16_t>(net::parse_port(s.join_port, false));
  if (const net::FoundRoom* r = rooms.find(s.selected_room);
      r != nullptr && r->password && s.join_password.empty() && r->address == s.join_host &&
      r->port == port) {
    s.room_note = "\"" + r->room + "\" needs a password: type it, then Join.";
    s.focus_password = true;
    return;
  }
  ctx.actions->push_back(JoinRequest{s.join_host, port, s.join_nick, s.join_password});
}

// The rooms discovery found: one row each, a click picks it, a double-click joins it.
void DrawRoomList(LauncherState& s, const UiModel& model, UiContext& ctx, bool& join_now) {
  const RoomsModel& rooms = model.rooms;
  const std::int64_t now = net::now_ms();
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Rooms on your network");
  ImGui::SameLine(ImGui::GetContentRegionAvail().x + ImGui::GetCursorPosX() -
                  ImGui::CalcTextSize("Refresh").x - ImGui::GetStyle().FramePadding.x * 2);
  if (ImGui::SmallButton("Refresh")) ctx.actions->push_back(RefreshRooms{});
  ctx.probe->item("rooms.refresh");
  const float row_h = ImGui::GetTextLineHeightWithSpacing();
  const float list_h = row_h * 5.5f + ImGui::GetStyle().CellPadding.y * 12;
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersOuter |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp;
  nlohmann::json listed = nlohmann::json::array();
  if (ImGui::BeginTable("##rooms", 5, flags, ImVec2(-1, list_h))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("Room", ImGuiTableColumnFlags_WidthStretch, 3.0f);
    ImGui::TableSetupColumn("Address", ImGuiTableColumnFlags_WidthStretch, 3.0f);
    ImGui::TableSetupColumn("People", ImGuiTableColumnFlags_WidthStretch, 1.2f);
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed, row_h * 1.6f);
    ImGui::TableSetupColumn("Seen", ImGuiTableColumnFlags_WidthStretch, 1.6f);
    ImGui::TableHeadersRow();
    const ImU32 icon_col = ImGui::GetColorU32(colour::warn);
    const ImU32 shield_col = ImGui::GetColorU32(colour::ok);
    for (const net::FoundRoom& r : rooms.rooms()) {
      ImGui::PushID(r.instance.c_str());
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const bool selected = s.selected_room == r.instance;
      if (ImGui::Selectable(
              r.room.c_str(), selected,
              ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowDoubleClick)) {
        s.selected_room = r.instance;
        s.join_host = r.address;
        s.join_port = std::to_string(r.port);
        s.room_note.clear();
        if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) join_now = true;
      }
      ctx.probe->item("rooms.row." + r.room);
      if (ImGui::IsItemHovered()) {
        std::string tip =
            r.room + "\n" + net::host_port_text(r.address, r.port) + "\n" +
            (r.password ? "Needs a password\n" : "No password\n") +
            (r.tls == net::TlsMode::off
                 ? std::string("Not encrypted")
                 : "Encrypted; host identity\n" + net::grouped_fingerprint(r.fingerprint)) +
            "\nlanchat " + r.version + "\nDouble-click to join";
        ImGui::SetTooltip("%s", tip.c_str());
      }
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(net::host_port_text(r.address, r.port).c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%u", r.users);
      ImGui::TableNextColumn();
      const ImVec2 p = ImGui::GetCursorScreenPos();
      const float h = ImGui::GetTextLineHeight() * 0.85f;
      ImDrawList* dl = ImGui::GetWindowDrawList();
      if (r.password) LockIcon(dl, ImVec2(p.x, p.y + h * 0.1f), h, icon_col);
      if (r.tls != net::TlsMode::off)
        ShieldIcon(dl, ImVec2(p.x + h * 0.9f, p.y + h * 0.1f), h, shield_col);
      ImGui::Dummy(ImVec2(h * 1.8f, h));
      ImGui::TableNextColumn();
      ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
      ImGui::TextUnformatted(seen_text(r.seen, now).c_str());
      ImGui::PopStyleColor();
      ImGui::PopID();
      listed.push_back({{"room", r.room},
                        {"address", r.address},
                        {"port", r.port},
                        {"users", r.users},
                        {"password", r.password},
                        {"tls", net::to_string(r.tls)}});
    }
    ImGui::EndTable();
  }
  ctx.probe->item("rooms.list");
  ctx.probe->fact("rooms", listed);
  const bool explain = rooms.nothing_found(now);
  ctx.probe->fact("rooms.nothing_found", explain);
  if (rooms.rooms().empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, explain ? colour::warn : colour::dim);
    if (!explain) {
      ImGui::TextWrapped("Looking for rooms…");
    } else {
      ImGui::TextWrapped(
          "No room answered. That usually means the host is on another subnet (announcements "
          "do not cross routers), a firewall blocks UDP port 5555, or the host started with "
          "--no-announce. Ask the host for its address and type it below.");
    }
    if (explain && !rooms.problem().empty()) ImGui::TextWrapped("(%s)", rooms.problem().c_str());
    ImGui::PopStyleColor();
  }
}

void DrawJoinTab(LauncherState& s, const UiModel& model, UiContext& ctx) {
  const auto host_err = net::check_host(s.join_host);
  const auto port_err = port_error(s.join_port, false);
  const auto nick_err = nick_error(s.join_nick);
  bool go = false;
  if (s.focus_first) {
    ImGui::SetKeyboardFocusHere();
    s.focus_first = false;
  }
  go |= Field("Your nick", "##join_nick", s.join_nick, nick_err, s.tried_join, ctx, "join.nick");
  NetworkError(model, ErrorField::nick);
  if (s.discovery) {
    ImGui::Spacing();
    DrawRoomList(s, model, ctx, go);
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
    ImGui::TextUnformatted("…or join by address");
    ImGui::PopStyleColor();
  }
  ImGui::Columns(2, "##joinaddr", false);
  go |=
      Field("Server address", "##join_host", s.join_host, host_err, s.tried_join, ctx, "join.host");
  ImGui::NextColumn();
  go |= Field("Port", "##join_port", s.join_port, port_err, s.tried_join, ctx, "join.port",
              ImGuiInputTextFlags_CharsDecimal);
  ImGui::Columns(1);
  NetworkError(model, ErrorField::address);
  if (!model.busy() && model.chat.mismatch()) TrustButton(*model.chat.mismatch(), ctx);
  if (s.focus_password) {
    ImGui::SetKeyboardFocusHere();  // the next focusable item: the input under its label
    s.focus_password = false;
  }
  go |= Field("Room password (if the room has one)", "##join_pw", s.join_password, std::nullopt,
              false, ctx, "join.password", ImGuiInputTextFlags_Password);
  NetworkError(model, ErrorField::password);
  if (!s.room_note.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour::warn);
    ImGui::TextWrapped("%s", s.room_note.c_str());
    ImGui::PopStyleColor();
    ctx.probe->fact("room_note", s.room_note);
  }
  ImGui::Spacing();
  ImGui::BeginDisabled(model.busy());
  go |= ImGui::Button(model.busy() ? "Connecting…" : "Join", ImVec2(-1, 0));
  ctx.probe->item("join.start");
  ImGui::EndDisabled();
  NetworkError(model, ErrorField::none);
  if (go && !model.busy()) TryJoin(s, model.rooms, ctx);
}

}  // namespace

void DrawLauncher(LauncherState& s, const UiModel& model, UiContext& ctx) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const float width = std::min(520.0f * ctx.scale, vp->WorkSize.x - 40.0f);
  ImGui::SetNextWindowPos(
      ImVec2(vp->WorkPos.x + vp->WorkSize.x * 0.5f, vp->WorkPos.y + vp->WorkSize.y * 0.5f),
      ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowSize(ImVec2(width, 0), ImGuiCond_Always);
  ImGui::Begin("lanchat", nullptr,
               ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoCollapse |
                   ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings);
  ImGui::TextUnformatted("Chat on your local network.");
  ImGui::PushStyleColor(ImGuiCol_Text, colour::dim);
  ImGui::TextWrapped("Host a room that others on the LAN can join, or join one that is running.");
  ImGui::PopStyleColor();
  ImGui::Spacing();
  if (ImGui::BeginTabBar("##mode")) {
    const auto flags_for = [&](int tab) {
      return s.select_tab == tab ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
    };
    const bool host_open = ImGui::BeginTabItem("Host", nullptr, flags_for(0));
    ctx.probe->item("tab.host");
    if (host_open) {
      if (s.tab != 0) s.focus_first = true;
      s.tab = 0;
      ImGui::Spacing();
      DrawHostTab(s, model, ctx);
      ImGui::EndTabItem();
    }
    const bool join_open = ImGui::BeginTabItem("Join", nullptr, flags_for(1));
    ctx.probe->item("tab.join");
    if (join_open) {
      if (s.tab != 1) s.focus_first = true;
      s.tab = 1;
      ImGui::Spacing();
      DrawJoinTab(s, model, ctx);
      ImGui::EndTabItem();
    }
    s.select_tab = -1;
    ImGui::EndTabBar();
  }
  if (!ctx.font_note.empty()) {
    ImGui::Separator();
    ImGui::PushStyleColor(ImGuiCol_Text, colour::warn);
    ImGui::TextWrapped("%s", ctx.font_note.c_str());
    ImGui::PopStyleColor();
  }
  ctx.probe->fact("launcher_error", model.launcher_error());
  ctx.probe->fact("busy", model.busy());
  ImGui::End();
}

}  // namespace lanchat::ui
