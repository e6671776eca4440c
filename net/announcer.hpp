#pragma once
// The host side of discovery: announces a room on every LAN interface at start, every few
// seconds and at once to anyone who asks (rate-limited, so no one can use it to flood a
// third party), and says goodbye when it stops. Lives on the net thread; every socket
// operation is asynchronous, so a flood of datagrams costs the thread only their parsing.
#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "net/budget.hpp"
#include "net/discovery.hpp"
#include "net/events.hpp"
#include "net/interfaces.hpp"

namespace lanchat::net {

struct AnnounceConfig {
  // Off unless asked for: a library user (and every test) stays off the LAN by default.
  bool enabled = false;
  std::uint16_t port = discovery::kDefaultPort;
  std::chrono::milliseconds interval{3000};
  // Answers to queries: to one asker, and in all.
  double answers_per_source = 2.0;  // per second, bursts of 4
  double answers_total = 50.0;      // per second, bursts of 100
};

class Announcer : public std::enable_shared_from_this<Announcer> {
 public:
  // describe: the announcement as of now (called on the net thread, before each send).
  using Describe = std::function<discovery::Announce()>;
  using Log = std::function<void(LogLevel, std::string)>;

  static std::shared_ptr<Announcer> create(asio::io_context& io, AnnounceConfig config,
                                           Describe describe, Log log);
  Announcer(const Announcer&) = delete;
  Announcer& operator=(const Announcer&) = delete;

  // listening: the TCP address the server is bound to (announced on the interface that
  // holds it, or on all for 0.0.0.0 / ::). Problems are logged, never fatal: the room
  // can still be joined by address.
  void start(const asio::ip::address& listening);
  // Goodbye to everyone, then close.
  void stop();

  struct Stats {
    std::uint64_t sent = 0;
    std::uint64_t answered = 0;
    std::uint64_t unanswered = 0;  // queries over the rate limit
    std::uint64_t malformed = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  Announcer(asio::io_context& io, AnnounceConfig config, Describe describe, Log log);
  using Socket = DatagramSocket;
  void receive(Socket& s);
  void on_datagram(Socket& s, std::size_t size);
  std::string announcement();  // the room as of now, encoded
  void tick();
  void send_all(const std::string& datagram);
  bool may_answer(const asio::ip::address& to);
  void report_drops();

  asio::io_context& io_;
  AnnounceConfig config_;
  Describe describe_;
  Log log_;
  Socket v4_;
  Socket v6_;
  asio::steady_timer timer_;
  asio::ip::address listening_;
  std::string instance_;
  std::string last_description_;
  int ticks_ = 0;
  bool stopped_ = false;
  TokenBucket total_;
  std::unordered_map<std::string, TokenBucket> per_source_;
  Stats stats_;
  Stats reported_;
  std::chrono::steady_clock::time_point last_report_{};
};

}  // namespace lanchat::net
