#pragma once
// Which pixels of the window a frame changes. ImGui rebuilds every frame from scratch, but
// in a busy room most of the window (the server panel, the users list, the window chrome)
// draws the very triangles it drew the frame before while only the chat history scrolls.
// On a software renderer (Mesa's llvmpipe: a VM, an old laptop, a remote desktop) every
// triangle costs CPU the hosted server needs, so the window keeps its last image and
// redraws only the rectangles this finds.
//
// A pixel outside every rectangle is covered, in the same order, by the same triangles with
// the same vertices, texture and clip rectangle as in the last frame, so it would come out
// the same. Anything that could break that (a list added, removed or reordered, a different
// command structure, a new framebuffer size) makes the whole window damaged.
#include <imgui.h>

#include <cstdint>
#include <vector>

namespace lanchat::app {

// Framebuffer pixels, origin top-left, half-open: [x0, x1) x [y0, y1).
struct PixelRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool empty() const { return x1 <= x0 || y1 <= y0; }
  std::int64_t area() const { return empty() ? 0 : std::int64_t{x1 - x0} * std::int64_t{y1 - y0}; }
  bool operator==(const PixelRect&) const = default;
};

class FrameDamage {
 public:
  // The rectangles where `frame` differs from the last frame given here, in framebuffer
  // pixels; the whole framebuffer the first time, after invalidate(), and whenever the
  // comparison cannot be trusted. Empty when nothing changed.
  std::vector<PixelRect> update(const ImDrawData& frame);
  // Something the draw lists do not show changed (the font texture, the clear colour):
  // the next update damages everything.
  void invalidate() { valid_ = false; }

 private:
  struct ListCopy {
    std::vector<ImDrawCmd> cmds;
    std::vector<ImDrawIdx> idx;
    std::vector<ImDrawVert> vtx;
  };
  std::vector<ListCopy> last_;
  int width_ = 0;
  int height_ = 0;
  ImVec2 origin_{};
  ImVec2 scale_{1.0f, 1.0f};
  bool valid_ = false;
};

}  // namespace lanchat::app
