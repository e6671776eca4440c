#pragma once
// The rooms the Join tab lists: what the LAN's discovery last reported, and how long the
// window has been looking (to explain an empty list rather than show nothing). Fed only by
// net events and by the app starting or stopping the search.
#include <cstdint>
#include <string>
#include <vector>

#include "net/events.hpp"

namespace lanchat::ui {

class RoomsModel {
 public:
  // Before this long with nothing found, an empty list is "still looking".
  static constexpr std::int64_t kPatienceMs = 3000;

  void begin(std::int64_t now_ms);        // the window started looking (again)
  void end();                             // it stopped (joined, hosting, another tab)
  void asked_again(std::int64_t now_ms);  // Refresh: patience starts over
  void apply(const net::Event& e);

  bool looking() const { return looking_; }
  std::int64_t since() const { return since_; }
  const std::vector<net::FoundRoom>& rooms() const { return rooms_; }
  const std::string& problem() const { return problem_; }
  std::size_t interfaces() const { return interfaces_; }
  // Looked long enough to say that nothing answered, and what that usually means.
  bool nothing_found(std::int64_t now_ms) const {
    return looking_ && rooms_.empty() && now_ms - since_ >= kPatienceMs;
  }
  const net::FoundRoom* find(const std::string& instance) const;

 private:
  bool looking_ = false;
  std::int64_t since_ = 0;
  std::vector<net::FoundRoom> rooms_;
  std::string problem_;
  std::size_t interfaces_ = 0;
};

// "just now", "4 s ago", "2 min ago".
std::string seen_text(std::int64_t seen_ms, std::int64_t now_ms);

}  // namespace lanchat::ui
