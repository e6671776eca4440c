#pragma once
#include <string>

namespace lanchat::app {

// Writes the current back buffer (before the swap) as a PNG. Returns false on failure.
bool write_screenshot(const std::string& path, int width, int height);

}  // namespace lanchat::app
