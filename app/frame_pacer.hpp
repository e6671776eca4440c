#pragma once
// When the window draws its next frame. Input draws at once, so typing and pointing feel
// immediate; network events alone draw at most about 30 frames a second, so a busy room
// cannot make the window take the CPU its own server (on the same machine, often on two
// cores) needs; with nothing happening, one frame a second keeps the clocks fresh.
#include <chrono>

namespace lanchat::app {

class FramePacer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kEventFrameGap = std::chrono::milliseconds(25);
  static constexpr Clock::duration kIdleFrameGap = std::chrono::seconds(1);

  // From the window's input callbacks: keys, characters, buttons, wheel, pointer moves,
  // focus, resizes and exposes.
  void note_input() { input_ = true; }
  // `urgent`: frames that must follow without waiting (ImGui settling after input, a held
  // mouse button, a measured benchmark run). `events`: network events are waiting, or
  // frames are still needed to show what the last ones changed.
  Clock::duration wait(Clock::time_point now, bool urgent, bool events) const {
    if (input_ || urgent) return Clock::duration::zero();
    const Clock::time_point next = last_frame_ + (events ? kEventFrameGap : kIdleFrameGap);
    return next > now ? next - now : Clock::duration::zero();
  }
  // Input seen so far has been given its frame.
  bool take_input() {
    const bool seen = input_;
    input_ = false;
    return seen;
  }
  void frame_started(Clock::time_point now) { last_frame_ = now; }

 private:
  bool input_ = true;  // the first frame draws at once
  Clock::time_point last_frame_{};
};

}  // namespace lanchat::app
