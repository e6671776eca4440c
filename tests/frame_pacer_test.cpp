// When the window draws: at once for input, at the event pace for network events, once a
// second when nothing happens. Pure timing arithmetic on given instants (no clock read).
#include "app/frame_pacer.hpp"

#include <gtest/gtest.h>

namespace {

using lanchat::app::FramePacer;
using namespace std::chrono_literals;

TEST(FramePacer, InputDrawsAtOnceNetworkEventsAtTheirPaceAndIdleOnceASecond) {
  FramePacer p;
  const FramePacer::Clock::time_point t0{10s};
  EXPECT_EQ(p.wait(t0, false, false), FramePacer::Clock::duration::zero()) << "the first frame";
  EXPECT_TRUE(p.take_input());
  p.frame_started(t0);

  // Network events only: not before the event gap since the last frame.
  EXPECT_EQ(p.wait(t0 + 5ms, false, true), FramePacer::kEventFrameGap - 5ms);
  EXPECT_EQ(p.wait(t0 + FramePacer::kEventFrameGap, false, true),
            FramePacer::Clock::duration::zero());
  // Nothing at all: the next frame a second after the last.
  EXPECT_EQ(p.wait(t0 + 5ms, false, false), FramePacer::kIdleFrameGap - 5ms);
  // Input (or frames that must follow without delay) ends any wait.
  p.note_input();
  EXPECT_EQ(p.wait(t0 + 5ms, false, true), FramePacer::Clock::duration::zero());
  EXPECT_TRUE(p.take_input());
  EXPECT_FALSE(p.take_input());
  EXPECT_EQ(p.wait(t0 + 5ms, true, false), FramePacer::Clock::duration::zero());
  static_assert(FramePacer::kEventFrameGap >= 16ms && FramePacer::kEventFrameGap <= 34ms,
                "between 30 and 60 frames a second while events stream");
}

}  // namespace
