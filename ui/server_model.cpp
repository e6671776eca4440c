#include "ui/server_model.hpp"

#include <algorithm>

namespace lanchat::ui {

PeerRow* ServerModel::find(std::uint64_t conn) {
  auto it =
      std::find_if(peers_.begin(), peers_.end(), [&](const PeerRow& p) { return p.conn == conn; });
  return it == peers_.end() ? nullptr : &*it;
}

std::size_t ServerModel::joined_count() const {
  return static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(),
                                                [](const PeerRow& p) { return !p.nick.empty(); }));
}

void ServerModel::apply(const net::Event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, net::ServerLog>) {
          log_.push_back(LogRow{e.ts, e.level, e.text});
          if (log_.size() > kMaxLogRows) log_.pop_front();
          ++log_revision_;
        } else if constexpr (std::is_same_v<T, net::ServerListening>) {
          state_ = ServerState::running;
          address_ = e.address + ":" + std::to_string(e.port);
          room_ = e.room;
          started_at_ = net::now_ms();
        } else if constexpr (std::is_same_v<T, net::ServerFailed>) {
          state_ = ServerState::failed;
          error_ = e.error;
        } else if constexpr (std::is_same_v<T, net::ServerStopped>) {
          state_ = ServerState::stopped;
          stop_reason_ = e.reason;
          peers_.clear();
        } else if constexpr (std::is_same_v<T, net::PeerConnected>) {
          peers_.push_back(PeerRow{e.conn, {}, e.address, e.ts, 0});
          ++total_connections_;
        } else if constexpr (std::is_same_v<T, net::PeerJoined>) {
          if (PeerRow* p = find(e.conn)) p->nick = e.nick;
        } else if constexpr (std::is_same_v<T, net::PeerClosed>) {
          std::erase_if(peers_, [&](const PeerRow& p) { return p.conn == e.conn; });
        } else if constexpr (std::is_same_v<T, net::ClientChat>) {
          // The host's own client sees every message: count them per sender.
          if (state_ != ServerState::running) return;
          ++total_messages_;
          for (PeerRow& p : peers_) {
            if (p.nick == e.msg.from) {
              ++p.messages;
              break;
            }
          }
        }
      },
      event);
}

}  // namespace lanchat::ui
