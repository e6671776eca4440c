#pragma once
// When the server's next write pass may run. A pass starts one write on every connection
// with output queued; each costs a system call, and on a LAN a packet and a wake-up at the
// receiver. When many people talk in a large room, lines arrive a few milliseconds apart
// and each would cost every member its own write. Passes that write to many connections
// are therefore spaced at least `gap` apart: lines arriving in between wait (at most `gap`)
// and leave together in one gathered write per member. A quiet room, or a small one, never
// waits: a pass runs at once unless the previous one was large and recent. When the loop is
// saturated a large pass takes longer than the gap itself, so nothing waits then either.
#include <chrono>
#include <cstddef>

namespace lanchat::net {

class WritePacer {
 public:
  using Clock = std::chrono::steady_clock;

  // gap <= 0 turns pacing off.
  WritePacer(Clock::duration gap, std::size_t large_pass) : gap_(gap), large_pass_(large_pass) {}

  // Whether a pass with output for this many connections makes the next one wait. Callers
  // read the clock only for those (and only after one), so a small room's passes never do.
  bool large(std::size_t connections) const {
    return gap_ > Clock::duration::zero() && connections >= large_pass_;
  }
  bool may_wait() const { return large(last_written_); }
  // How long a pass wanted now should wait (zero: run it now).
  Clock::duration wait(Clock::time_point now) const {
    if (!may_wait()) return {};
    const Clock::time_point due = last_start_ + gap_;
    return due > now ? due - now : Clock::duration::zero();
  }
  // A pass began at `start` with output for `written` connections.
  void passed(Clock::time_point start, std::size_t written) {
    last_start_ = start;
    last_written_ = written;
  }

 private:
  Clock::duration gap_;
  std::size_t large_pass_;
  Clock::time_point last_start_{};
  std::size_t last_written_ = 0;
};

}  // namespace lanchat::net
