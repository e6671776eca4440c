#pragma once

struct GLFWwindow;

namespace lanchat::app {

// Gives the window lanchat's icon (taskbars and Alt+Tab show it) from the sizes built into
// the executable; a window without it keeps the desktop's default.
void set_window_icon(GLFWwindow* window);

}  // namespace lanchat::app
