#pragma once
// What every window's Draw function gets besides its own state and the model.
#include "ui/actions.hpp"
#include "ui/probe.hpp"
#include "ui/style.hpp"

namespace lanchat::ui {

struct UiContext {
  const Fonts* fonts = nullptr;
  Probe* probe = nullptr;
  float scale = 1.0f;
  ActionList* actions = nullptr;
  std::string font_note;  // shown in the launcher footer when the fallback font is in use
};

}  // namespace lanchat::ui
