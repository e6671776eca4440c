#include "app/frame_damage.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lanchat::app {
namespace {

// More rectangles than this, or more than this share of the window, and one full redraw is
// cheaper than many scissored passes (each pass walks every draw command again).
constexpr std::size_t kMaxRects = 6;
constexpr double kFullShare = 0.6;

// A box in ImGui's coordinates (before the framebuffer scale).
struct Box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool set = false;
  void add(const Box& b) {
    if (!b.set) return;
    if (!set) {
      *this = b;
      return;
    }
    x0 = std::min(x0, b.x0);
    y0 = std::min(y0, b.y0);
    x1 = std::max(x1, b.x1);
    y1 = std::max(y1, b.y1);
  }
  void add(ImVec2 p) { add(Box{p.x, p.y, p.x, p.y, true}); }
  Box clipped(const ImVec4& clip) const {
    Box b{std::max(x0, clip.x), std::max(y0, clip.y), std::min(x1, clip.z), std::min(y1, clip.w),
          set};
    b.set = set && b.x0 < b.x1 && b.y0 < b.y1;
    return b;
  }
};

Box clip_box(const ImVec4& clip) {
  return Box{clip.x, clip.y, clip.z, clip.w, true};
}

bool same_cmd(const ImDrawCmd& a, const ImDrawCmd& b) {
  return a.ClipRect.x == b.ClipRect.x && a.ClipRect.y == b.ClipRect.y &&
         a.ClipRect.z == b.ClipRect.z && a.ClipRect.w == b.ClipRect.w &&
         a.TextureId == b.TextureId && a.VtxOffset == b.VtxOffset && a.IdxOffset == b.IdxOffset &&
         a.ElemCount == b.ElemCount && a.UserCallback == b.UserCallback &&
         a.UserCallbackData == b.UserCallbackData;
}

bool same_vert(const ImDrawVert& a, const ImDrawVert& b) {
  return a.pos.x == b.pos.x && a.pos.y == b.pos.y && a.uv.x == b.uv.x && a.uv.y == b.uv.y &&
         a.col == b.col;
}

// Calls f(command, its three vertex indices) for each triangle of a list. False when an
// index points past the vertices: a malformed list, of which nothing can be trusted.
template <class F>
bool each_triangle(const ImDrawCmd* cmds, std::size_t ncmds, const ImDrawIdx* idx, std::size_t nidx,
                   std::size_t nvtx, F&& f) {
  for (std::size_t i = 0; i < ncmds; ++i) {
    const ImDrawCmd& c = cmds[i];
    if (c.UserCallback != nullptr) continue;
    const std::size_t end = std::min<std::size_t>(c.IdxOffset + c.ElemCount, nidx);
    for (std::size_t t = c.IdxOffset; t + 3 <= end; t += 3) {
      const std::size_t v[3] = {c.VtxOffset + idx[t], c.VtxOffset + idx[t + 1],
                                c.VtxOffset + idx[t + 2]};
      if (v[0] >= nvtx || v[1] >= nvtx || v[2] >= nvtx) return false;
      f(c, v);
    }
  }
  return true;
}

// All a list's commands may reach: their clip rectangles.
Box reach(const ImDrawCmd* cmds, std::size_t ncmds) {
  Box b;
  for (std::size_t i = 0; i < ncmds; ++i) b.add(clip_box(cmds[i].ClipRect));
  return b;
}

// Everything a list drew: each triangle's box within its command's clip rectangle.
Box drawn(const ImDrawCmd* cmds, std::size_t ncmds, const ImDrawIdx* idx, std::size_t nidx,
          const ImDrawVert* vtx, std::size_t nvtx) {
  Box out;
  const bool ok = each_triangle(cmds, ncmds, idx, nidx, nvtx,
                                [&](const ImDrawCmd& c, const std::size_t(&v)[3]) {
                                  Box tri;
                                  for (std::size_t k : v) tri.add(vtx[k].pos);
                                  out.add(tri.clipped(c.ClipRect));
                                });
  return ok ? out : reach(cmds, ncmds);
}

// Where `now` differs from what the list drew last frame: the triangles whose vertices
// moved or changed colour, old and new position both; everything the list drew in either
// frame when its commands or indices differ and triangles cannot be paired up.
Box changed(const ImDrawList& now, const std::vector<ImDrawCmd>& was_cmds,
            const std::vector<ImDrawIdx>& was_idx, const std::vector<ImDrawVert>& was_vtx) {
  const bool comparable =
      static_cast<std::size_t>(now.CmdBuffer.Size) == was_cmds.size() &&
      static_cast<std::size_t>(now.IdxBuffer.Size) == was_idx.size() &&
      static_cast<std::size_t>(now.VtxBuffer.Size) == was_vtx.size() &&
      std::equal(was_cmds.begin(), was_cmds.end(), now.CmdBuffer.begin(), same_cmd) &&
      (was_idx.empty() ||
       std::memcmp(was_idx.data(), now.IdxBuffer.Data, was_idx.size() * sizeof(ImDrawIdx)) == 0);
  if (!comparable) {
    Box b = drawn(was_cmds.data(), was_cmds.size(), was_idx.data(), was_idx.size(), was_vtx.data(),
                  was_vtx.size());
    b.add(drawn(now.CmdBuffer.Data, static_cast<std::size_t>(now.CmdBuffer.Size),
                now.IdxBuffer.Data, static_cast<std::size_t>(now.IdxBuffer.Size),
                now.VtxBuffer.Data, static_cast<std::size_t>(now.VtxBuffer.Size)));
    return b;
  }
  Box out;
  const ImDrawVert* fresh = now.VtxBuffer.Data;
  const bool ok = each_triangle(was_cmds.data(), was_cmds.size(), was_idx.data(), was_idx.size(),
                                was_vtx.size(), [&](const ImDrawCmd& c, const std::size_t(&v)[3]) {
                                  if (same_vert(was_vtx[v[0]], fresh[v[0]]) &&
                                      same_vert(was_vtx[v[1]], fresh[v[1]]) &&
                                      same_vert(was_vtx[v[2]], fresh[v[2]])) {
                                    return;
                                  }
                                  Box tri;
                                  for (std::size_t k : v) {
                                    tri.add(was_vtx[k].pos);
                                    tri.add(fresh[k].pos);
                                  }
                                  out.add(tri.clipped(c.ClipRect));
                                });
  return ok ? out : reach(was_cmds.data(), was_cmds.size());
}

}  // namespace

std::vector<PixelRect> FrameDamage::update(const ImDrawData& frame) {
  const int width = static_cast<int>(frame.DisplaySize.x * frame.FramebufferScale.x);
  const int height = static_cast<int>(frame.DisplaySize.y * frame.FramebufferScale.y);
  const PixelRect whole{0, 0, width, height};
  const bool same_frame = valid_ && width == width_ && height == height_ &&
                          frame.DisplayPos.x == origin_.x && frame.DisplayPos.y == origin_.y &&
                          frame.FramebufferScale.x == scale_.x &&
                          frame.FramebufferScale.y == scale_.y &&
                          static_cast<std::size_t>(frame.CmdListsCount) == last_.size();

  std::vector<PixelRect> rects;
  auto to_pixels = [&](const Box& b) {
    PixelRect r{
        static_cast<int>(std::floor((b.x0 - frame.DisplayPos.x) * frame.FramebufferScale.x)),
        static_cast<int>(std::floor((b.y0 - frame.DisplayPos.y) * frame.FramebufferScale.y)),
        static_cast<int>(std::ceil((b.x1 - frame.DisplayPos.x) * frame.FramebufferScale.x)),
        static_cast<int>(std::ceil((b.y1 - frame.DisplayPos.y) * frame.FramebufferScale.y))};
    r.x0 = std::clamp(r.x0, 0, width);
    r.y0 = std::clamp(r.y0, 0, height);
    r.x1 = std::clamp(r.x1, 0, width);
    r.y1 = std::clamp(r.y1, 0, height);
    return r;
  };

  if (!same_frame) {
    if (!whole.empty()) rects.push_back(whole);
  } else {
    for (int i = 0; i < frame.CmdListsCount; ++i) {
      const ListCopy& was = last_[static_cast<std::size_t>(i)];
      const Box b = changed(*frame.CmdLists[i], was.cmds, was.idx, was.vtx);
      if (!b.set) continue;
      if (const PixelRect r = to_pixels(b); !r.empty()) rects.push_back(r);
    }
    // Overlapping rectangles become their bounding box, so no pixel is drawn twice.
    for (bool merged = true; merged;) {
      merged = false;
      for (std::size_t a = 0; a < rects.size() && !merged; ++a) {
        for (std::size_t b = a + 1; b < rects.size() && !merged; ++b) {
          const PixelRect& p = rects[a];
          const PixelRect& q = rects[b];
          if (p.x0 < q.x1 && q.x0 < p.x1 && p.y0 < q.y1 && q.y0 < p.y1) {
            rects[a] = PixelRect{std::min(p.x0, q.x0), std::min(p.y0, q.y0), std::max(p.x1, q.x1),
                                 std::max(p.y1, q.y1)};
            rects.erase(rects.begin() + static_cast<std::ptrdiff_t>(b));
            merged = true;
          }
        }
      }
    }
    std::int64_t total = 0;
    for (const PixelRect& r : rects) total += r.area();
    if (rects.size() > kMaxRects ||
        static_cast<double>(total) > kFullShare * static_cast<double>(whole.area())) {
      rects.assign(1, whole);
    }
  }

  last_.resize(static_cast<std::size_t>(frame.CmdListsCount));
  for (int i = 0; i < frame.CmdListsCount; ++i) {
    const ImDrawList& l = *frame.CmdLists[i];
    ListCopy& c = last_[static_cast<std::size_t>(i)];
    c.cmds.assign(l.CmdBuffer.begin(), l.CmdBuffer.end());
    c.idx.assign(l.IdxBuffer.begin(), l.IdxBuffer.end());
    c.vtx.assign(l.VtxBuffer.begin(), l.VtxBuffer.end());
  }
  width_ = width;
  height_ = height;
  origin_ = frame.DisplayPos;
  scale_ = frame.FramebufferScale;
  valid_ = true;
  return rects;
}

}  // namespace lanchat::app
