// When the server's write passes run: at once unless the last pass was large and recent;
// then after half the gap if enough lines wait, else when the gap is up.
// Pure arithmetic on given instants (no clock read).
#include "net/write_pacer.hpp"

#include <gtest/gtest.h>

namespace {

using lanchat::net::WritePacer;
using namespace std::chrono_literals;
constexpr WritePacer::Clock::duration kNow{};

TEST(WritePacer, OnlyALargeRecentPassMakesTheNextWait) {
  WritePacer p(10ms, 100, 8);
  const WritePacer::Clock::time_point t0{10s};
  EXPECT_EQ(p.wait(t0, 1), kNow) << "nothing written yet";

  EXPECT_FALSE(p.large(99));
  p.passed(t0, 99);  // a smaller room: never waits
  EXPECT_FALSE(p.may_wait());
  EXPECT_EQ(p.wait(t0 + 1ms, 1), kNow);

  EXPECT_TRUE(p.large(100));
  p.passed(t0, 100);  // a large pass: the next waits at least half the gap
  EXPECT_TRUE(p.may_wait());
  EXPECT_EQ(p.wait(t0 + 1ms, 1), 4ms);
  EXPECT_EQ(p.wait(t0 + 1ms, 1000), 4ms) << "even with many lines waiting";
  EXPECT_EQ(p.wait(t0 + 2s, 1), kNow) << "a quiet large room writes at once";

  // A large pass that itself took longer than the gap (a saturated loop): no wait after it.
  p.passed(t0, 10'000);
  EXPECT_EQ(p.wait(t0 + 30ms, 1), kNow);
}

TEST(WritePacer, AfterHalfTheGapEnoughLinesGoAtOnceAndFewWaitForTheRest) {
  WritePacer p(10ms, 100, 8);
  const WritePacer::Clock::time_point t0{10s};
  p.passed(t0, 300);
  // A room of people typing: a few lines by half the gap wait for the whole gap.
  EXPECT_FALSE(p.enough(3));
  EXPECT_EQ(p.wait(t0 + 5ms, 3), 5ms);
  EXPECT_EQ(p.wait(t0 + 8ms, 7), 2ms);
  EXPECT_EQ(p.wait(t0 + 10ms, 3), kNow);
  // A flood: enough lines by half the gap (or any time after) go at once.
  EXPECT_TRUE(p.enough(8));
  EXPECT_EQ(p.wait(t0 + 5ms, 8), kNow);
  EXPECT_EQ(p.wait(t0 + 7ms, 40), kNow);
}

TEST(WritePacer, AZeroGapNeverWaits) {
  WritePacer p(0ms, 100);
  const WritePacer::Clock::time_point t0{10s};
  EXPECT_FALSE(p.large(10'000));
  p.passed(t0, 10'000);
  EXPECT_FALSE(p.may_wait());
  EXPECT_EQ(p.wait(t0, 1), kNow);
}

}  // namespace
