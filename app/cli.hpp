#pragma once
// Command-line options. Parsing is separate from running so the launcher and the window
// can start from the same values.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "net/server.hpp"
#include "net/store.hpp"

namespace lanchat::app {

struct HostOptions {
  std::string bind = "0.0.0.0";
  std::uint16_t port = 5555;
  std::string room = "lanchat";
  std::string nick;  // the host's own nick in the window
  std::string password;
  double max_msg_rate = 10;
  std::size_t max_msg_burst = 30;
  std::size_t max_clients = 10000;
  std::size_t max_per_ip = 256;
  int dead_peer_timeout = 55;          // seconds until a vanished peer is dropped (keepalive)
  std::size_t max_backlog_kib = 8192;  // unread output before a connection is too_slow
  double max_line_rate = 50;           // inbound lines per second per connection
  std::size_t max_unjoined_per_ip = 64;
  int hello_timeout = 60;             // seconds to say hello
  std::size_t max_memory_mib = 1024;  // all connections' unsent output together
  std::size_t large_room = 500;       // members from which joins and leaves are summarized
  int write_gap_ms = 10;              // spacing of large write passes (net::WritePacer)
  net::StoreSettings store;           // where history is kept, and for how long
  // Encryption as asked for; a room with a password is `required` unless
  // allow_plaintext_password (net::ServerConfig).
  net::TlsMode tls = net::TlsMode::on;
  bool allow_plaintext_password = false;
  // Announce the room on the LAN (UDP broadcast and IPv6 multicast) so Join lists it.
  bool announce = true;
  std::uint16_t announce_port = 5555;
};

struct JoinOptions {
  std::string host;
  std::uint16_t port = 5555;
  std::string nick;
  std::string password;
  std::string fingerprint;  // pinned ahead of time (hex); empty: known_hosts, or first use
  bool plaintext = false;   // no TLS, on purpose
};

// `lanchat list`: the rooms announced on the LAN, for scripts.
struct ListOptions {
  double timeout = 1.5;  // seconds to listen
  bool json = false;
  std::uint16_t port = 5555;
  // After the first list, keep listening and print each room that appears, changes or goes
  // (with --json, each line has "event": found, changed or gone) until interrupted.
  bool watch = false;
};

enum class Mode { launcher, host, join, list };

struct Options {
  Mode mode = Mode::launcher;
  bool headless = false;
  HostOptions host;
  JoinOptions join;
  ListOptions list;
  // The window's Join tab looks for rooms on the LAN (off: --no-discovery).
  bool discovery = true;
  std::uint16_t discovery_port = 5555;
  std::string screenshot;  // window: write a PNG after the first frames, then go on
  bool exit_after_screenshot = false;
  std::string test_report;   // window: write widget rectangles for UI tests
  std::string bench_report;  // window: frame and event-to-screen figures on SIGUSR2
};

// The server settings these options ask for; the headless host and the window share it.
net::ServerConfig server_config(const HostOptions& o);

// Returns the options, or an exit code when parsing ended the program (help, error).
std::variant<Options, int> parse_cli(int argc, char** argv);

}  // namespace lanchat::app
