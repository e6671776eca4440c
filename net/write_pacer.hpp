#pragma once
// When the server's next write pass may run. A pass starts one write on every connection
// with output queued; each costs a system call, and on a LAN a packet and a wake-up at the
// receiver. When many people talk in a large room, lines arrive a few milliseconds apart
// and each would cost every member its own write. Passes that write to many connections
// are therefore spaced: lines arriving in between wait and leave together in one gathered
// write per member. The next pass waits at least half the gap; from then on it runs as
// soon as enough lines are waiting to fill a write, and at the latest when the gap is up.
// A flood (senders with many lines in flight) thus runs every half gap, as fast as before,
// while a room of people typing, a few lines per half gap, gathers a whole gap's worth.
// A quiet room, or a small one, never waits: a pass runs at once unless the previous one
// was large and recent. When the loop is saturated a large pass takes longer than the gap
// itself, so nothing waits then either.
#include <chrono>
#include <cstddef>

namespace lanchat::net {

class WritePacer {
 public:
  using Clock = std::chrono::steady_clock;

  // gap <= 0 turns pacing off.
  WritePacer(Clock::duration gap, std::size_t large_pass, std::size_t enough_lines = 8)
      : gap_(gap), large_pass_(large_pass), enough_lines_(enough_lines) {}

  // Whether a pass with output for this many connections makes the next one wait. Callers
  // read the clock only for those (and only after one), so a small room's passes never do.
  bool large(std::size_t connections) const {
    return gap_ > Clock::duration::zero() && connections >= large_pass_;
  }
  bool may_wait() const { return large(last_written_); }
  // Whether this many lines waiting are worth a pass once half the gap is up.
  bool enough(std::size_t lines_waiting) const { return lines_waiting >= enough_lines_; }
  std::size_t enough_lines() const { return enough_lines_; }
  // How long a pass wanted now, with this many lines waiting, should wait (zero: run it
  // now). Asked again when that wait is over, or when more lines arrive.
  Clock::duration wait(Clock::time_point now, std::size_t lines_waiting) const {
    if (!may_wait()) return {};
    const Clock::time_point soonest = last_start_ + gap_ / 2;
    if (soonest > now) return soonest - now;
    if (enough(lines_waiting)) return {};
    const Clock::time_point latest = last_start_ + gap_;
    return latest > now ? latest - now : Clock::duration::zero();
  }
  // A pass began at `start` with output for `written` connections.
  void passed(Clock::time_point start, std::size_t written) {
    last_start_ = start;
    last_written_ = written;
  }

 private:
  Clock::duration gap_;
  std::size_t large_pass_;
  std::size_t enough_lines_;
  Clock::time_point last_start_{};
  std::size_t last_written_ = 0;
};

}  // namespace lanchat::net
