#include "app/kept_frame.hpp"

// glad's header replaces the system GL header, so GLFW must not pull that one in.
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_opengl3.h>
#include <glad/gl.h>

#include <algorithm>
#include <cstring>

namespace lanchat::app {

void KeptFrame::start() {
  const auto* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  const bool software = renderer != nullptr && (std::strstr(renderer, "llvmpipe") != nullptr ||
                                                std::strstr(renderer, "softpipe") != nullptr);
  keep_ = software && copier_.find();
}

// One pass of ImGui's backend limited to `r`: every command's scissor (computed the way the
// backend computes it) is narrowed to r, or dropped when it misses r. A narrowed clip
// rectangle is offset by fractions of a pixel so the backend's truncation to whole pixels
// lands exactly on r's edges.
void KeptFrame::draw_within(ImDrawData& frame, const PixelRect& r, int fb_height) {
  const ImVec2 off = frame.DisplayPos;
  const ImVec2 scale = frame.FramebufferScale;
  clips_.resize(0);
  for (int l = 0; l < frame.CmdListsCount; ++l) {
    for (ImDrawCmd& c : frame.CmdLists[l]->CmdBuffer) {
      clips_.push_back(c.ClipRect);
      if (c.UserCallback != nullptr) continue;
      const ImVec2 lo((c.ClipRect.x - off.x) * scale.x, (c.ClipRect.y - off.y) * scale.y);
      const ImVec2 hi((c.ClipRect.z - off.x) * scale.x, (c.ClipRect.w - off.y) * scale.y);
      if (hi.x <= lo.x || hi.y <= lo.y) continue;
      const int sx = static_cast<int>(lo.x);
      const int sw = static_cast<int>(hi.x - lo.x);
      const int gy = static_cast<int>(static_cast<float>(fb_height) - hi.y);
      const int sh = static_cast<int>(hi.y - lo.y);
      const PixelRect own{sx, fb_height - gy - sh, sx + sw, fb_height - gy};
      const PixelRect n{std::max(own.x0, r.x0), std::max(own.y0, r.y0), std::min(own.x1, r.x1),
                        std::min(own.y1, r.y1)};
      if (n == own) continue;
      if (n.empty()) {
        c.ClipRect = ImVec4(off.x, off.y, off.x, off.y);
        continue;
      }
      c.ClipRect = ImVec4((static_cast<float>(n.x0) + 0.25f) / scale.x + off.x,
                          (static_cast<float>(n.y0) - 0.25f) / scale.y + off.y,
                          (static_cast<float>(n.x1) + 0.375f) / scale.x + off.x,
                          (static_cast<float>(n.y1) - 0.125f) / scale.y + off.y);
    }
  }
  ImGui_ImplOpenGL3_RenderDrawData(&frame);
  int i = 0;
  for (int l = 0; l < frame.CmdListsCount; ++l) {
    for (ImDrawCmd& c : frame.CmdLists[l]->CmdBuffer) c.ClipRect = clips_[i++];
  }
}

void KeptFrame::draw_whole(ImDrawData& frame, const ImVec4& clear) const {
  glViewport(0, 0, width_, height_);
  glClearColor(clear.x, clear.y, clear.z, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(&frame);
}

void KeptFrame::render(ImDrawData& frame, const ImVec4& clear) {
  width_ = static_cast<int>(frame.DisplaySize.x * frame.FramebufferScale.x);
  height_ = static_cast<int>(frame.DisplaySize.y * frame.FramebufferScale.y);
  drawn_.clear();
  if (width_ <= 0 || height_ <= 0) return;
  if (!keep_) {
    draw_whole(frame, clear);
    return;
  }
  glViewport(0, 0, width_, height_);
  glClearColor(clear.x, clear.y, clear.z, 1.0f);
  if (clear.x != clear_.x || clear.y != clear_.y || clear.z != clear_.z) {
    damage_.invalidate();
    clear_ = clear;
  }
  drawn_ = damage_.update(frame);
  for (const PixelRect& r : drawn_) {
    glEnable(GL_SCISSOR_TEST);
    glScissor(r.x0, height_ - r.y1, r.x1 - r.x0, r.y1 - r.y0);
    glClear(GL_COLOR_BUFFER_BIT);
    glDisable(GL_SCISSOR_TEST);
    draw_within(frame, r, height_);
  }
}

std::int64_t KeptFrame::wrong_pixels(ImDrawData& frame, const ImVec4& clear) {
  if (!keep_ || width_ <= 0 || height_ <= 0) return 0;
  const auto size = static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_) * 4;
  std::vector<unsigned char> kept(size);
  std::vector<unsigned char> whole(size);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE, kept.data());

  GLuint texture = 0;
  GLuint framebuffer = 0;
  glGenTextures(1, &texture);
  glBindTexture(GL_TEXTURE_2D, texture);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width_, height_, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
  glGenFramebuffers(1, &framebuffer);
  glBindFramebuffer(GL_FRAMEBUFFER, framebuffer);
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture, 0);
  draw_whole(frame, clear);
  glReadPixels(0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE, whole.data());
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glDeleteFramebuffers(1, &framebuffer);
  glDeleteTextures(1, &texture);

  // Colour only (the window may have no alpha), and off by more than 2 of 255: llvmpipe is
  // not bit-exact between draws (a scissored triangle or another raster path rounds an
  // anti-aliased edge one step differently), while a pixel left from an older frame is off
  // by far more than that.
  auto off = [](unsigned char a, unsigned char b) { return (a > b ? a - b : b - a) > 2; };
  std::int64_t wrong = 0;
  for (std::size_t i = 0; i < size; i += 4) {
    wrong +=
        off(kept[i], whole[i]) || off(kept[i + 1], whole[i + 1]) || off(kept[i + 2], whole[i + 2]);
  }
  return wrong;
}

void KeptFrame::present(GLFWwindow* window) {
  if (!keep_) {
    glfwSwapBuffers(window);
    return;
  }
  if (exposed_) {
    exposed_ = false;
    drawn_.assign(1, PixelRect{0, 0, width_, height_});
  }
  for (const PixelRect& r : drawn_) copier_.copy(r.x0, height_ - r.y1, r.x1 - r.x0, r.y1 - r.y0);
}

}  // namespace lanchat::app
