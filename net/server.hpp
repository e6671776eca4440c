#pragma once
// The chat room server. Lives entirely on the net thread: construct it anywhere, but
// call start() before the net thread runs or from a handler on it, and stop() only on it.
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/event_queue.hpp"
#include "net/protocol.hpp"

namespace lanchat::net {

struct ServerConfig {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = proto::kDefaultPort;
  std::string room = "lanchat";
  std::string password;  // empty: no password
  std::size_t history_size = proto::kHistorySize;
  std::size_t max_line_bytes = proto::kMaxLineBytes;
  // Unsent bytes a connection may have queued before it is dropped as too_slow. Large
  // enough for a welcome with a full history plus a burst from 1,000 chatty peers.
  std::size_t max_backlog_bytes = 8u << 20;
  // Kernel send buffer per connection (0: let the kernel autotune, up to 4 MiB each on
  // Linux). Fixed, so a stalled reader is detected by the backlog bound rather than
  // hidden in kernel memory; 256 KiB is far above a LAN's bandwidth-delay product.
  int socket_send_buffer = 256 * 1024;
  // How long a closing connection may take to read its last lines (shutdown, bye).
  std::chrono::milliseconds close_grace{2000};
  // Join and leave notices wait up to this long to leave together, so that 1,000 people
  // joining at once cost each member a few writes rather than 1,000. Chat messages and
  // replies never wait, and carry any notice queued before them, in order.
  std::chrono::milliseconds presence_batch{10};

  // Flood control: a token bucket per connection on `say` (0 = off). A person typing
  // never meets it; a pasted script loop does, and is told (rate_limited).
  double max_msg_rate = 10.0;     // messages per second, sustained
  std::size_t max_msg_burst = 30;  // messages at once
  // Connection caps (0 = off): the whole server, and one address (a runaway script, or a
  // lab behind one NAT: hence generous).
  std::size_t max_clients = 10000;
  std::size_t max_per_ip = 256;
  // TCP keepalive: a peer that vanished (laptop lid shut, cable pulled) is dropped with
  // leave reason `timeout` after idle + interval * count (about a minute by default),
  // without asking raw `nc` users to ping.
  std::chrono::seconds keepalive_idle{30};
  std::chrono::seconds keepalive_interval{5};
  int keepalive_count = 5;
};

// Spreads a total dead-peer timeout over keepalive idle time, probe interval and count
// (idle = half, five probes over the other half). 0 turns keepalive off.
void apply_dead_peer_timeout(ServerConfig& config, int seconds);

class Session;

class Server : public std::enable_shared_from_this<Server> {
 public:
  static std::shared_ptr<Server> create(asio::io_context& io, ServerConfig config,
                                        EventQueue& events);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. On failure returns a message for the user and emits ServerFailed.
  std::optional<std::string> start();
  // Sends `shutdown {reason}` to every connection, lets each flush, then closes them
  // (forcibly after close_grace). on_stopped runs on the net thread once all are closed.
  void stop(std::string reason, std::function<void()> on_stopped = {});

  asio::ip::tcp::endpoint local_endpoint() const { return local_; }
  const ServerConfig& config() const { return config_; }
  std::size_t connection_count() const { return sessions_.size(); }
  std::size_t member_count() const { return members_.size(); }
  bool stopping() const { return stopping_; }

 private:
  friend class Session;
  using SharedLine = std::shared_ptr<const std::string>;

  Server(asio::io_context& io, ServerConfig config, EventQueue& events);

  void accept_next();
  void on_accept(const asio::error_code& ec, asio::ip::tcp::socket socket);

  // Called by sessions.
  bool on_line(Session& s, std::string_view line);
  void on_too_long(Session& s);
  void on_closed(Session& s, std::string_view reason);
  void mark_dirty(std::shared_ptr<Session> s, bool urgent);
  void kick_later(std::shared_ptr<Session> s);
  char* scratch() { return scratch_.data(); }
  std::size_t scratch_size() const { return scratch_.size(); }

  void handle_hello(Session& s, proto::Hello& hello);
  void handle_say(Session& s, std::string& text);
  void depart(Session& s, std::string_view reason);
  void reply_error(Session& s, std::string_view code, std::string message);
  void broadcast(const SharedLine& line, const Session* except, bool urgent = true);
  void schedule_flush();
  void flush();
  void finish_stop();
  void log(LogLevel level, std::string text);

  asio::io_context& io_;
  ServerConfig config_;
  EventQueue& events_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  asio::steady_timer stop_timer_;
  asio::steady_timer presence_timer_;
  asio::ip::tcp::endpoint local_;

  std::unordered_map<std::uint64_t, std::shared_ptr<Session>> sessions_;
  std::vector<Session*> members_;                    // joined sessions, in join order
  std::string users_array_ = "[]";                   // members_' nicks, encoded for welcome
  bool users_stale_ = false;
  std::unordered_map<std::string, Session*> nicks_;  // nick_key -> member
  std::unordered_map<std::string, std::size_t> per_ip_;  // open connections per address
  std::deque<SharedLine> history_;                   // encoded msg lines, oldest first

  std::vector<std::shared_ptr<Session>> dirty_, dirty_spare_;
  std::vector<std::shared_ptr<Session>> presence_dirty_;  // only join/leave notices queued
  std::vector<std::shared_ptr<Session>> kicks_;
  bool flush_posted_ = false;
  bool presence_armed_ = false;

  std::vector<char> scratch_;  // one read buffer shared by every session (one thread)
  std::uint64_t next_conn_id_ = 0;
  std::uint64_t next_msg_id_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::function<void()> on_stopped_;
  std::string stop_reason_;
};

}  // namespace lanchat::net
