#pragma once
// What the server panel shows: the live log, the connections table and the counters.
// Built only from net events.
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "net/events.hpp"

namespace lanchat::ui {

struct LogRow {
  std::int64_t ts = 0;
  net::LogLevel level = net::LogLevel::info;
  std::string text;
};

struct PeerRow {
  std::uint64_t conn = 0;
  std::string nick;  // empty until joined
  std::string address;
  std::int64_t since = 0;  // connected at, ms since epoch
  std::uint64_t messages = 0;
  bool host = false;  // the host's own client
  bool muted = false;
  std::string tls{};  // "TLSv1.3 …" once its handshake is done; empty: plain JSON
};

enum class ServerState : std::uint8_t { off, starting, running, stopping, stopped, failed };

class ServerModel {
 public:
  // The log keeps this many bytes of text (plus a per-row overhead); oldest rows go first.
  static constexpr std::size_t kDefaultMaxLogBytes = 16u << 20;
  static constexpr std::size_t kRowOverhead = sizeof(LogRow);

  explicit ServerModel(std::size_t max_log_bytes = kDefaultMaxLogBytes)
      : max_log_bytes_(max_log_bytes) {}

  void apply(const net::Event& e);
  void reset() { *this = ServerModel(max_log_bytes_); }
  void mark_starting() { state_ = ServerState::starting; }
  void mark_stopping() { state_ = ServerState::stopping; }

  const std::deque<LogRow>& log() const { return log_; }
  const std::vector<PeerRow>& peers() const { return peers_; }
  ServerState state() const { return state_; }
  const std::string& address() const { return address_; }
  const std::string& room() const { return room_; }
  net::TlsMode tls() const { return tls_; }
  const std::string& fingerprint() const { return fingerprint_; }  // hex; empty without TLS
  const std::string& error() const { return error_; }
  const std::string& stop_reason() const { return stop_reason_; }
  std::int64_t started_at() const { return started_at_; }
  std::size_t joined_count() const;
  std::uint64_t total_connections() const { return total_connections_; }
  std::uint64_t total_messages() const { return total_messages_; }
  // Rows ever added; the first kept row is number log_revision() - log().size().
  std::uint64_t log_revision() const { return log_revision_; }
  std::size_t log_bytes() const { return log_bytes_; }
  const std::vector<net::ServerBans::Entry>& bans() const { return bans_; }
  // The room's store, as last reported (path empty: memory only; known false: not yet).
  const net::ServerStore& store() const { return store_; }
  bool store_known() const { return store_known_; }

 private:
  PeerRow* find(std::uint64_t conn);
  void add_log(net::ServerLog row);

  std::size_t max_log_bytes_;
  std::deque<LogRow> log_;
  std::size_t log_bytes_ = 0;
  std::vector<PeerRow> peers_;
  ServerState state_ = ServerState::off;
  std::string address_, room_, error_, stop_reason_;
  net::TlsMode tls_ = net::TlsMode::off;
  std::string fingerprint_;
  std::int64_t started_at_ = 0;
  std::uint64_t total_connections_ = 0;
  std::uint64_t total_messages_ = 0;
  std::uint64_t log_revision_ = 0;
  net::ServerStore store_;
  bool store_known_ = false;
  std::vector<net::ServerBans::Entry> bans_;
};

}  // namespace lanchat::ui
