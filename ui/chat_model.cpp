#include "ui/chat_model.hpp"

#include <algorithm>

namespace lanchat::ui {

std::string describe_reason(const std::string& r) {
  if (r == "quit") return "left";
  if (r == "disconnect") return "disconnected";
  if (r == "kicked") return "was removed by the host";
  if (r == "too_slow") return "was dropped (connection too slow)";
  if (r == "timeout") return "timed out";
  return "left (" + r + ")";
}

void ChatModel::reset() {
  const std::uint64_t next = generation_ + 1;
  *this = ChatModel();
  generation_ = next;
}

void ChatModel::push(ChatLine line) {
  lines_.push_back(std::move(line));
  if (lines_.size() > kMaxLines) {
    lines_.pop_front();
    ++dropped_;
  }
  ++revision_;
}

void ChatModel::add_info(std::string text, LineKind kind) {
  push(ChatLine{kind, net::now_ms(), {}, std::move(text), false});
}

void ChatModel::add_user(const std::string& nick) {
  if (std::find(users_.begin(), users_.end(), nick) == users_.end()) users_.push_back(nick);
}

void ChatModel::remove_user(const std::string& nick) {
  std::erase(users_, nick);
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
          status_ = "Connected";
          for (const auto& m : w.history) {
            if (m.id <= last_msg_id_) continue;  // already on screen from before the drop
            push(ChatLine{LineKind::message, m.ts, m.from, m.text, m.from == nick_});
            last_msg_id_ = m.id;
          }
          add_info(e.rejoined ? "Reconnected to " + room_ + " as " + nick_
                              : "You joined " + room_ + " as " + nick_ + " (" +
                                    std::to_string(users_.size()) + " online)");
        } else if constexpr (std::is_same_v<T, net::ClientChat>) {
          last_msg_id_ = std::max(last_msg_id_, e.msg.id);
          push(ChatLine{LineKind::message, e.msg.ts, e.msg.from, e.msg.text, e.msg.from == nick_});
        } else if constexpr (std::is_same_v<T, net::ClientJoin>) {
          add_user(e.join.nick);
          push(ChatLine{LineKind::join, e.join.ts, e.join.nick, "joined", false});
        } else if constexpr (std::is_same_v<T, net::ClientLeave>) {
          remove_user(e.leave.nick);
          push(ChatLine{LineKind::leave, e.leave.ts, e.leave.nick, describe_reason(e.leave.reason),
                        false});
        } else if constexpr (std::is_same_v<T, net::ClientServerError>) {
          add_info(e.error.message.empty() ? e.error.code : e.error.message, LineKind::error);
        } else if constexpr (std::is_same_v<T, net::ClientRejected>) {
          connection_ = Connection::rejected;
          status_ = "Not joined: " + e.error.message;
          ++revision_;
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
        }
      },
      event);
}

}  // namespace lanchat::ui
