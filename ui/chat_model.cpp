#include "ui/chat_model.hpp"

#include <algorithm>
#include <cstdio>

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
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}
}  // namespace

std::string chat_as_text(const ChatModel& m) {
  std::string out;
  for (const auto& l : m.lines()) {
    std::string head = "[" + clock_time(l.ts) + "] ";
    if (l.kind == LineKind::message) head += "<" + l.nick + "> ";
    if (l.kind == LineKind::join || l.kind == LineKind::leave) head += "* " + l.nick + " ";
    if (l.kind == LineKind::marker) head += "-- ";
    out += head;
    // One space per character of the head (not per byte), so the text lines up.
    const auto width = static_cast<std::size_t>(std::count_if(head.begin(), head.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
    const std::string indent(width, ' ');
    for (char c : l.text) {
      out += c;
      if (c == '\n') out += indent;
    }
    out += '\n';
  }
  return out;
}

void ChatModel::reset() {
  const std::uint64_t next = generation_ + 1;
  const std::size_t max = max_bytes_;
  *this = ChatModel(max);
  generation_ = next;
}

void ChatModel::push(ChatLine line) {
  bytes_ += cost(line);
  lines_.push_back(std::move(line));
  while (bytes_ > max_bytes_ && lines_.size() > 1) {
    bytes_ -= cost(lines_.front());
    lines_.pop_front();
    ++dropped_;
    ++first_line_;
  }
  ++revision_;
}

void ChatModel::prepend(const std::vector<proto::ChatMsg>& older) {
  const std::uint64_t known = oldest_id();
  // Newest first, each pushed in front: they end up oldest first. Nothing is dropped here;
  // a reader who scrolls back asked for them.
  for (auto it = older.rbegin(); it != older.rend(); ++it) {
    if (known != 0 && it->id >= known) continue;
    ChatLine line{LineKind::message, it->ts, it->from, it->text, it->from == nick_, it->id};
    bytes_ += cost(line);
    lines_.push_front(std::move(line));
    --first_line_;
  }
  ++revision_;
}

std::uint64_t ChatModel::oldest_id() const {
  for (const auto& l : lines_) {
    if (l.kind == LineKind::message && l.id != 0) return l.id;
  }
  return 0;
}

void ChatModel::add_info(std::string text, LineKind kind) {
  push(ChatLine{kind, net::now_ms(), {}, std::move(text), false, 0});
}

void ChatModel::add_user(const std::string& nick) {
  if (std::find(users_.begin(), users_.end(), nick) == users_.end()) users_.push_back(nick);
}

void ChatModel::remove_user(const std::string& nick) {
  std::erase(users_, nick);
}

std::uint64_t ChatModel::queue_say(std::string text) {
  const std::uint64_t id = ++next_local_id_;
  pending_.push_back(PendingSay{id, std::move(text), net::now_ms(), false, {}});
  ++revision_;
  return id;
}

void ChatModel::dismiss(std::uint64_t local_id) {
  std::erase_if(pending_, [&](const PendingSay& p) { return p.local_id == local_id && p.failed; });
  ++revision_;
}

void ChatModel::settle(std::uint64_t local_id) {
  if (local_id == 0) return;
  std::erase_if(pending_, [&](const PendingSay& p) { return p.local_id == local_id; });
}

void ChatModel::fail(std::uint64_t local_id, const std::string& text, const std::string& why) {
  for (PendingSay& p : pending_) {
    if (p.local_id == local_id && local_id != 0) {
      p.failed = true;
      p.why = why;
      ++revision_;
      return;
    }
  }
  // Not one this window queued (a client used directly): show it all the same.
  pending_.push_back(PendingSay{local_id, text, net::now_ms(), true, why});
  ++revision_;
}

void ChatModel::apply(const net::Event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, net::ClientConnecting>) {
          if (connection_ != Connection::reconnecting) connection_ = Connection::connecting;
          status_ = (e.attempt == 0 ? "Connecting to " : "Reconnecting to ") + e.host + ":" +
                    std::to_string(e.port) + "…";
          ++revision_;
        } else if constexpr (std::is_same_v<T, net::ClientWelcome>) {
          const auto& w = e.welcome;
          connection_ = Connection::joined;
          room_ = w.server;
          nick_ = w.nick;
          users_ = w.users;
          refused_nick_.clear();
          status_ = "Connected";
          if (!e.rejoined || !e.same_room) more_older_ = w.more;
          for (std::uint64_t id : e.confirmed) settle(id);
          if (e.rejoined) {
            // Say what the reconnect filled in, so the gap is visible, not silent.
            if (!e.same_room) {
              push(ChatLine{LineKind::marker,
                            net::now_ms(),
                            {},
                            "The server restarted; messages from before the restart may be "
                            "missing",
                            false,
                            0});
            } else if (!w.history.empty()) {
              push(ChatLine{LineKind::marker,
                            net::now_ms(),
                            {},
                            thousands(w.history.size()) + " message" +
                                (w.history.size() == 1 ? "" : "s") + " sent while you were away",
                            false,
                            0});
            }
          }
          for (const auto& m : w.history) {
            push(ChatLine{LineKind::message, m.ts, m.from, m.text, m.from == nick_, m.id});
          }
          add_info(e.rejoined ? "Reconnected to " + room_ + " as " + nick_
                              : "You joined " + room_ + " as " + nick_ + " (" +
                                    std::to_string(users_.size()) + " online)");
        } else if constexpr (std::is_same_v<T, net::ClientChat>) {
          settle(e.local_id);
          push(ChatLine{LineKind::message, e.msg.ts, e.msg.from, e.msg.text, e.msg.from == nick_,
                        e.msg.id});
        } else if constexpr (std::is_same_v<T, net::ClientHistory>) {
          if (e.around != 0) return;  // a search hit's context: the search panel's
          loading_older_ = false;
          if (!e.error.empty()) {
            ++revision_;
            return;
          }
          more_older_ = e.more;
          prepend(e.msgs);
        } else if constexpr (std::is_same_v<T, net::ClientSayFailed>) {
          fail(e.local_id, e.text, e.error.message.empty() ? e.error.code : e.error.message);
        } else if constexpr (std::is_same_v<T, net::ClientJoin>) {
          add_user(e.join.nick);
          push(ChatLine{LineKind::join, e.join.ts, e.join.nick, "joined", false, 0});
        } else if constexpr (std::is_same_v<T, net::ClientLeave>) {
          remove_user(e.leave.nick);
          push(ChatLine{LineKind::leave, e.leave.ts, e.leave.nick, describe_reason(e.leave.reason),
                        false, 0});
        } else if constexpr (std::is_same_v<T, net::ClientSnapshot>) {
          users_ = e.users;
          ++revision_;
        } else if constexpr (std::is_same_v<T, net::ClientServerError>) {
          add_info(e.error.message.empty() ? e.error.code : e.error.message, LineKind::error);
        } else if constexpr (std::is_same_v<T, net::ClientRejected>) {
          connection_ = Connection::rejected;
          refused_nick_ = e.error.code == "nick_taken" || e.error.code == "bad_nick" ? e.nick : "";
          status_ = "Not joined: " + e.error.message;
          refusal_ = e.error.message;
          users_.clear();
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
          users_.clear();
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
            users_.clear();
            add_info(e.error, LineKind::error);
          }
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
