// `lanchat host --headless`: the server with its event log on stdout.
#include <csignal>
#include <iostream>

#include "app/cli.hpp"
#include "app/console.hpp"
#include "app/headless.hpp"
#include "app/stop_signals.hpp"
#include "net/endpoint.hpp"
#include "net/net_thread.hpp"
#include "net/server.hpp"
#include "net/store.hpp"

namespace lanchat::app {

int run_headless_host(const HostOptions& options) {
  net::raise_fd_limit();
  net::EventQueue events;
  net::NetThread net;
  // Before the store starts its threads: they must inherit the signals' block.
  const auto signals = StopSignals::block();
  if (!signals) return kExitStartup;

  net::ServerConfig config = server_config(options);
  // The store and the host identity are opened here, before the net thread runs: they read
  // (and may write) the disk.
  std::shared_ptr<net::Store> store;
  net::StoreContents contents;
  net::StoreOptions store_options = net::store_options(options.store, options.room);
  bool said_waiting = false;
  store_options.keep_waiting = [&](long holder) {
    if (!said_waiting) {
      said_waiting = true;
      std::cerr << "lanchat: waiting for another lanchat host"
                << (holder > 0 ? " (process " + std::to_string(holder) + ")" : std::string())
                << " to let go of this room's history\n";
    }
    return !signals->pending();
  };
  try {
    store = net::Store::open(store_options, contents);
  } catch (const net::StoreCancelled&) {
    std::cerr << "lanchat: stopped before the server started\n";
    return 0;  // what was asked for: Ctrl-C or SIGTERM ends a host with 0
  } catch (const net::StoreError& e) {
    std::cerr << "lanchat: " << e.what() << "\n";
    return kExitStartup;
  }
  try {
    net::prepare_tls(
        config, options.store.data_dir.empty() ? net::default_data_dir() : options.store.data_dir);
  } catch (const net::TlsError& e) {
    std::cerr << "lanchat: " << e.what()
              << "\nlanchat: the host identity (for encryption) is kept in the data folder; "
                 "choose another with --data-dir, or serve without encryption with --tls off\n";
    return kExitStartup;
  }
  auto server = net::Server::create(net.context(), config, events);
  server->attach_store(store, std::move(contents));
  if (auto error = server->start()) {
    std::cerr << "lanchat: " << *error << "\n";
    return kExitStartup;
  }
  signals->watch(net.context(), [&](int sig) {
    server->stop(sig == SIGINT ? "the server was interrupted" : "the server is shutting down");
  });
  // Scripts wait for this exact first line (and read the real port from it with --port 0),
  // so it comes only once a signal can no longer kill us uncleanly.
  std::cout << "listening on " << net::to_string(server->local_endpoint()) << std::endl;
  net.start([&events](const char* what) {
    events.push(net::ServerLog{net::now_ms(), net::LogLevel::error,
                               std::string("internal error (recovered): ") + what});
  });

  bool stopped = false;
  while (!stopped) {
    net::Event ev;
    if (!events.wait_pop(ev, std::chrono::milliseconds(500))) continue;
    do {
      if (auto* log = std::get_if<net::ServerLog>(&ev.data)) {
        std::cout << format_log(*log) << '\n';
      } else if (auto* d = std::get_if<net::EventsDropped>(&ev.data); d && d->log > 0) {
        std::cout << format_log({net::now_ms(), net::LogLevel::warn,
                                 std::to_string(d->log) + " log lines were dropped (stdout "
                                                          "could not keep up)"})
                  << '\n';
      } else if (std::holds_alternative<net::ServerStopped>(ev.data)) {
        stopped = true;
      }
    } while (events.try_pop(ev));
    std::cout.flush();
  }
  net.post([&signals] { signals->cancel(); });
  net.stop();
  server.reset();
  store.reset();  // everything was written before ServerStopped; this only ends its threads
  return kExitOk;
}

}  // namespace lanchat::app
