#include "ui/settings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "net/paths.hpp"

namespace lanchat::ui {

std::filesystem::path config_dir() {
  return net::default_config_dir();
}

Settings load_settings(const std::filesystem::path& file) {
  Settings s;
  std::ifstream in(file);
  if (!in) return s;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) return s;
  auto get = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  get("host_bind", s.host_bind);
  get("host_port", s.host_port);
  get("host_room", s.host_room);
  get("host_nick", s.host_nick);
  get("host_tls", s.host_tls);
  get("join_host", s.join_host);
  get("join_port", s.join_port);
  get("join_nick", s.join_nick);
  if (auto it = j.find("notifications"); it != j.end() && it->is_boolean()) {
    s.notifications = it->get<bool>();
  }
  if (auto it = j.find("text_scale"); it != j.end() && it->is_number()) {
    const float v = it->get<float>();
    if (v >= kMinTextScale && v <= kMaxTextScale) s.text_scale = v;
  }
  if (auto it = j.find("last_tab"); it != j.end() && it->is_number_integer()) {
    s.last_tab = it->get<int>() == 1 ? 1 : 0;
  }
  return s;
}

float zoomed_text_scale(float current, int steps) {
  if (steps == 0) return 1.0f;
  // Whole tenths, so that steps up and back down land exactly where they started.
  const float tenths = std::round(current * 10.0f) + static_cast<float>(steps);
  return std::clamp(tenths / 10.0f, kMinTextScale, kMaxTextScale);
}

bool save_settings(const std::filesystem::path& file, const Settings& s) {
  const nlohmann::json j{
      {"host_bind", s.host_bind},         {"host_port", s.host_port},  {"host_room", s.host_room},
      {"host_nick", s.host_nick},         {"host_tls", s.host_tls},    {"join_host", s.join_host},
      {"join_port", s.join_port},         {"join_nick", s.join_nick},  {"last_tab", s.last_tab},
      {"notifications", s.notifications}, {"text_scale", s.text_scale}};
  try {
    net::replace_private_file(
        file, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + '\n');
  } catch (const std::runtime_error&) {
    return false;
  }
  return true;
}

}  // namespace lanchat::ui
