#include "app/window_icon.hpp"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <stb/stb_image.h>

#include <vector>

#include "assets/window_icons.hpp"

namespace lanchat::app {

void set_window_icon(GLFWwindow* window) {
  std::vector<GLFWimage> images;
  for (const auto& png : assets::window_icons()) {
    int width = 0, height = 0, channels = 0;
    unsigned char* pixels =
        stbi_load_from_memory(png.data, static_cast<int>(png.size), &width, &height, &channels, 4);
    if (pixels != nullptr) images.push_back(GLFWimage{width, height, pixels});
  }
  if (!images.empty()) glfwSetWindowIcon(window, static_cast<int>(images.size()), images.data());
  for (auto& image : images) stbi_image_free(image.pixels);
}

}  // namespace lanchat::app
