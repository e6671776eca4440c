#include "app/glx_sub_buffer.hpp"

#include <GL/glx.h>

#include <cstring>

namespace lanchat::app {
namespace {
using CopyFn = void (*)(Display*, GLXDrawable, int, int, int, int);
}

bool SubBufferCopy::find() {
  Display* display = glXGetCurrentDisplay();
  const GLXDrawable drawable = glXGetCurrentDrawable();
  if (display == nullptr || drawable == 0) return false;  // not GLX (Wayland, EGL)
  const char* extensions = glXQueryExtensionsString(display, DefaultScreen(display));
  if (extensions == nullptr || std::strstr(extensions, "GLX_MESA_copy_sub_buffer") == nullptr) {
    return false;
  }
  auto* fn = glXGetProcAddressARB(reinterpret_cast<const GLubyte*>("glXCopySubBufferMESA"));
  if (fn == nullptr) return false;
  display_ = display;
  drawable_ = drawable;
  copy_ = fn;
  return true;
}

void SubBufferCopy::copy(int x, int y, int width, int height) const {
  if (copy_ == nullptr || width <= 0 || height <= 0) return;
  reinterpret_cast<CopyFn>(copy_)(static_cast<Display*>(display_), drawable_, x, y, width, height);
}

}  // namespace lanchat::app
