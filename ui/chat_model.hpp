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

enum class LineKind : std::uint8_t { message, join, leave, info, error, marker };

struct ChatLine {
  LineKind kind = LineKind::info;
  std::int64_t ts = 0;  // ms since epoch
  std::string nick;     // sender / subject; empty for info lines
  std::string text;
  bool mine = false;     // sent by this window's user
  std::uint64_t id = 0;  // message id (messages only)
};

// A message the user sent that the room has not confirmed yet, or that failed.
struct PendingSay {
  std::uint64_t local_id = 0;
  std::string text;
  std::int64_t ts = 0;
  bool failed = false;
  std::string why;  // for a failed one: what the server or the client said
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
  // Memory bound on week-long sessions: the text kept (plus a per-line overhead). Oldest
  // lines go first; dropped_lines() says how many.
  static constexpr std::size_t kDefaultMaxBytes = 64u << 20;
  static constexpr std::size_t kLineOverhead = sizeof(ChatLine);

  explicit ChatModel(std::size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

  // Applies client-side events; others are ignored.
  void apply(const net::Event& e);
  void add_info(std::string text, LineKind kind = LineKind::info);
  void reset();

  // Older history: whether the room has messages older than the first one shown, and
  // whether a page of them is on its way. oldest_id(): the id to ask for older ones before.
  bool more_older() const { return more_older_; }
  bool loading_older() const { return loading_older_; }
  std::uint64_t oldest_id() const;
  void mark_loading_older() { loading_older_ = true; }

  // The user sends text: it shows as pending until the room confirms it. Returns the
  // local id to send it under.
  std::uint64_t queue_say(std::string text);
  void dismiss(std::uint64_t local_id);  // forget a failed message

  const std::deque<ChatLine>& lines() const { return lines_; }
  const std::deque<PendingSay>& pending() const { return pending_; }
  const std::vector<std::string>& users() const { return users_; }
  Connection connection() const { return connection_; }
  const std::string& status() const { return status_; }
  const std::string& room() const { return room_; }
  const std::string& nick() const { return nick_; }
  // The nick the server refused, while connection() is rejected: choose another.
  const std::string& refused_nick() const { return refused_nick_; }
  const std::string& refusal() const { return refusal_; }  // the server's words
  std::optional<std::chrono::microseconds> rtt() const { return rtt_; }
  // Bumped on every change, so a view can tell that something changed.
  std::uint64_t revision() const { return revision_; }
  // Lines have stable numbers: lines()[i] is line number first_line() + i. Dropping old
  // lines raises it; loading older history (prepending) lowers it.
  std::uint64_t first_line() const { return first_line_; }
  std::uint64_t end_line() const { return first_line_ + lines_.size(); }
  // Lines dropped from the front to keep memory bounded.
  std::uint64_t dropped() const { return dropped_; }
  std::size_t bytes() const { return bytes_; }
  // Changes on reset(), so views drop what they cached for the previous session.
  std::uint64_t generation() const { return generation_; }
  bool ended() const {
    return connection_ == Connection::shut_down || connection_ == Connection::lost ||
           connection_ == Connection::rejected;
  }

 private:
  void push(ChatLine line);
  void prepend(const std::vector<proto::ChatMsg>& older);
  void add_user(const std::string& nick);
  void remove_user(const std::string& nick);
  void settle(std::uint64_t local_id);
  void fail(std::uint64_t local_id, const std::string& text, const std::string& why);

  std::size_t max_bytes_;
  std::deque<ChatLine> lines_;
  std::deque<PendingSay> pending_;
  std::vector<std::string> users_;
  Connection connection_ = Connection::idle;
  std::string status_;
  std::string room_;
  std::string nick_;
  std::string refused_nick_;
  std::string refusal_;
  std::optional<std::chrono::microseconds> rtt_;
  std::uint64_t revision_ = 0;
  static constexpr std::uint64_t kFirstLine = std::uint64_t{1} << 40;
  std::uint64_t first_line_ = kFirstLine;
  std::uint64_t dropped_ = 0;
  std::uint64_t generation_ = 0;
  std::uint64_t next_local_id_ = 0;
  std::size_t bytes_ = 0;
  bool more_older_ = false;
  bool loading_older_ = false;
};

std::string describe_reason(const std::string& leave_reason);

// The chat as text ("[12:03:04] <bob> hi"), continuation lines of a message indented under
// its first so that no message can pass for a line of its own (the chat's Copy).
std::string chat_as_text(const ChatModel& model);

}  // namespace lanchat::ui
