#pragma once
// Test probe: records where named widgets are and a few facts of the model, so UI tests
// can click real widgets (no hard-coded coordinates) and check what the window shows.
// Disabled (and free) unless the app runs with --test-report.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lanchat::ui {

class Probe {
 public:
  bool enabled = false;

  // Records the last item's rectangle under `name`.
  void item(const std::string& name);
  void fact(const std::string& key, nlohmann::json value);
  // Ends a frame: returns the JSON if anything changed since the last call.
  std::optional<std::string> end_frame();

 private:
  nlohmann::json frame_ = nlohmann::json::object();
  std::string last_;
};

}  // namespace lanchat::ui
