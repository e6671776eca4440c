#pragma once
// GLX_MESA_copy_sub_buffer: copies a rectangle of the back buffer to the window without a
// swap, so the back buffer keeps the whole image. Mesa offers it on X11 (its software
// renderers included); elsewhere find() says no. Kept apart because <GL/glx.h> brings
// Xlib's macros (None, Bool, Status) that must not leak into the rest of the app.
namespace lanchat::app {

class SubBufferCopy {
 public:
  // For the context current on this thread; false without GLX or without the extension.
  bool find();
  // GL window coordinates: origin bottom-left.
  void copy(int x, int y, int width, int height) const;

 private:
  void* display_ = nullptr;
  unsigned long drawable_ = 0;
  void (*copy_)() = nullptr;  // glXCopySubBufferMESA, typed where Xlib's types are known
};

}  // namespace lanchat::app
