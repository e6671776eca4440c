// `lanchat list`: asks the LAN which rooms are there, listens for --timeout seconds and
// prints what answered, one room per line (or one JSON object per line with --json). With
// --watch it goes on printing each room that appears, changes or goes.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "app/headless.hpp"
#include "net/address.hpp"
#include "net/browser.hpp"
#include "net/fingerprint.hpp"

namespace lanchat::app {

namespace {

void print_room(const net::FoundRoom& r, const ListOptions& options, const char* event) {
  if (options.json) {
    nlohmann::ordered_json j;
    if (event != nullptr) j["event"] = event;
    j["room"] = r.room;
    j["address"] = r.address;
    j["port"] = r.port;
    j["users"] = r.users;
    j["password"] = r.password;
    j["tls"] = net::to_string(r.tls);
    j["tls_fingerprint"] = r.fingerprint.empty() ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json(r.fingerprint);
    j["version"] = r.version;
    j["proto"] = r.proto;
    j["instance"] = r.instance;
    j["seen_ms_ago"] = std::max<std::int64_t>(0, net::now_ms() - r.seen);
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return;
  }
  if (event != nullptr) std::cout << std::left << std::setw(8) << event;
  std::cout << std::left << std::setw(24) << r.room << "  " << std::setw(22)
            << net::host_port_text(r.address, r.port) << "  " << r.users
            << (r.users == 1 ? " person " : " people ") << (r.password ? " password" : " open    ")
            << "  "
            << (r.tls == net::TlsMode::off ? std::string("not encrypted")
                                           : "encrypted " + net::short_fingerprint(r.fingerprint))
            << "  lanchat " << r.version << '\n';
}

// Prints what changed between two lists; returns the new one by instance.
std::map<std::string, net::FoundRoom> print_changes(
    const std::map<std::string, net::FoundRoom>& before, const net::RoomsFound& now,
    const ListOptions& options) {
  std::map<std::string, net::FoundRoom> after;
  for (const auto& r : now.rooms) after.emplace(r.instance, r);
  for (const auto& [id, r] : before) {
    if (!after.contains(id)) print_room(r, options, "gone");
  }
  for (const auto& r : now.rooms) {
    auto it = before.find(r.instance);
    if (it == before.end()) {
      print_room(r, options, "found");
    } else if (!net::same_listing(it->second, r)) {
      print_room(r, options, "changed");
    }
  }
  std::cout.flush();
  return after;
}

}  // namespace

int run_list(const ListOptions& options) {
  asio::io_context io;
  net::EventQueue events;
  net::BrowserConfig config;
  config.port = options.port;
  auto browser = net::Browser::create(io, config, events);
  browser->start();
  io.run_for(std::chrono::milliseconds(static_cast<long>(options.timeout * 1000)));
  const net::RoomsFound found = browser->snapshot();
  for (const net::FoundRoom& r : found.rooms) print_room(r, options, nullptr);
  std::cout.flush();
  if (found.rooms.empty()) {
    std::cerr << "lanchat: no rooms answered within " << options.timeout << " s";
    if (!found.problem.empty()) std::cerr << " (" << found.problem << ")";
    std::cerr << ".\nThat usually means the host is on another subnet (announcements do not "
                 "cross routers), a firewall drops UDP port "
              << options.port
              << ", or the host was started with --no-announce. Join by address instead: "
                 "lanchat join HOST:PORT --nick NAME\n";
  } else if (!found.problem.empty()) {
    std::cerr << "lanchat: " << found.problem << "\n";
  }
  if (options.watch) {
    std::map<std::string, net::FoundRoom> shown;
    for (const auto& r : found.rooms) shown.emplace(r.instance, r);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    bool interrupted = false;
    signals.async_wait([&](const asio::error_code& ec, int) {
      if (!ec) interrupted = true;
    });
    while (!interrupted && !io.stopped()) {
      io.run_for(std::chrono::milliseconds(100));
      net::Event e;
      std::optional<net::RoomsFound> latest;
      while (events.try_pop(e)) {
        if (auto* f = std::get_if<net::RoomsFound>(&e.data)) latest = std::move(*f);
      }
      if (latest) shown = print_changes(shown, *latest, options);
    }
  }
  browser->stop();
  return kExitOk;
}

}  // namespace lanchat::app
