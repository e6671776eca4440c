#pragma once
// Fonts, colours and small formatting helpers shared by the windows.
#include <imgui.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ui/time_text.hpp"

namespace lanchat::ui {

struct Fonts {
  ImFont* regular = nullptr;
  bool dejavu = false;  // false: ImGui's built-in font (no accents beyond ASCII)
  std::string note;     // what happened while loading, for the log
};

// Loads DejaVuSans (Latin, Greek, Cyrillic, punctuation, currency, arrows) at `scale`;
// falls back to ImGui's font with a note if the file is missing.
Fonts load_fonts(float scale);
void apply_theme(float scale);

// Begins one of the window's fixed panels (chat, server): placed by the frame layout, not
// movable, resizable or remembered in imgui.ini. Pair with ImGui::End(). Panels draw no
// background: the frame is cleared to backdrop_colour() instead, which spares a software
// renderer (Mesa's llvmpipe, on machines without a GPU) a window-sized fill every frame.
void BeginPanel(const char* title, ImVec2 pos, ImVec2 size);
// The theme's window background as an opaque colour: what the frame is cleared to.
ImVec4 backdrop_colour();

// A stable, readable colour per nick (same nick, same colour, on every machine).
ImVec4 nick_colour(std::string_view nick);

namespace colour {
inline const ImVec4 dim{0.55f, 0.57f, 0.62f, 1.0f};
inline const ImVec4 error{0.95f, 0.42f, 0.40f, 1.0f};
inline const ImVec4 warn{0.95f, 0.78f, 0.35f, 1.0f};
inline const ImVec4 ok{0.45f, 0.85f, 0.50f, 1.0f};
inline const ImVec4 join{0.45f, 0.75f, 0.55f, 1.0f};
inline const ImVec4 leave{0.75f, 0.60f, 0.45f, 1.0f};
inline const ImVec4 action{0.80f, 0.72f, 0.95f, 1.0f};
inline const ImVec4 mention_bg{0.95f, 0.78f, 0.35f, 0.16f};
inline const ImVec4 link{0.45f, 0.70f, 1.00f, 1.0f};
inline const ImVec4 unread_marker{0.95f, 0.45f, 0.42f, 1.0f};
}  // namespace colour

}  // namespace lanchat::ui
