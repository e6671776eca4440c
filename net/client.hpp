#pragma once
// A chat client on the net thread: connects, says hello, turns server lines into Events,
// pings for RTT and dead-server detection, and (optionally) reconnects after a lost
// connection. Every public method must run on the net thread (post to it).
//
// Nothing typed is lost silently: a message is held until the link is up, kept after it
// is written until the server's echo confirms it, sent again after a reconnect if the
// room did not get it, and reported (ClientSayFailed) if it can never be delivered.
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/event_queue.hpp"
#include "net/line_framer.hpp"

namespace asio::ssl {
template <typename Stream>
class stream;
}

namespace lanchat::net {

class TlsContext;

struct ClientConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = proto::kDefaultPort;
  std::string nick;
  std::string password;
  bool reconnect = false;  // after a lost connection (never after a shutdown notice)
  // Keep the whole member list of a large room (fetched in pages, see want_members): the
  // window shows it; a console, which prints only the count, does not need it.
  bool member_list = true;
  std::chrono::milliseconds ping_interval{5000};
  std::chrono::milliseconds ping_timeout{15000};  // no pong for this long: connection lost
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds max_backoff{10000};
  // Encryption. Set: TLS whenever the host offers it, and always once this host was seen
  // with it (reconnects never go back to plain). Null: plain JSON lines, on purpose.
  std::shared_ptr<TlsContext> tls;
  // The host identity's fingerprint (hex) pinned for this host:port; empty: none yet, the
  // first one seen is pinned (ClientSecured::first_contact). Any other is refused.
  std::string fingerprint;
  // Called on the net thread with the local endpoint of each new connection, before hello
  // is sent (the host's window tells its own server which connection is its own).
  std::function<void(const asio::ip::tcp::endpoint&)> on_connected;
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  // Messages not yet confirmed by the server beyond this many are refused at once.
  static constexpr std::size_t kMaxUnsent = 1000;

  static std::shared_ptr<Client> create(asio::io_context& io, ClientConfig config,
                                        EventQueue& events);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start();
  // Sends a message. local_id names it in the events about it (ClientChat::local_id,
  // ClientSayFailed); 0 if the caller does not care. to: a direct message to that nick;
  // action: "/me".
  void say(std::string text, std::uint64_t local_id = 0, std::string to = {}, bool action = false);
  // Asks for another nick; everyone (this client too) gets ClientNick once it is done.
  void change_nick(std::string nick);
  // After ClientRejected: join again under another nick (messages still held go out).
  void rejoin_as(std::string nick);
  // Asks for the `limit` messages before message `before` (ClientHistory).
  void load_older(std::uint64_t before, std::size_t limit = proto::kDefaultHistoryPage);
  // Asks for the messages around a search hit (ClientHistory with `around` set).
  void show_context(std::uint64_t id, std::size_t each_side = 20);
  // Searches the room's history (ClientFound).
  void search(std::string text, std::size_t limit = proto::kDefaultSearchResults);
  // Says bye once everything queued is sent, then closes; ends with ClientClosed.
  void quit();
  // Closes at once without further events.
  void stop();
  // Emits a ClientSnapshot of the users (after the event queue overflowed).
  void emit_snapshot();

  InstanceId id() const { return events_.id(); }
  bool joined() const { return state_ == State::joined; }
  const ClientConfig& config() const { return config_; }

 private:
  enum class State { idle, connecting, handshaking, hello_sent, joined, waiting_nick, closed };
  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;
  struct Outgoing {
    std::uint64_t local_id = 0;
    std::string text;
    std::string to{};
    bool action = false;
  };

  Client(asio::io_context& io, ClientConfig config, EventQueue& events);
  void connect();
  void on_connected(const asio::error_code& ec, std::uint64_t gen);
  void start_tls(std::uint64_t gen);
  void on_handshake(const asio::error_code& ec, std::uint64_t gen);
  void send_hello(std::uint64_t gen);
  void identity_mismatch(const std::string& got);
  asio::ip::tcp::socket& socket();
  void read_more(std::uint64_t gen);
  bool on_line(std::string_view line);
  void handle(proto::ServerMessage& msg);
  void on_welcome(proto::Welcome& w);
  void on_refused(proto::Error& e);
  void send(std::string line);
  void write_next(std::uint64_t gen);
  void lost(const std::string& why);
  void close_socket();
  void finish_closed();
  void schedule_ping(std::uint64_t gen);
  void send_pending_and_maybe_bye();
  void fail_unsent(const std::string& why);
  void send_say(const Outgoing& o);
  // The member list of a large room, fetched page by page (see proto::MembersRequest):
  // after a partial welcome, or a summary that could not list its changes.
  void want_members();
  void request_members(std::uint64_t gen);
  void on_members(proto::MembersPage& page);
  // Requests in flight, by the `ref` they were sent with.
  struct Query {
    char kind = 'h';  // h: older history, c: context of a hit, f: search
    std::uint64_t around = 0;
    std::string text;
  };
  void query_failed(const Query& q, const std::string& why);
  void fail_queries(const std::string& why);

  asio::io_context& io_;
  ClientConfig config_;
  EventSink events_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;  // until TLS takes it over
  // This connection's TLS stream, which owns the socket; handlers hold it too, so it lives
  // until the last of its operations has finished.
  std::shared_ptr<TlsStream> tls_;
  std::string pinned_;       // the fingerprint this host must show
  bool plain_only_ = false;  // the host offers no TLS (and was never seen with it)
  asio::steady_timer connect_timer_;
  asio::steady_timer ping_timer_;
  asio::steady_timer retry_timer_;
  asio::steady_timer quit_timer_;
  asio::steady_timer members_timer_;
  LineFramer framer_;
  std::vector<char> read_buf_;
  std::deque<std::string> out_;
  std::deque<Outgoing> pending_;      // not sent yet (no link, or not joined yet)
  std::deque<Outgoing> unconfirmed_;  // sent, waiting for the server's echo
  std::vector<std::string> users_;
  // Fetching the member list: the pages so far, whether the list changed meanwhile (then
  // it is fetched again), and when the last fetch started (at most one each few seconds:
  // in a room of thousands a join storm would otherwise mean one fetch per summary).
  std::vector<std::string> fetched_;
  bool fetching_ = false;
  bool fetch_again_ = false;
  bool fetch_armed_ = false;
  std::chrono::steady_clock::time_point last_fetch_{};
  std::unordered_map<std::string, Query> queries_;
  std::uint64_t next_query_ = 0;
  State state_ = State::idle;
  std::uint64_t gen_ = 0;  // connection generation: handlers of an old socket ignore themselves
  bool writing_ = false;
  bool ever_joined_ = false;
  bool quit_requested_ = false;
  bool bye_sent_ = false;
  int attempt_ = 0;
  // What lets a reconnect continue where the last connection left off.
  std::string room_id_;
  std::uint64_t last_id_ = 0;  // highest message id seen in room_id_
  std::string reclaim_;        // from the last welcome: takes our nick back from a ghost
  std::uint64_t next_ping_id_ = 0;
  std::uint64_t ping_outstanding_ = 0;  // id of the unanswered ping, 0 if none
  std::chrono::steady_clock::time_point ping_sent_at_;
};

}  // namespace lanchat::net
