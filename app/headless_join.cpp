// `lanchat join HOST --nick N --headless`: a line client for scripts and terminals.
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "app/console.hpp"
#include "app/headless.hpp"
#include "app/stop_signals.hpp"
#include "net/client.hpp"
#include "net/commands.hpp"
#include "net/known_hosts.hpp"
#include "net/net_thread.hpp"
#include "net/tls.hpp"

namespace lanchat::app {

namespace {

constexpr std::size_t kMaxStdinLine = 1 << 20;

// Reads stdin in its own thread (a terminal, a pipe or a file all work with poll) and
// hands each line to the client on the net thread; EOF asks the client to quit.
void read_stdin(net::NetThread& net, const std::shared_ptr<net::Client>& client,
                const std::atomic<bool>& stop) {
  std::string pending;
  bool overlong = false;
  char buf[4096];
  auto say = [&](std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) return;  // skip blank lines
    // The window's commands work here too: /me, /msg NICK, /nick (moderation is the host's).
    net::Command command = net::parse_command(line);
    std::visit(
        [&](auto& c) {
          using T = std::decay_t<decltype(c)>;
          namespace cmd = net::command;
          if constexpr (std::is_same_v<T, cmd::Say>) {
            net.post([client, c = std::move(c)]() mutable {
              client->say(std::move(c.text), 0, std::move(c.to), c.action);
            });
          } else if constexpr (std::is_same_v<T, cmd::Nick>) {
            net.post(
                [client, n = std::move(c.nick)]() mutable { client->change_nick(std::move(n)); });
          } else if constexpr (std::is_same_v<T, cmd::Help>) {
            std::cerr << net::command_help() << "\n";
          } else if constexpr (std::is_same_v<T, cmd::Invalid>) {
            std::cerr << "lanchat: " << c.message << "\n";
          } else {
            std::cerr << "lanchat: only the host can do that, from its window\n";
          }
        },
        command);
  };
  while (!stop.load()) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int r = ::poll(&p, 1, 100);
    if (r == 0) continue;
    if (r < 0 && errno == EINTR) continue;
    const ssize_t n = r < 0 ? 0 : ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        if (overlong) {
          std::cerr << "lanchat: input line too long, not sent\n";
        } else {
          say(std::move(pending));
        }
        pending.clear();
        overlong = false;
      } else if (!overlong) {
        pending += buf[i];
        if (pending.size() > kMaxStdinLine) {
          overlong = true;
          pending.clear();
        }
      }
    }
  }
  if (!pending.empty() && !overlong) say(std::move(pending));
  net.post([client] { client->quit(); });
}

}  // namespace

int run_headless_join(const JoinOptions& options) {
  net::EventQueue events;
  net::NetThread net;
  // Ctrl-C leaves as the end of input does, with a bye: the room reads that you left, not
  // that your connection dropped. Before any thread starts, so that all inherit the block.
  const auto signals = StopSignals::block();
  if (!signals) return kExitStartup;
  net::ClientConfig config;
  config.host = options.host;
  config.port = options.port;
  config.nick = options.nick;
  config.password = options.password;
  config.member_list = false;  // a large room's count is printed, never its whole list
  // Encrypted unless --plaintext, pinned to --fingerprint or to what known_hosts says.
  net::KnownHosts known(net::KnownHosts::default_path());
  const std::string key = net::KnownHosts::key(options.host, options.port);
  if (!options.plaintext) {
    try {
      config.tls = net::TlsContext::client();
      config.fingerprint = options.fingerprint;
      if (config.fingerprint.empty()) config.fingerprint = known.find(key).value_or("");
    } catch (const std::exception& e) {
      std::cerr << "lanchat: " << e.what() << "\n";
      return kExitStartup;
    }
  }
  auto client = net::Client::create(net.context(), config, events);
  signals->watch(net.context(), [client](int) { client->quit(); });
  net.post([client] { client->start(); });
  net.start();

  std::atomic<bool> stop_reading{false};
  std::thread reader([&] { read_stdin(net, client, stop_reading); });

  int exit_code = -1;
  while (exit_code < 0) {
    net::Event ev;
    if (!events.wait_pop(ev, std::chrono::milliseconds(500))) continue;
    do {
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, net::ClientWelcome>) {
              if (e.rejoined && !e.same_room) {
                std::cout << "[" << clock_time(net::now_ms())
                          << "] * the server restarted; messages from before may be missing\n";
              } else if (e.rejoined && !e.welcome.history.empty()) {
                std::cout << "[" << clock_time(net::now_ms()) << "] * " << e.welcome.history.size()
                          << " messages sent while you were away:\n";
              }
              for (const auto& m : e.welcome.history) std::cout << format_chat(m) << '\n';
              std::string users;
              for (const auto& u : e.welcome.users) users += (users.empty() ? "" : ", ") + u;
              const std::size_t listed = e.welcome.users.size();
              const std::size_t online = e.welcome.members.value_or(listed);
              // A large room's welcome lists only the first members.
              const std::string which =
                  online > listed ? "; the first " + std::to_string(listed) + ": " : ": ";
              std::cout << "[" << clock_time(net::now_ms()) << "] * you joined "
                        << printable(e.welcome.server) << " as " << printable(e.welcome.nick)
                        << " (" << online << " online" << which << printable(users) << ")\n";
            } else if constexpr (std::is_same_v<T, net::ClientChat>) {
              std::cout << format_chat(e.msg) << '\n';
            } else if constexpr (std::is_same_v<T, net::ClientJoin>) {
              std::cout << "[" << clock_time(e.join.ts) << "] * " << printable(e.join.nick)
                        << " joined\n";
            } else if constexpr (std::is_same_v<T, net::ClientLeave>) {
              std::cout << "[" << clock_time(e.leave.ts) << "] * " << printable(e.leave.nick)
                        << " left (" << printable(e.leave.reason)
                        << (e.leave.message.empty() ? "" : ": " + printable(e.leave.message))
                        << ")\n";
            } else if constexpr (std::is_same_v<T, net::ClientPresence>) {
              std::cout << "[" << clock_time(e.presence.ts) << "] * "
                        << printable(net::describe_presence(e.presence)) << "\n";
            } else if constexpr (std::is_same_v<T, net::ClientNick>) {
              std::cout << "[" << clock_time(e.change.ts) << "] * " << printable(e.change.old_nick)
                        << " is now known as " << printable(e.change.new_nick) << "\n";
            } else if constexpr (std::is_same_v<T, net::ClientNotice>) {
              std::cout << "[" << clock_time(e.notice.ts) << "] * " << printable(e.notice.text)
                        << "\n";
            } else if constexpr (std::is_same_v<T, net::ClientKicked>) {
              std::cout.flush();
              std::cerr << "lanchat: the host removed you from the room"
                        << (e.message.empty() ? "" : ": " + printable(e.message)) << '\n';
              exit_code = kExitShutdown;
            } else if constexpr (std::is_same_v<T, net::ClientSayFailed>) {
              std::cerr << "lanchat: " << printable(e.error.message) << ": " << printable(e.text)
                        << '\n';
            } else if constexpr (std::is_same_v<T, net::ClientServerError>) {
              std::cerr << "lanchat: " << printable(e.error.code) << ": "
                        << printable(e.error.message) << '\n';
            } else if constexpr (std::is_same_v<T, net::ClientRejected>) {
              std::cerr << "lanchat: cannot join: " << printable(e.error.message) << " ("
                        << printable(e.error.code) << ")\n";
              exit_code = kExitRefused;
            } else if constexpr (std::is_same_v<T, net::ClientShutdown>) {
              std::cout.flush();
              std::cerr << "lanchat: the server shut down"
                        << (e.reason.empty() ? "" : ": " + printable(e.reason)) << '\n';
              exit_code = kExitShutdown;
            } else if constexpr (std::is_same_v<T, net::ClientDisconnected>) {
              std::cout.flush();
              std::cerr << "lanchat: " << printable(e.error) << '\n';
              exit_code = e.was_joined ? kExitLost : kExitRefused;
            } else if constexpr (std::is_same_v<T, net::ClientClosed>) {
              exit_code = kExitOk;
            } else if constexpr (std::is_same_v<T, net::ClientSecured>) {
              if (e.first_contact) {
                // As ssh does: say that a new host is now trusted, and where that is kept.
                try {
                  known.remember(key, e.fingerprint);
                  std::cerr << "lanchat: " << key << " is new here; trusting its identity "
                            << net::grouped_fingerprint(e.fingerprint) << " from now on (kept in "
                            << known.file().string() << ")\n";
                } catch (const std::exception& x) {
                  std::cerr << "lanchat: " << x.what() << " (the identity is trusted for this "
                            << "session only)\n";
                }
              }
            } else if constexpr (std::is_same_v<T, net::ClientIdentityMismatch>) {
              std::cout.flush();
              std::cerr << "lanchat: " << e.message << "\n"
                        << "lanchat: to trust the new identity once the host has confirmed it, "
                        << (e.got.empty()
                                ? "join with --plaintext"
                                : "join with --fingerprint " + e.got + ", or remove the line for " +
                                      key + " from " + known.file().string())
                        << "\n";
              exit_code = kExitIdentity;
            }
          },
          ev.data);
    } while (exit_code < 0 && events.try_pop(ev));
    std::cout.flush();
  }
  stop_reading = true;
  reader.join();
  net.post([client, &signals] {
    client->stop();
    signals->cancel();
  });
  net.stop();
  return exit_code;
}

}  // namespace lanchat::app
