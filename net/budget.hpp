#pragma once
// A token bucket: `rate` tokens per second, at most `burst` saved up. A rate or burst of
// 0 turns it off (everything passes).
#include <algorithm>
#include <chrono>

namespace lanchat::net {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket() = default;
  TokenBucket(double rate, double burst, Clock::time_point now)
      : rate_(rate), burst_(burst), tokens_(burst), refilled_(now) {}

  bool enabled() const { return rate_ > 0 && burst_ > 0; }

  // Whether `cost` tokens are there, without taking them.
  bool ready(double cost, Clock::time_point now) {
    if (!enabled()) return true;
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    return std::min(burst_, tokens_ + elapsed * rate_) >= std::min(cost, burst_);
  }

  // Takes `cost` tokens if there are that many; a cost above the burst needs a full bucket.
  bool take(double cost, Clock::time_point now) {
    if (!enabled()) return true;
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    refilled_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    cost = std::min(cost, burst_);
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }

 private:
  double rate_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  Clock::time_point refilled_{};
};

}  // namespace lanchat::net
