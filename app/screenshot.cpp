#include "app/screenshot.hpp"

#include <glad/gl.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace lanchat::app {

bool write_screenshot(const std::string& path, int width, int height) {
  if (width <= 0 || height <= 0) return false;
  const auto w = static_cast<std::size_t>(width);
  const auto h = static_cast<std::size_t>(height);
  std::vector<unsigned char> pixels(w * h * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  // OpenGL's rows start at the bottom; PNG's at the top.
  std::vector<unsigned char> flipped(pixels.size());
  for (std::size_t y = 0; y < h; ++y) {
    std::copy_n(&pixels[(h - 1 - y) * w * 3], w * 3, &flipped[y * w * 3]);
  }
  const std::string tmp = path + ".tmp.png";
  if (stbi_write_png(tmp.c_str(), width, height, 3, flipped.data(), width * 3) == 0) return false;
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // readers never see half a file
  return !ec;
}

}  // namespace lanchat::app
