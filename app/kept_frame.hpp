#pragma once
// The window's image, kept between frames and redrawn only where FrameDamage says the frame
// changed. Only on a software renderer (Mesa's llvmpipe: a VM, an old laptop, a remote
// desktop), where every pixel drawn is CPU time the hosted server needs and a busy room
// would otherwise redraw every glyph of the window 40 times a second. There the back buffer
// is never swapped: the changed rectangles are drawn into it and copied to the window
// (GLX_MESA_copy_sub_buffer), so it always holds the whole current image. On a GPU, or
// without the extension, each frame is drawn whole and swapped, as ImGui's examples do.
#include <imgui.h>

#include <cstdint>
#include <vector>

#include "app/frame_damage.hpp"
#include "app/glx_sub_buffer.hpp"

struct GLFWwindow;

namespace lanchat::app {

class KeptFrame {
 public:
  // Once the window's context is current and GL is loaded: chooses how frames are drawn.
  void start();
  bool keeping() const { return keep_; }
  // Draws `frame` (ImGui's draw data after ImGui::Render) with ImGui's OpenGL 3 backend
  // onto `clear`: all of it, or only what changed.
  void render(ImDrawData& frame, const ImVec4& clear);
  // Shows what render() drew: the changed rectangles, or a swap.
  void present(GLFWwindow* window);
  // The font texture was rebuilt: its pixels changed under the same draw lists.
  void invalidate() { damage_.invalidate(); }
  // The window system lost what the window showed (an expose): show all of it again.
  void exposed() { exposed_ = true; }
  // For the tests: the pixels where the kept image differs from `frame` drawn whole
  // offscreen. Call after render() and before present(); 0 when not keeping.
  std::int64_t wrong_pixels(ImDrawData& frame, const ImVec4& clear);

 private:
  void draw_within(ImDrawData& frame, const PixelRect& r, int fb_height);
  void draw_whole(ImDrawData& frame, const ImVec4& clear) const;

  FrameDamage damage_;
  SubBufferCopy copier_;
  bool keep_ = false;
  bool exposed_ = true;
  int width_ = 0;
  int height_ = 0;
  ImVec4 clear_{-1, -1, -1, -1};
  std::vector<PixelRect> drawn_;  // this frame's rectangles, for present()
  ImVector<ImVec4> clips_;        // the commands' own clip rectangles while a pass narrows them
};

}  // namespace lanchat::app
