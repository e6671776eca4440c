// When the server's write passes run: at once unless the last pass was large and recent.
// Pure arithmetic on given instants (no clock read).
#include "net/write_pacer.hpp"

#include <gtest/gtest.h>

namespace {

using lanchat::net::WritePacer;
using namespace std::chrono_literals;
constexpr WritePacer::Clock::duration kNow{};

TEST(WritePacer, OnlyALargeRecentPassMakesTheNextWait) {
  WritePacer p(5ms, 100);
  const WritePacer::Clock::time_point t0{10s};
  EXPECT_EQ(p.wait(t0), kNow) << "nothing written yet";

  EXPECT_FALSE(p.large(99));
  p.passed(t0, 99);  // a smaller room: never waits
  EXPECT_FALSE(p.may_wait());
  EXPECT_EQ(p.wait(t0 + 1ms), kNow);

  EXPECT_TRUE(p.large(100));
  p.passed(t0, 100);  // a large pass: the next waits until 5 ms after it began
  EXPECT_TRUE(p.may_wait());
  EXPECT_EQ(p.wait(t0 + 1ms), 4ms);
  EXPECT_EQ(p.wait(t0 + 5ms), kNow);
  EXPECT_EQ(p.wait(t0 + 2s), kNow) << "a quiet large room writes at once";

  // A large pass that itself took longer than the gap (a saturated loop): no wait after it.
  p.passed(t0, 10'000);
  EXPECT_EQ(p.wait(t0 + 30ms), kNow);
}

TEST(WritePacer, AZeroGapNeverWaits) {
  WritePacer p(0ms, 100);
  const WritePacer::Clock::time_point t0{10s};
  EXPECT_FALSE(p.large(10'000));
  p.passed(t0, 10'000);
  EXPECT_FALSE(p.may_wait());
  EXPECT_EQ(p.wait(t0), kNow);
}

}  // namespace
