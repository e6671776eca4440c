#pragma once
// The launcher: Host or Join, with inline validation and the network's errors in place.
#include <string>

#include "ui/context.hpp"
#include "ui/settings.hpp"
#include "ui/ui_model.hpp"

namespace lanchat::ui {

struct LauncherState {
  int tab = 0;          // 0 Host, 1 Join
  int select_tab = -1;  // tab to switch to on the next frame (-1: none)
  std::string host_bind = "0.0.0.0";
  std::string host_port = "5555";
  std::string host_room = "lanchat";
  std::string host_nick;
  std::string host_password;
  net::TlsMode host_tls = net::TlsMode::on;
  std::string join_host = "127.0.0.1";
  std::string join_port = "5555";
  std::string join_nick;
  std::string join_password;
  bool tried_host = false;  // show "empty" errors only after a first attempt
  bool tried_join = false;
  bool focus_first = true;
  // Rooms found on the LAN (the Join tab's list).
  bool discovery = true;      // off with --no-discovery: the list is not shown
  std::string selected_room;  // its instance id
  std::string room_note;      // what the picked room still needs ("type the password")
  bool focus_password = false;

  void load(const Settings& s);
  void store(Settings& s) const;
};

void DrawLauncher(LauncherState& state, const UiModel& model, UiContext& ctx);
// "Trust the new identity" after a host showed another one (the chat view offers it too).
void TrustButton(const net::ClientIdentityMismatch& m, UiContext& ctx);

}  // namespace lanchat::ui
