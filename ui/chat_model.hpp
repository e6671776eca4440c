#pragma once
// What the chat view shows, built only from net events (testable without a window).
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "net/events.hpp"

namespace lanchat::ui {

enum class LineKind : std::uint8_t { message, join, leave, info, error };

struct ChatLine {
  LineKind kind = LineKind::info;
  std::int64_t ts = 0;  // ms since epoch
  std::string nick;     // sender / subject; empty for info lines
  std::string text;
  bool mine = false;  // sent by this window's user
};

enum class Connection : std::uint8_t {
  idle,
  connecting,
  joined,
  reconnecting,
  shut_down,
  lost,
  rejected
};

class ChatModel {
 public:
  // Keeps memory bounded on week-long sessions; far above what a view needs.
  static constexpr std::size_t kMaxLines = 250'000;

  // Applies client-side events; others are ignored.
  void apply(const net::Event& e);
  void add_info(std::string text, LineKind kind = LineKind::info);
  void reset();

  const std::deque<ChatLine>& lines() const { return lines_; }
  const std::vector<std::string>& users() const { return users_; }
  Connection connection() const { return connection_; }
  const std::string& status() const { return status_; }
  const std::string& room() const { return room_; }
  const std::string& nick() const { return nick_; }
  std::optional<std::chrono::microseconds> rtt() const { return rtt_; }
  // Bumped on every change, so a view can tell that new lines arrived.
  std::uint64_t revision() const { return revision_; }
  // Lines dropped from the front so far: lines()[i] is line number dropped() + i.
  std::uint64_t dropped() const { return dropped_; }
  // Changes on reset(), so views drop what they cached for the previous session.
  std::uint64_t generation() const { return generation_; }
  bool ended() const {
    return connection_ == Connection::shut_down || connection_ == Connection::lost ||
           connection_ == Connection::rejected;
  }

 private:
  void push(ChatLine line);
  void add_user(const std::string& nick);
  void remove_user(const std::string& nick);

  std::deque<ChatLine> lines_;
  std::vector<std::string> users_;
  Connection connection_ = Connection::idle;
  std::string status_;
  std::string room_;
  std::string nick_;
  std::optional<std::chrono::microseconds> rtt_;
  std::uint64_t last_msg_id_ = 0;  // to skip history already shown after a reconnect
  std::uint64_t revision_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t generation_ = 0;
};

std::string describe_reason(const std::string& leave_reason);

}  // namespace lanchat::ui
