#pragma once
// The chat server: listens, decides who may come in (caps per address, password
// guessing, hello deadline), owns the Room and the Connections, schedules their writes
// and keeps the whole server's output within a memory budget. Lives entirely on the net
// thread: construct it anywhere, call start() before the net thread runs or from a
// handler on it, and everything else only on it.
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

#include "net/announcer.hpp"
#include "net/event_queue.hpp"
#include "net/protocol.hpp"
#include "net/room.hpp"
#include "net/tls.hpp"
#include "net/write_pacer.hpp"

namespace lanchat::net {

// What a server's port offers, and the context holding the host's identity (made off the
// net thread by prepare_tls; needed unless off).
struct ServerTls {
  TlsMode mode = TlsMode::off;
  std::shared_ptr<TlsContext> context;
  std::string fingerprint;    // the identity's, for the log and the panel
  std::string identity_note;  // logged after the fingerprint ("made a new identity in ...")
};

struct ServerConfig {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = proto::kDefaultPort;
  std::string room = "lanchat";
  std::string password;  // empty: no password
  // Encryption (see ServerTls). With a password, `on` is served as `required` unless
  // plain connections may send it: a password in clear text is no password.
  ServerTls tls;
  bool allow_plaintext_password = false;
  // A TLS handshake not finished this long after its first byte is closed.
  std::chrono::milliseconds tls_handshake_timeout{10000};
  std::size_t history_size = proto::kHistorySize;
  std::size_t max_line_bytes = proto::kMaxLineBytes;
  // Unsent bytes a connection may have queued before it is dropped as too_slow. Large
  // enough for a welcome with a full history plus a burst from 1,000 chatty peers.
  std::size_t max_backlog_bytes = 8u << 20;
  // All connections' unsent bytes together (a line shared by n queues counts n times).
  // Past it the largest backlogs are dropped as too_slow until 90% is left. Sized for
  // 10,000 members with about 100 KiB each waiting.
  std::size_t max_memory_bytes = std::size_t{1024} << 20;
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
  // A write pass that reached this many connections or more makes the next one wait (see
  // WritePacer): at least half of write_gap after it began, then until write_gap_lines
  // lines wait or write_gap is up. In a large, busy room each member then gets the lines
  // of a few milliseconds in one write instead of one write per line. Smaller rooms, and
  // a quiet large one, never wait. 0 ms: never wait.
  std::chrono::milliseconds write_gap{10};
  std::size_t large_write_pass = 100;
  std::size_t write_gap_lines = 8;
  // Large rooms (see RoomConfig::large_room; 0: never large): from this many members on,
  // clients that asked for summaries hear of joins and leaves once per summary period.
  std::size_t large_room = 500;
  std::chrono::milliseconds presence_summary{100};
  // Telling the LAN about the room (off unless asked for; never on a loopback address).
  AnnounceConfig announce;

  // Flood control: a token bucket per connection on `say` (0 = off). A person typing
  // never meets it; a pasted script loop does, and is told (rate_limited).
  double max_msg_rate = 10.0;      // messages per second, sustained
  std::size_t max_msg_burst = 30;  // messages at once
  // Every inbound line, whatever it is, costs from a per-connection budget of lines (this
  // many per second, bursts of 4 seconds' worth) and bytes (16 KiB per line of the rate).
  // 0 = off. Far above a person or a polite bot; a loop sending garbage, pings or wrong
  // hellos meets it and gets rate_limited.
  double max_line_rate = 50.0;
  // A connection that keeps sending after this many refusals (rate_limited, of either
  // budget) within 10 seconds is disconnected.
  std::size_t max_refusals = 100;
  // Connection caps (0 = off): the whole server, and one address (a runaway script, or a
  // lab behind one NAT: hence generous).
  std::size_t max_clients = 10000;
  std::size_t max_per_ip = 256;
  // Connections from one address that have not joined yet (0 = off); enough for a lab of
  // 50 machines behind one NAT address joining at once.
  std::size_t max_unjoined_per_ip = 64;
  // A connection that has not joined this long after connecting gets hello_timeout and is
  // closed (0 = never).
  std::chrono::seconds hello_timeout{60};
  // Password guessing: this many wrong passwords from one address within a minute lock
  // that address out (its hellos get rate_limited and are closed) for lockout.
  int password_attempts = 5;
  std::chrono::seconds password_window{60};
  std::chrono::seconds lockout{60};
  // TCP keepalive: a peer that vanished (laptop lid shut, cable pulled) is dropped with
  // leave reason `timeout` after idle + interval * count (about a minute by default),
  // without asking raw `nc` users to ping.
  std::chrono::seconds keepalive_idle{30};
  std::chrono::seconds keepalive_interval{5};
  int keepalive_count = 5;

  // For tests only: called before each line is handled ("line", the line) and before each
  // write starts ("write", the first line queued), with the connection's number, so a test
  // can throw from inside the server (see the failure-containment tests).
  std::function<void(std::string_view where, std::uint64_t conn, std::string_view line)> fault_hook;
};

// Spreads a total dead-peer timeout over keepalive idle time, probe interval and count
// (idle = half, five probes over the other half). 0 turns keepalive off.
void apply_dead_peer_timeout(ServerConfig& config, int seconds);

class Connection;

class Server : public std::enable_shared_from_this<Server> {
 public:
  static std::shared_ptr<Server> create(asio::io_context& io, ServerConfig config,
                                        EventQueue& events);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The room's store, opened by the caller off the net thread (opening reads the disk).
  // Without one, start() keeps the room's history in an SQLite database in memory.
  void attach_store(std::shared_ptr<Store> store, StoreContents contents);
  // Before start(): the encryption prepare_tls made off the net thread.
  void attach_tls(ServerTls tls);
  // Binds and listens. On failure returns a message for the user and emits ServerFailed.
  std::optional<std::string> start();
  // Reports a failure that happened before start() could run (the store would not open).
  void fail(std::string message);
  // Sends `shutdown {reason}` to every connection, lets each flush, then closes them
  // (forcibly after close_grace). on_stopped runs on the net thread once all are closed.
  void stop(std::string reason, std::function<void()> on_stopped = {});
  // The host's own client connects from this endpoint: its connection is marked as the
  // host's (shown as such; never a target of moderation).
  void set_host_endpoint(const asio::ip::tcp::endpoint& ep);
  // Emits a ServerSnapshot of every connection (after the event queue overflowed).
  void emit_snapshot();

  // Moderation, on the host's word: the window's buttons and commands post these. Nothing
  // on the wire can call them, and the host's own connection is never their target. Each
  // is logged. `conn` is the connection's number (as in the panel).
  void kick(std::uint64_t conn, std::string message);
  void mute(std::uint64_t conn, bool muted);
  // duration 0: until unbanned. Kicks the member, then refuses hellos from its address.
  void ban(std::uint64_t conn, std::chrono::seconds duration, std::string reason);
  void unban(const std::string& address);

  InstanceId id() const { return events_.id(); }
  asio::ip::tcp::endpoint local_endpoint() const { return local_; }
  const ServerConfig& config() const { return config_; }
  std::size_t connection_count() const { return connections_.size(); }
  std::size_t member_count() const { return room_.size(); }
  std::size_t queued_bytes() const { return queued_bytes_; }
  bool stopping() const { return stopping_; }

 private:
  // A room with a password serves `on` as `required` unless allow_plaintext_password.
  void require_tls_for_password();
  friend class Connection;

  Server(asio::io_context& io, ServerConfig config, EventQueue& events);

  void accept_next();
  void on_accept(const asio::error_code& ec, asio::ip::tcp::socket socket);
  void configure(asio::ip::tcp::socket& socket);

  // Called by connections.
  struct Admission {
    Member* member = nullptr;
    std::optional<proto::Error> error;
    bool close = false;     // close the connection after the error
    bool log_error = true;  // false: admit() logged it already, in its own words
  };
  Admission admit(Connection& c, proto::Hello& hello);
  void on_closed(Connection& c, std::string_view reason);
  void mark_dirty(std::shared_ptr<Connection> c, bool urgent);
  void kick_later(std::shared_ptr<Connection> c);
  void add_queued(std::size_t bytes);
  void remove_queued(std::size_t bytes) { queued_bytes_ -= bytes; }
  void contain(Connection& c, const char* where, const char* what);
  proto::ClientDecoder& decoder() { return decoder_; }
  char* scratch() { return scratch_.data(); }
  std::size_t scratch_size() const { return scratch_.size(); }
  char* tls_staging() { return tls_staging_.data(); }
  std::size_t tls_staging_size() const { return tls_staging_.size(); }
  // A connection finished its TLS handshake / failed it (logged, a few at a time).
  void secured(Connection& c, const std::string& description);
  void handshake_failed(Connection& c, const std::string& why);

  void schedule_flush();
  void take_connection(asio::ip::tcp::socket socket);
  // The room noted a join or leave for its next summary.
  void arm_summary();
  void flush();
  void flush_when_due();
  void wait_for_pass(WritePacer::Clock::duration wait);
  void line_waiting();
  void shed_memory();
  void housekeeping();
  void finish_stop();
  void stopped_and_stored();
  void on_store_status(const StoreStatus& s);
  Connection* moderated(std::uint64_t conn, const char* what);
  void emit_bans();
  void start_announcing();
  void log(LogLevel level, std::string text) { events_.log(level, std::move(text)); }

  // Per address: connections, those not joined yet, and wrong passwords.
  struct AddressState {
    std::size_t open = 0;
    std::size_t unjoined = 0;
    std::deque<std::chrono::steady_clock::time_point> wrong_passwords;
    std::chrono::steady_clock::time_point locked_until{};
    std::uint64_t refused_while_locked = 0;  // reported when the lockout ends
    std::uint64_t wrong_total = 0;           // for the log
  };
  AddressState& address(const std::string& ip) { return addresses_[ip]; }
  void release_address(const std::string& ip);

  asio::io_context& io_;
  ServerConfig config_;
  EventSink events_;
  Room room_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  asio::steady_timer stop_timer_;
  asio::steady_timer presence_timer_;
  asio::steady_timer flush_timer_;
  asio::steady_timer summary_timer_;
  asio::steady_timer housekeeping_timer_;
  asio::ip::tcp::endpoint local_;
  std::optional<asio::ip::tcp::endpoint> host_endpoint_;
  std::shared_ptr<Store> store_;
  std::shared_ptr<Announcer> announcer_;
  bool store_failing_ = false;
  std::unordered_map<std::string, Ban> bans_;  // by address
  // Members the host muted, by address and nick, so that reconnecting does not unmute.
  std::unordered_map<std::string, bool> muted_;

  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections_;
  std::unordered_map<std::string, AddressState> addresses_;
  // Connections in the order they arrived, for the hello deadline (joined ones and closed
  // ones are skipped when their turn comes).
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::weak_ptr<Connection>>> arrivals_;

  std::vector<std::shared_ptr<Connection>> dirty_, dirty_spare_;
  std::vector<std::shared_ptr<Connection>> presence_dirty_;  // only join/leave notices queued
  std::vector<std::shared_ptr<Connection>> kicks_;
  bool flush_posted_ = false;      // a write pass is posted, or waits for flush_timer_
  std::size_t lines_waiting_ = 0;  // lines broadcast since the last write pass
  WritePacer write_pacer_;
  bool presence_armed_ = false;
  bool summary_armed_ = false;
  std::size_t queued_bytes_ = 0;  // all connections' unsent bytes
  bool shed_pending_ = false;

  std::vector<char> scratch_;      // one read buffer shared by every connection (one thread)
  proto::ClientDecoder decoder_;   // reads every connection's lines (one thread)
  std::vector<char> tls_staging_;  // one TLS record's plaintext, shared likewise
  // Failed TLS handshakes: the first few in each 10 s are logged one by one, then counted.
  int handshake_failures_logged_ = 0;
  std::uint64_t handshake_failures_counted_ = 0;
  std::chrono::steady_clock::time_point handshake_failures_since_{};
  std::uint64_t next_conn_id_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::function<void()> on_stopped_;
  std::string stop_reason_;
};

// Unless config.tls.mode is off: loads the host identity from data_dir/identity (making
// it the first time) and the TLS context from it into config.tls. Disk and key generation:
// call it before the net thread runs or from another thread. Throws TlsError.
void prepare_tls(ServerConfig& config, const std::filesystem::path& data_dir);

}  // namespace lanchat::net
