#pragma once
// The window icon's sizes as PNG bytes, built into the executable from assets/lanchat.svg
// (the build renders and embeds them; see assets/CMakeLists.txt).
#include <cstddef>
#include <span>

namespace lanchat::assets {

struct EmbeddedPng {
  const unsigned char* data;
  std::size_t size;
};

// Smallest first.
std::span<const EmbeddedPng> window_icons();

}  // namespace lanchat::assets
