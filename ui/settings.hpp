#pragma once
// The launcher's last used values, kept in $XDG_CONFIG_HOME/lanchat/settings.json
// (~/.config/lanchat/ by default) beside imgui.ini. Passwords are never stored.
#include <filesystem>
#include <string>

namespace lanchat::ui {

struct Settings {
  std::string host_bind = "0.0.0.0";
  std::string host_port = "5555";
  std::string host_room = "lanchat";
  std::string host_nick;
  std::string host_tls = "on";  // net::TlsMode by name: off, on, required
  std::string join_host = "127.0.0.1";
  std::string join_port = "5555";
  std::string join_nick;
  int last_tab = 0;           // 0 host, 1 join
  bool notifications = true;  // desktop notifications for mentions and direct messages
  float text_scale = 1.0f;    // Ctrl + wheel, Ctrl +/-: on top of the monitor's content scale
};

// The text size after `steps` zoom steps (+1 larger, -1 smaller; 0 back to 1): 10% a step,
// kept between kMinTextScale and kMaxTextScale.
inline constexpr float kMinTextScale = 0.6f;
inline constexpr float kMaxTextScale = 2.5f;
float zoomed_text_scale(float current, int steps);

std::filesystem::path config_dir();
// Missing or unreadable file: defaults (a broken file never stops the app from starting).
Settings load_settings(const std::filesystem::path& file);
// Returns false (and leaves the old file intact) if it cannot be written.
bool save_settings(const std::filesystem::path& file, const Settings& s);

}  // namespace lanchat::ui
