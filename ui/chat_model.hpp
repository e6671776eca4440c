#pragma once
// What the chat view shows, built only from net events (testable without a window): the
// room's conversation and one per person exchanging direct messages with us, each with
// its lines, the messages still on their way, and what is unread.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "net/events.hpp"

namespace lanchat::ui {

enum class LineKind : std::uint8_t { message, join, leave, nick, notice, info, error, marker };

struct ChatLine {
  LineKind kind = LineKind::info;
  std::int64_t ts = 0;  // ms since epoch
  std::string nick;     // sender / subject; empty for info lines
  std::string text;
  bool mine = false;     // sent by this window's user
  std::uint64_t id = 0;  // message id (messages only)
  bool action = false;   // "* alice waves"
  bool mention = false;  // names this window's user
};

// A message the user sent that the room has not confirmed yet, or that failed.
struct PendingSay {
  std::uint64_t local_id = 0;
  std::string text;
  std::int64_t ts = 0;
  bool failed = false;
  std::string why;  // for a failed one: what the server or the client said
  bool action = false;
};

struct Conversation {
  static constexpr std::uint64_t kFirstLine = std::uint64_t{1} << 40;

  std::string peer;      // empty: the room; otherwise the other person's nick
  std::uint64_t id = 0;  // names this conversation for as long as it lives (views cache by it)
  // Lines have stable numbers: lines[i] is line number first_line + i. Dropping old lines
  // raises it; loading older history (prepending) lowers it.
  std::deque<ChatLine> lines;
  std::uint64_t first_line = kFirstLine;
  std::uint64_t dropped = 0;  // lines dropped from the front to bound memory
  std::size_t bytes = 0;
  std::deque<PendingSay> pending;
  std::uint64_t unread = 0;    // arrived while the user was not looking at it
  std::uint64_t mentions = 0;  // of those, the ones that name the user (every direct message)

  std::uint64_t end_line() const { return first_line + lines.size(); }
};

// A mention or a direct message that arrived while the window had no focus: the app asks
// for attention and shows a desktop notification.
struct Alert {
  bool direct = false;  // a direct message (else a mention in the room)
  std::string from;
  std::string text;
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
  // Memory bound on week-long sessions: the text kept (plus a per-line overhead), across
  // all conversations. Oldest lines go first; dropped() says how many.
  static constexpr std::size_t kDefaultMaxBytes = 64u << 20;
  static constexpr std::size_t kLineOverhead = sizeof(ChatLine);

  explicit ChatModel(std::size_t max_bytes = kDefaultMaxBytes);

  // Applies client-side events; others are ignored.
  void apply(const net::Event& e);
  void add_info(std::string text, LineKind kind = LineKind::info);
  void reset();

  // ---- conversations ----
  const Conversation& room_conversation() const { return room_; }
  const std::vector<Conversation>& direct() const { return dms_; }
  // The conversation with this peer ("" : the room), or nothing.
  const Conversation* conversation(std::string_view peer) const;
  // Opens (or finds) the conversation with peer, e.g. from a click in the users list.
  void open_direct(const std::string& peer);
  // What the user is looking at, and whether the window has the focus: unread counts of
  // that conversation go back to zero, and alerts are raised only without focus.
  void set_view(const std::string& peer, bool focused);
  std::uint64_t total_unread() const;
  std::uint64_t total_mentions() const;
  std::vector<Alert> take_alerts();

  // ---- the room (the shortcuts the views mostly use) ----
  const std::deque<ChatLine>& lines() const { return room_.lines; }
  const std::deque<PendingSay>& pending() const { return room_.pending; }
  std::uint64_t first_line() const { return room_.first_line; }
  std::uint64_t end_line() const { return room_.end_line(); }
  std::uint64_t dropped() const { return room_.dropped; }
  std::size_t bytes() const { return bytes_; }

  // Older history: whether the room has messages older than the first one shown, and
  // whether a page of them is on its way. oldest_id(): the id to ask for older ones before.
  bool more_older() const { return more_older_; }
  bool loading_older() const { return loading_older_; }
  std::uint64_t oldest_id() const;
  void mark_loading_older() { loading_older_ = true; }

  // The user sends text (to the room, or to `to`): it shows as pending until the room
  // confirms it. Returns the local id to send it under.
  std::uint64_t queue_say(std::string text, const std::string& to = {}, bool action = false);
  void dismiss(std::uint64_t local_id);  // forget a failed message
  const PendingSay* find_pending(std::uint64_t local_id, std::string* peer = nullptr) const;

  const std::vector<std::string>& users() const { return users_; }
  // How many are in the room: users().size(), or more while a large room's list is still
  // being fetched (its welcome lists only the first members).
  std::size_t members() const { return std::max(members_, users_.size()); }
  // Bumped whenever users() may have changed.
  std::uint64_t users_revision() const { return users_revision_; }
  Connection connection() const { return connection_; }
  const std::string& status() const { return status_; }
  const std::string& room() const { return room_name_; }
  const std::string& nick() const { return nick_; }
  // The nick the server refused, while connection() is rejected: choose another.
  const std::string& refused_nick() const { return refused_nick_; }
  const std::string& refusal() const { return refusal_; }  // the server's words
  std::optional<std::chrono::microseconds> rtt() const { return rtt_; }
  // The connection's encryption: the host identity's fingerprint (empty: plain JSON) and
  // "TLSv1.3 TLS_AES_256_GCM_SHA384".
  const std::string& fingerprint() const { return fingerprint_; }
  const std::string& tls_description() const { return tls_description_; }
  // The host is not the one trusted for it (see net::ClientIdentityMismatch), if that is
  // how the connection ended: the person may decide to trust it.
  const std::optional<net::ClientIdentityMismatch>& mismatch() const { return mismatch_; }
  // Bumped on every change, so a view can tell that something changed.
  std::uint64_t revision() const { return revision_; }
  // Changes on reset(), so views drop what they cached for the previous session.
  std::uint64_t generation() const { return generation_; }
  bool ended() const {
    return connection_ == Connection::shut_down || connection_ == Connection::lost ||
           connection_ == Connection::rejected;
  }

 private:
  Conversation& room_mut() { return room_; }
  Conversation& direct_with(const std::string& peer);
  Conversation* find_mut(std::string_view peer);
  void push(Conversation& c, ChatLine line);
  void push_everywhere(const ChatLine& line, const std::string& about);
  void prepend(const std::vector<proto::ChatMsg>& older);
  // Every change to users_ goes through these, which bump users_revision_ (views cache
  // what they drew from the list).
  void add_user(const std::string& nick);
  void remove_user(const std::string& nick);
  void set_users(std::vector<std::string> users);
  void rename_user(const std::string& from, const std::string& to);
  void settle(std::uint64_t local_id);
  void fail(std::uint64_t local_id, const std::string& text, const std::string& why);
  void arrived(Conversation& c, const ChatLine& line);
  void trim();
  Conversation new_conversation(std::string peer);

  std::size_t max_bytes_;
  Conversation room_;
  std::vector<Conversation> dms_;
  std::vector<Alert> alerts_;
  std::string viewing_;  // the conversation on screen ("" : the room)
  bool focused_ = true;
  std::vector<std::string> users_;
  std::size_t members_ = 0;  // as the server last said
  std::uint64_t users_revision_ = 0;
  bool told_large_ = false;  // said that a large room's arrivals only change the list
  Connection connection_ = Connection::idle;
  std::string status_;
  std::string room_name_;
  std::string nick_;
  std::string refused_nick_;
  std::string refusal_;
  std::optional<std::chrono::microseconds> rtt_;
  std::string fingerprint_;
  std::string tls_description_;
  std::optional<net::ClientIdentityMismatch> mismatch_;
  std::uint64_t revision_ = 0;
  std::uint64_t generation_ = 0;
  std::uint64_t next_conversation_ = 0;
  std::uint64_t next_local_id_ = 0;
  std::size_t bytes_ = 0;
  bool more_older_ = false;
  bool loading_older_ = false;
};

std::string describe_reason(const std::string& leave_reason);

// The chat as text ("[12:03:04] <bob> hi"), continuation lines of a message indented under
// its first so that no message can pass for a line of its own (the chat's Copy).
std::string chat_as_text(const Conversation& c);
// One line as the chat's Copy writes it.
std::string line_as_text(const ChatLine& l);

}  // namespace lanchat::ui
