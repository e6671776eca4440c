#pragma once
// The joiner side of discovery: listens for announcements, asks who is there (at start and
// on refresh), keeps the list of rooms heard of and forgets those that said goodbye or
// missed three announcements. Emits the whole list (RoomsFound) whenever it changes. Lives
// on the thread running its io_context; nothing it does blocks.
#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/discovery.hpp"
#include "net/event_queue.hpp"
#include "net/interfaces.hpp"

namespace lanchat::net {

struct BrowserConfig {
  std::uint16_t port = discovery::kDefaultPort;
  std::size_t max_rooms = 256;  // a flood of made-up rooms stops here
  // Emitted lists are at most this often (a burst of answers makes one event).
  std::chrono::milliseconds coalesce{50};
  // Where queries go: the machine's LAN interfaces (a test over loopback passes none).
  std::function<std::vector<LanInterface>()> interfaces = lan_interfaces;
};

class Browser : public std::enable_shared_from_this<Browser> {
 public:
  static std::shared_ptr<Browser> create(asio::io_context& io, BrowserConfig config,
                                         EventQueue& events);
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  InstanceId id() const { return events_.id(); }
  // Opens the sockets and asks; call on the io_context's thread (or before it runs).
  void start();
  // Asks again (Refresh): every host answers at once.
  void query();
  void stop();

  // The list as of now (for `lanchat list`, on the io_context's thread).
  RoomsFound snapshot() const;

 private:
  Browser(asio::io_context& io, BrowserConfig config, EventQueue& events);
  using Socket = DatagramSocket;
  struct Entry {
    FoundRoom room;
    std::vector<std::string> sources;  // addresses heard from, v4 first
    std::string announced_address;     // the host's own word, when it listens on one
    std::chrono::steady_clock::time_point expires{};
  };
  void receive(Socket& s);
  void on_datagram(const Socket& s, std::size_t size);
  void changed();
  void sweep();
  void send_queries();

  BrowserConfig config_;
  EventSink events_;
  Socket listen_v4_, listen_v6_;  // the discovery port: announcements and goodbyes
  Socket ask_v4_, ask_v6_;        // ephemeral: queries out, answers back
  asio::steady_timer emit_timer_, sweep_timer_, again_timer_;
  std::vector<Entry> entries_;
  std::int64_t since_ = 0;
  std::size_t interfaces_ = 0;
  std::string problem_;
  std::uint64_t dropped_ = 0;
  int queries_left_ = 0;
  bool emit_armed_ = false;
  bool stopped_ = false;
};

}  // namespace lanchat::net
