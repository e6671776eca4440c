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

void ServerModel::add_log(net::ServerLog row) {
  log_bytes_ += row.text.size() + kRowOverhead;
  log_.push_back(LogRow{row.ts, row.level, std::move(row.text)});
  ++log_revision_;
  while (log_bytes_ > max_log_bytes_ && log_.size() > 1) {
    log_bytes_ -= log_.front().text.size() + kRowOverhead;
    log_.pop_front();
  }
}

void ServerModel::apply(const net::Event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, net::ServerLog>) {
          add_log(e);
        } else if constexpr (std::is_same_v<T, net::ServerListening>) {
          state_ = ServerState::running;
          address_ = e.address + ":" + std::to_string(e.port);
          room_ = e.room;
          tls_ = e.tls;
          fingerprint_ = e.fingerprint;
          started_at_ = net::now_ms();
        } else if constexpr (std::is_same_v<T, net::ServerFailed>) {
          state_ = ServerState::failed;
          error_ = e.error;
        } else if constexpr (std::is_same_v<T, net::ServerStopped>) {
          state_ = ServerState::stopped;
          stop_reason_ = e.reason;
          peers_.clear();
        } else if constexpr (std::is_same_v<T, net::PeerConnected>) {
          peers_.push_back(PeerRow{e.conn, {}, e.address, e.ts, 0, false, false});
          ++total_connections_;
        } else if constexpr (std::is_same_v<T, net::PeerJoined>) {
          if (PeerRow* p = find(e.conn)) {
            p->nick = e.nick;
            p->host = e.host;
          }
        } else if constexpr (std::is_same_v<T, net::PeerNick>) {
          if (PeerRow* p = find(e.conn)) p->nick = e.nick;
        } else if constexpr (std::is_same_v<T, net::PeerMuted>) {
          if (PeerRow* p = find(e.conn)) p->muted = e.muted;
        } else if constexpr (std::is_same_v<T, net::ServerBans>) {
          bans_ = e.bans;
        } else if constexpr (std::is_same_v<T, net::PeerSecured>) {
          if (PeerRow* p = find(e.conn)) p->tls = e.description;
        } else if constexpr (std::is_same_v<T, net::PeerClosed>) {
          std::erase_if(peers_, [&](const PeerRow& p) { return p.conn == e.conn; });
        } else if constexpr (std::is_same_v<T, net::ServerStore>) {
          store_ = e;
          store_known_ = true;
        } else if constexpr (std::is_same_v<T, net::ServerSnapshot>) {
          // Keep the message counts of rows that are still there.
          std::vector<PeerRow> rows;
          rows.reserve(e.peers.size());
          for (const auto& p : e.peers) {
            const PeerRow* old = find(p.conn);
            rows.push_back(PeerRow{p.conn, p.nick, p.address, p.since, old ? old->messages : 0,
                                   p.host, p.muted, p.tls});
          }
          peers_ = std::move(rows);
        } else if constexpr (std::is_same_v<T, net::EventsDropped>) {
          if (e.log > 0) {
            add_log(net::ServerLog{
                net::now_ms(), net::LogLevel::warn,
                "the window fell behind: " + std::to_string(e.log) + " log lines were not shown"});
          }
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
      event.data);
}

}  // namespace lanchat::ui
