#include "app/cli.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "net/address.hpp"
#include "net/discovery.hpp"
#include "net/protocol.hpp"
#include "net/tls.hpp"

namespace lanchat::app {

std::variant<Options, int> parse_cli(int argc, char** argv) {
  Options o;
  CLI::App app{"lanchat: chat on your local network. Run without arguments to open the window."};
  app.set_version_flag("--version",
                       std::string("lanchat ") + net::discovery::kLanchatVersion + " (protocol 1)");
  bool no_discovery = false;
  app.add_flag("--no-discovery", no_discovery,
               "stay off the LAN's discovery: a host does not announce its room, the Join tab "
               "does not look for rooms");
  app.add_option("--screenshot", o.screenshot, "write a PNG of the window once it has settled");
  app.add_flag("--exit-after-screenshot", o.exit_after_screenshot,
               "quit once the screenshot is written");
  app.add_option("--test-report", o.test_report, "write widget positions (for UI tests)");
  app.add_option("--bench-report", o.bench_report,
                 "on each SIGUSR2, time a run of frames and write them and the "
                 "event-to-screen delays to this file (for bench/run)");

  std::string port_text = "5555";
  auto* host = app.add_subcommand("host", "serve a chat room (and chat in it from the window)");
  host->add_option("--bind", o.host.bind, "address to listen on")->capture_default_str();
  host->add_option("--port", port_text, "TCP port; 0 picks a free one")->capture_default_str();
  host->add_option("--name", o.host.room, "room name shown to everyone")->capture_default_str();
  host->add_option("--nick", o.host.nick, "your nick in the window");
  host->add_option("--password", o.host.password, "room password (empty: none)");
  host->add_flag("--headless", o.headless, "serve without a window; log to stdout");
  host->add_option("--max-msg-rate", o.host.max_msg_rate,
                   "messages per second one connection may send, sustained (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  host->add_option("--max-msg-burst", o.host.max_msg_burst,
                   "messages one connection may send at once (0: no limit)")
      ->capture_default_str();
  host->add_option("--max-clients", o.host.max_clients, "connections at once (0: no limit)")
      ->capture_default_str();
  host->add_option("--dead-peer-timeout", o.host.dead_peer_timeout,
                   "seconds after which a silent, vanished peer is dropped (TCP keepalive; "
                   "0: never)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  host->add_option("--max-backlog-kib", o.host.max_backlog_kib,
                   "KiB waiting for one reader before it is dropped as too slow")
      ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 20))
      ->capture_default_str();
  host->add_option("--max-per-ip", o.host.max_per_ip,
                   "connections at once from one address (0: no limit)")
      ->capture_default_str();
  host->add_option("--max-line-rate", o.host.max_line_rate,
                   "lines per second one connection may send, whatever they are, with bursts "
                   "of 4 seconds' worth (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  host->add_option("--max-unjoined-per-ip", o.host.max_unjoined_per_ip,
                   "connections from one address that have not joined yet (0: no limit)")
      ->capture_default_str();
  host->add_option("--hello-timeout", o.host.hello_timeout,
                   "seconds a connection has to join before it is closed (0: no limit)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  host->add_option("--large-room", o.host.large_room,
                   "members from which the room is large: clients that can take summaries "
                   "hear of joins and leaves ten times a second instead of one by one (0: never)")
      ->capture_default_str();
  host->add_option("--write-gap-ms", o.host.write_gap_ms,
                   "in a busy room of 100 or more, lines wait up to this long to reach each "
                   "member together in one write (0: every line written at once)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  host->add_option("--max-memory-mib", o.host.max_memory_mib,
                   "MiB of unsent output for all connections together; past it the largest "
                   "backlogs are dropped (0: no limit)")
      ->capture_default_str();

  std::string tls_text = "on";
  host->add_option("--tls", tls_text,
                   "encryption: on (TLS and plain JSON on the same port), required (TLS only) "
                   "or off; a room with a password is `required` unless "
                   "--allow-plaintext-password")
      ->check(CLI::IsMember({"off", "on", "required"}))
      ->capture_default_str();
  host->add_flag("--allow-plaintext-password", o.host.allow_plaintext_password,
                 "let clients send the room password over plain connections (anyone on the "
                 "network can read it)");
  std::string data_dir;
  host->add_option("--data-dir", data_dir,
                   "where rooms keep their history (default: $XDG_DATA_HOME/lanchat, i.e. "
                   "~/.local/share/lanchat); each room in DIR/rooms/ROOM.sqlite3");
  host->add_flag("--no-store", o.host.store.no_store,
                 "keep history in memory only: it is gone when the server stops");
  host->add_option("--keep-days", o.host.store.keep_days,
                   "forget messages older than this many days (0: keep them all)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  host->add_option("--keep-messages", o.host.store.keep_messages,
                   "keep at most this many messages, the newest (0: all; a --no-store room keeps "
                   "100,000)")
      ->capture_default_str();

  bool no_announce = false;
  host->add_flag("--no-announce", no_announce,
                 "do not announce the room on the LAN (people join by typing the address)");
  std::string announce_port_text = "5555";
  host->add_option("--announce-port", announce_port_text,
                   "UDP port for announcing the room (every lanchat that should see it must "
                   "use the same)")
      ->capture_default_str();

  auto* list = app.add_subcommand(
      "list",
      "list the rooms announced on the LAN (one per line) and exit; exit 0 even when "
      "none is found");
  list->add_option("--timeout", o.list.timeout, "seconds to listen for answers")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  list->add_flag("--json", o.list.json,
                 "one JSON object per line: room, address, port, users, password, tls, "
                 "tls_fingerprint, version, proto, instance, seen_ms_ago");
  list->add_flag("--watch", o.list.watch,
                 "then keep listening and print each room that appears, changes or goes (with "
                 "--json, each line gains \"event\": found, changed or gone) until interrupted");
  std::string list_port_text = "5555";
  list->add_option("--port", list_port_text, "UDP port the hosts announce on")
      ->capture_default_str();

  std::string target;
  auto* join = app.add_subcommand("join", "join a room");
  join->add_option("target", target, "HOST[:PORT] of the server")->required();
  join->add_option("--nick", o.join.nick, "your nick")->required();
  join->add_option("--password", o.join.password, "room password");
  std::string fingerprint_text;
  join->add_option("--fingerprint", fingerprint_text,
                   "the host identity's SHA-256 fingerprint (as its log or panel shows it): "
                   "trust only that host");
  join->add_flag("--plaintext", o.join.plaintext,
                 "connect without encryption, on purpose (the password too crosses in clear)");
  join->add_flag("--headless", o.headless,
                 "line mode: each stdin line is said; events print to stdout");
  host->fallthrough();  // --screenshot etc. may follow the subcommand
  join->fallthrough();
  list->fallthrough();
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto usage_error = [](const std::string& msg) {
    std::cerr << "lanchat: " << msg << "\n";
    return 2;
  };
  o.discovery = !no_discovery;
  if (no_discovery) o.host.announce = false;
  if (host->parsed()) {
    o.mode = Mode::host;
    auto port = net::parse_port(port_text, /*allow_zero=*/true);
    if (auto* e = std::get_if<std::string>(&port)) return usage_error(*e);
    o.host.port = std::get<std::uint16_t>(port);
    o.host.store.data_dir = data_dir;
    o.host.tls = *net::parse_tls_mode(tls_text);
    auto announce_port = net::parse_port(announce_port_text, false);
    if (auto* e = std::get_if<std::string>(&announce_port)) {
      return usage_error("bad --announce-port: " + *e);
    }
    o.host.announce_port = std::get<std::uint16_t>(announce_port);
    o.discovery_port = o.host.announce_port;
    o.host.announce = !no_announce && !no_discovery;
    if (o.host.tls == net::TlsMode::off && !o.host.password.empty() &&
        !o.host.allow_plaintext_password) {
      return usage_error(
          "--password with --tls off would send the password in clear text for anyone on "
          "the network to read; use --tls on, or add --allow-plaintext-password if you mean it");
    }
    if (!o.host.nick.empty()) {
      if (auto why = proto::check_nick(o.host.nick)) return usage_error("bad --nick: " + *why);
    }
  } else if (join->parsed()) {
    o.mode = Mode::join;
    auto hp = net::parse_host_port(target, proto::kDefaultPort);
    if (auto* e = std::get_if<std::string>(&hp)) return usage_error(*e);
    o.join.host = std::get<net::HostPort>(hp).host;
    o.join.port = std::get<net::HostPort>(hp).port;
    if (auto why = proto::check_nick(o.join.nick)) return usage_error("bad --nick: " + *why);
    if (!fingerprint_text.empty()) {
      auto fp = net::parse_fingerprint(fingerprint_text);
      if (!fp) {
        return usage_error(
            "bad --fingerprint: expected the 64 hex digits of a SHA-256 "
            "fingerprint (spaces and colons are fine)");
      }
      if (o.join.plaintext)
        return usage_error("--fingerprint and --plaintext contradict each other");
      o.join.fingerprint = *fp;
    }
  } else if (list->parsed()) {
    o.mode = Mode::list;
    auto port = net::parse_port(list_port_text, false);
    if (auto* e = std::get_if<std::string>(&port)) return usage_error("bad --port: " + *e);
    o.list.port = std::get<std::uint16_t>(port);
  } else if (o.headless) {
    return usage_error("--headless goes with `host` or `join`");
  }
  return o;
}

net::ServerConfig server_config(const HostOptions& o) {
  net::ServerConfig config;
  config.bind_address = o.bind;
  config.port = o.port;
  config.room = o.room;
  config.password = o.password;
  config.max_msg_rate = o.max_msg_rate;
  config.max_msg_burst = o.max_msg_burst;
  config.max_clients = o.max_clients;
  config.max_per_ip = o.max_per_ip;
  net::apply_dead_peer_timeout(config, o.dead_peer_timeout);
  config.max_backlog_bytes = o.max_backlog_kib * 1024;
  config.max_line_rate = o.max_line_rate;
  config.max_unjoined_per_ip = o.max_unjoined_per_ip;
  config.hello_timeout = std::chrono::seconds(o.hello_timeout);
  config.max_memory_bytes = o.max_memory_mib << 20;
  config.large_room = o.large_room;
  config.write_gap = std::chrono::milliseconds(o.write_gap_ms);
  config.tls.mode = o.tls;
  config.allow_plaintext_password = o.allow_plaintext_password;
  config.announce.enabled = o.announce;
  config.announce.port = o.announce_port;
  return config;
}

}  // namespace lanchat::app
