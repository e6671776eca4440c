#include "ui/chat_model.hpp"

#include <algorithm>
#include <cstdio>

#include "net/nick.hpp"
#include "ui/time_text.hpp"

namespace lanchat::ui {

std::string describe_reason(const std::string& r) {
  if (r == "quit") return "left";
  if (r == "disconnect") return "disconnected";
  if (r == "kicked") return "was removed by the host";
  if (r == "too_slow") return "was dropped (connection too slow)";
  if (r == "timeout") return "timed out";
  return "left (" + r + ")";
}

namespace {

std::size_t cost(const ChatLine& l) {
  return l.text.size() + l.nick.size() + ChatModel::kLineOverhead;
}

std::string thousands(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) {
    s.insert(static_cast<std::size_t>(i), ",");
  }
  return s;
}

}  // namespace

std::string line_as_text(const ChatLine& l) {
  std::string head = "[" + clock_time(l.ts) + "] ";
  if (l.kind == LineKind::message) head += l.action ? "* " + l.nick + " " : "<" + l.nick + "> ";
  if (l.kind == LineKind::join || l.kind == LineKind::leave) head += "* " + l.nick + " ";
  if (l.kind == LineKind::nick || l.kind == LineKind::notice) head += "* ";
  if (l.kind == LineKind::marker) head += "-- ";
  // One space per character of the head (not per byte), so the text lines up.
  const auto width = static_cast<std::size_t>(std::count_if(head.begin(), head.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
  const std::string indent(width, ' ');
  std::string out = head;
  for (char c : l.text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

std::string chat_as_text(const Conversation& c) {
  std::string out;
  for (const auto& l : c.lines) out += line_as_text(l) + '\n';
  return out;
}

ChatModel::ChatModel(std::size_t max_bytes) : max_bytes_(max_bytes) {
  room_ = new_conversation({});
}

Conversation ChatModel::new_conversation(std::string peer) {
  Conversation c;
  c.peer = std::move(peer);
  c.id = ++next_conversation_;
  return c;
}

void ChatModel::reset() {
  const std::uint64_t next = generation_ + 1;
  const std::uint64_t ids = next_conversation_;
  const std::size_t max = max_bytes_;
  const std::uint64_t users_rev = users_revision_ + 1;
  *this = ChatModel(max);
  generation_ = next;
  users_revision_ = users_rev;
  // New ids, so no view mistakes a new session's room for the old one.
  next_conversation_ = ids;
  room_ = new_conversation({});
}

// ---- conversations ----------------------------------------------------------------------

const Conversation* ChatModel::conversation(std::string_view peer) const {
  if (peer.empty()) return &room_;
  for (const auto& c : dms_) {
    if (c.peer == peer) return &c;
  }
  return nullptr;
}

Conversation* ChatModel::find_mut(std::string_view peer) {
  return const_cast<Conversation*>(std::as_const(*this).conversation(peer));
}

Conversation& ChatModel::direct_with(const std::string& peer) {
  if (Conversation* c = find_mut(peer)) return *c;
  dms_.push_back(new_conversation(peer));
  ++revision_;
  return dms_.back();
}

void ChatModel::open_direct(const std::string& peer) {
  if (peer.empty() || peer == nick_) return;
  direct_with(peer);
}

void ChatModel::set_view(const std::string& peer, bool focused) {
  viewing_ = peer;
  focused_ = focused;
  if (!focused) return;
  if (Conversation* c = find_mut(peer); c != nullptr && (c->unread != 0 || c->mentions != 0)) {
    c->unread = 0;
    c->mentions = 0;
    ++revision_;
  }
}

std::uint64_t ChatModel::total_unread() const {
  std::uint64_t n = room_.unread;
  for (const auto& c : dms_) n += c.unread;
  return n;
}

std::uint64_t ChatModel::total_mentions() const {
  std::uint64_t n = room_.mentions;
  for (const auto& c : dms_) n += c.mentions;
  return n;
}

std::vector<Alert> ChatModel::take_alerts() {
  std::vector<Alert> out;
  out.swap(alerts_);
  return out;
}

void ChatModel::arrived(Conversation& c, const ChatLine& line) {
  if (line.mine || line.kind != LineKind::message) return;
  const bool personal = line.mention || !c.peer.empty();
  if (c.peer != viewing_ || !focused_) {
    ++c.unread;
    if (personal) ++c.mentions;
  }
  if (!focused_ && personal) alerts_.push_back(Alert{!c.peer.empty(), line.nick, line.text});
}

// ---- lines ------------------------------------------------------------------------------

void ChatModel::push(Conversation& c, ChatLine line) {
  bytes_ += cost(line);
  c.bytes += cost(line);
  c.lines.push_back(std::move(line));
  trim();
  ++revision_;
}

void ChatModel::trim() {
  // The conversation holding the most goes first: almost always the room.
  while (bytes_ > max_bytes_) {
    Conversation* big = &room_;
    for (auto& c : dms_) {
      if (c.bytes > big->bytes) big = &c;
    }
    if (big->lines.size() <= 1) break;
    const std::size_t n = cost(big->lines.front());
    bytes_ -= n;
    big->bytes -= n;
    big->lines.pop_front();
    ++big->dropped;
    ++big->first_line;
  }
}

// A join, leave or nick change: in the room, and in a direct conversation with that person.
void ChatModel::push_everywhere(const ChatLine& line, const std::string& about) {
  push(room_, line);
  if (Conversation* c = find_mut(about); c != nullptr && !c->peer.empty()) push(*c, line);
}

void ChatModel::prepend(const std::vector<proto::ChatMsg>& older) {
  const std::uint64_t known = oldest_id();
  // Newest first, each pushed in front: they end up oldest first. Nothing is dropped here;
  // a reader who scrolls back asked for them.
  for (auto it = older.rbegin(); it != older.rend(); ++it) {
    if (known != 0 && it->id >= known) continue;
    ChatLine line{LineKind::message, it->ts, it->from,   it->text,
                  it->from == nick_, it->id, it->action, false};
    line.mention = !line.mine && lanchat::nick::mentions(it->text, nick_);
    bytes_ += cost(line);
    room_.bytes += cost(line);
    room_.lines.push_front(std::move(line));
    --room_.first_line;
  }
  ++revision_;
}

std::uint64_t ChatModel::oldest_id() const {
  for (const auto& l : room_.lines) {
    if (l.kind == LineKind::message && l.id != 0) return l.id;
  }
  return 0;
}

void ChatModel::add_info(std::string text, LineKind kind) {
  push(room_, ChatLine{kind, net::now_ms(), {}, std::move(text), false, 0, false, false});
}

void ChatModel::add_user(const std::string& nick) {
  if (std::find(users_.begin(), users_.end(), nick) != users_.end()) return;
  users_.push_back(nick);
  ++users_revision_;
}

void ChatModel::remove_user(const std::string& nick) {
  if (std::erase(users_, nick) > 0) ++users_revision_;
}

void ChatModel::set_users(std::vector<std::string> users) {
  users_ = std::move(users);
  ++users_revision_;
}

void ChatModel::rename_user(const std::string& from, const std::string& to) {
  std::replace(users_.begin(), users_.end(), from, to);
  ++users_revision_;
}

// ---- what the user sends ----------------------------------------------------------------

std::uint64_t ChatModel::queue_say(std::string text, const std::string& to, bool action) {
  const std::uint64_t id = ++next_local_id_;
  Conversation& c = to.empty() ? room_ : direct_with(to);
  c.pending.push_back(PendingSay{id, std::move(text), net::now_ms(), false, {}, action});
  ++revision_;
  return id;
}

const PendingSay* ChatModel::find_pending(std::uint64_t local_id, std::string* peer) const {
  auto look = [&](const Conversation& c) -> const PendingSay* {
    for (const auto& p : c.pending) {
      if (p.local_id == local_id) {
        if (peer != nullptr) *peer = c.peer;
        return &p;
      }
    }
    return nullptr;
  };
  if (auto* p = look(room_)) return p;
  for (const auto& c : dms_) {
    if (auto* p = look(c)) return p;
  }
  return nullptr;
}

void ChatModel::dismiss(std::uint64_t local_id) {
  std::erase_if(room_.pending,
                [&](const PendingSay& p) { return p.local_id == local_id && p.failed; });
  for (auto& c : dms_) {
    std::erase_if(c.pending,
                  [&](const PendingSay& p) { return p.local_id == local_id && p.failed; });
  }
  ++revision_;
}

void ChatModel::settle(std::uint64_t local_id) {
  if (local_id == 0) return;
  auto gone = [&](const PendingSay& p) { return p.local_id == local_id; };
  std::erase_if(room_.pending, gone);
  for (auto& c : dms_) std::erase_if(c.pending, gone);
}

void ChatModel::fail(std::uint64_t local_id, const std::string& text, const std::string& why) {
  auto mark = [&](Conversation& c) {
    for (PendingSay& p : c.pending) {
      if (p.local_id != local_id) continue;
      p.failed = true;
      p.why = why;
      ++revision_;
      return true;
    }
    return false;
  };
  if (local_id != 0) {
    if (mark(room_)) return;
    for (auto& c : dms_) {
      if (mark(c)) return;
    }
  }
  // Not one this window queued (a client used directly): show it all the same.
  room_.pending.push_back(PendingSay{local_id, text, net::now_ms(), true, why, false});
  ++revision_;
}

// ---- events -----------------------------------------------------------------------------

void ChatModel::apply(const net::Event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, net::ClientConnecting>) {
          if (connection_ != Connection::reconnecting) connection_ = Connection::connecting;
          status_ = (e.attempt == 0 ? "Connecting to " : "Reconnecting to ") + e.host + ":" +
                    std::to_string(e.port) + "…";
          // Until a handshake says otherwise, a new connection is not known to be encrypted.
          fingerprint_.clear();
          tls_description_.clear();
          ++revision_;
        } else if constexpr (std::is_same_v<T, net::ClientWelcome>) {
          const auto& w = e.welcome;
          connection_ = Connection::joined;
          room_name_ = w.server;
          nick_ = w.nick;
          set_users(w.users);
          members_ = w.members.value_or(w.users.size());
          refused_nick_.clear();
          status_ = "Connected";
          if (!e.rejoined || !e.same_room) more_older_ = w.more;
          for (std::uint64_t id : e.confirmed) settle(id);
          if (e.rejoined) {
            // Say what the reconnect filled in, so the gap is visible, not silent.
            std::string marker;
            if (!e.same_room) {
              marker = "The server restarted; messages from before the restart may be missing";
            } else if (w.history.size() >= proto::kMaxResume && w.more) {
              marker = "More than " + thousands(w.history.size()) +
                       " messages were sent while you were away; the newest " +
                       thousands(w.history.size()) + " follow (search finds the others)";
            } else if (!w.history.empty()) {
              marker = thousands(w.history.size()) + " message" +
                       (w.history.size() == 1 ? "" : "s") + " sent while you were away";
            }
            if (!marker.empty()) {
              push(room_,
                   ChatLine{LineKind::marker, net::now_ms(), {}, marker, false, 0, false, false});
            }
          }
          for (const auto& m : w.history) {
            ChatLine line{LineKind::message, m.ts, m.from,   m.text,
                          m.from == nick_,   m.id, m.action, false};
            line.mention = !line.mine && lanchat::nick::mentions(m.text, nick_);
            push(room_, line);
          }
          add_info(e.rejoined ? "Reconnected to " + room_name_ + " as " + nick_
                              : "You joined " + room_name_ + " as " + nick_ + " (" +
                                    thousands(members()) + " online)");
        } else if constexpr (std::is_same_v<T, net::ClientChat>) {
          settle(e.local_id);
          const auto& m = e.msg;
          ChatLine line{LineKind::message, m.ts, m.from,   m.text,
                        m.from == nick_,   m.id, m.action, false};
          // A direct message lives in the conversation with the other person.
          const std::string peer = m.to.empty() ? std::string() : line.mine ? m.to : m.from;
          Conversation& c = peer.empty() ? room_ : direct_with(peer);
          // In a direct conversation every line is for the user: counted as such (arrived),
          // but not highlighted, which would mark them all.
          line.mention = !line.mine && peer.empty() && lanchat::nick::mentions(m.text, nick_);
          push(c, line);
          arrived(c, c.lines.back());
        } else if constexpr (std::is_same_v<T, net::ClientSayFailed>) {
          fail(e.local_id, e.text, e.error.message.empty() ? e.error.code : e.error.message);
        } else if constexpr (std::is_same_v<T, net::ClientHistory>) {
          if (e.around != 0) return;  // a search hit's context: the search panel's
          loading_older_ = false;
          if (!e.error.empty()) {
            ++revision_;
            return;
          }
          more_older_ = e.more;
          prepend(e.msgs);
        } else if constexpr (std::is_same_v<T, net::ClientPresence>) {
          // A large room: the list changes, but the chat is not filled with arrivals (ten
          // summaries a second in a join storm would bury what people say).
          const auto& p = e.presence;
          net::apply_presence(users_, p);
          ++users_revision_;
          members_ = p.members;
          if (!told_large_) {
            told_large_ = true;  // once, so nobody wonders where the arrivals went
            add_info("The room is large now (" + thousands(p.members) +
                     " people): who comes and goes shows in the list, not here");
          } else {
            ++revision_;
          }
        } else if constexpr (std::is_same_v<T, net::ClientJoin>) {
          add_user(e.join.nick);
          members_ = users_.size();
          push_everywhere(
              ChatLine{LineKind::join, e.join.ts, e.join.nick, "joined", false, 0, false, false},
              e.join.nick);
        } else if constexpr (std::is_same_v<T, net::ClientLeave>) {
          remove_user(e.leave.nick);
          members_ = users_.size();
          std::string text = describe_reason(e.leave.reason);
          if (!e.leave.message.empty()) text += ": " + e.leave.message;
          push_everywhere(
              ChatLine{LineKind::leave, e.leave.ts, e.leave.nick, text, false, 0, false, false},
              e.leave.nick);
        } else if constexpr (std::is_same_v<T, net::ClientNick>) {
          const auto& n = e.change;
          rename_user(n.old_nick, n.new_nick);
          if (e.mine) nick_ = n.new_nick;
          // A conversation follows its person to the new nick.
          if (Conversation* c = find_mut(n.old_nick); c != nullptr && !c->peer.empty()) {
            c->peer = n.new_nick;
          }
          if (viewing_ == n.old_nick) viewing_ = n.new_nick;
          push_everywhere(
              ChatLine{LineKind::nick, n.ts, n.new_nick,
                       (e.mine ? "You are" : n.old_nick + " is") + " now known as " + n.new_nick,
                       false, 0, false, false},
              n.new_nick);
        } else if constexpr (std::is_same_v<T, net::ClientNotice>) {
          push(room_,
               ChatLine{LineKind::notice, e.notice.ts, {}, e.notice.text, false, 0, false, false});
        } else if constexpr (std::is_same_v<T, net::ClientKicked>) {
          connection_ = Connection::shut_down;
          status_ = "The host removed you from the room" +
                    (e.message.empty() ? std::string() : ": " + e.message);
          set_users({});
          add_info(status_, LineKind::error);
        } else if constexpr (std::is_same_v<T, net::ClientSnapshot>) {
          set_users(e.users);
          members_ = users_.size();
          ++revision_;
        } else if constexpr (std::is_same_v<T, net::ClientServerError>) {
          add_info(e.error.message.empty() ? e.error.code : e.error.message, LineKind::error);
        } else if constexpr (std::is_same_v<T, net::ClientRejected>) {
          connection_ = Connection::rejected;
          refused_nick_ =
              e.error.code == "nick_taken" || e.error.code == "bad_nick" ? e.nick : std::string();
          status_ = "Not joined: " + e.error.message;
          refusal_ = e.error.message;
          set_users({});
          if (e.was_joined) {
            add_info("Could not rejoin: " + e.error.message +
                         (refused_nick_.empty() ? "" : ". Choose another nick to go on."),
                     LineKind::error);
          } else {
            ++revision_;
          }
        } else if constexpr (std::is_same_v<T, net::ClientRtt>) {
          rtt_ = e.rtt;
          ++revision_;
        } else if constexpr (std::is_same_v<T, net::ClientShutdown>) {
          connection_ = Connection::shut_down;
          status_ = "The server shut down" + (e.reason.empty() ? "" : ": " + e.reason);
          set_users({});
          add_info(status_, LineKind::error);
        } else if constexpr (std::is_same_v<T, net::ClientDisconnected>) {
          if (e.retry_in.count() > 0) {
            connection_ = Connection::reconnecting;
            const auto secs = static_cast<double>(e.retry_in.count()) / 1000.0;
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f", secs);
            status_ = "Connection lost; reconnecting in " + std::string(buf) + " s";
            if (e.was_joined)
              add_info(e.error + ". Reconnecting…", LineKind::error);
            else
              ++revision_;
          } else {
            connection_ = Connection::lost;
            status_ = e.error;
            set_users({});
            add_info(e.error, LineKind::error);
          }
        } else if constexpr (std::is_same_v<T, net::ClientSecured>) {
          fingerprint_ = e.fingerprint;
          tls_description_ = e.description;
          ++revision_;
        } else if constexpr (std::is_same_v<T, net::ClientIdentityMismatch>) {
          connection_ = Connection::lost;
          status_ = e.message;
          mismatch_ = e;
          fingerprint_.clear();
          set_users({});
          add_info(e.message, LineKind::error);
        } else if constexpr (std::is_same_v<T, net::ClientClosed>) {
          connection_ = Connection::idle;
          status_ = "Left the room";
          ++revision_;
        } else if constexpr (std::is_same_v<T, net::EventsDropped>) {
          if (e.chat > 0) {
            add_info("The window fell behind and did not show " + thousands(e.chat) + " message" +
                         (e.chat == 1 ? "" : "s"),
                     LineKind::error);
          }
        }
      },
      event.data);
}

}  // namespace lanchat::ui
