#pragma once
// Test support: a raw protocol client on plain POSIX sockets (so server tests check the
// wire contract, not our own client), a server fixture on 127.0.0.1, and a child process
// runner for the CLI tests. Loopback only.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/client.hpp"
#include "net/net_thread.hpp"
#include "net/server.hpp"
#include "net/store.hpp"

namespace lanchat::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

class RawClient {
 public:
  explicit RawClient(std::uint16_t port, int rcvbuf = 0);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send_raw(std::string_view bytes);
  void send(const json& j) { send_raw(j.dump() + "\n"); }
  // Next complete line, or nothing on timeout / EOF.
  std::optional<std::string> recv_line(std::chrono::milliseconds timeout = 5s);
  // Next line parsed as JSON (fails the test if it is not).
  std::optional<json> recv(std::chrono::milliseconds timeout = 5s);
  // Skips lines until one of `type` arrives.
  std::optional<json> recv_type(const std::string& type, std::chrono::milliseconds timeout = 5s);
  // True if the server closed the connection (EOF) within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout = 5s);
  // True if nothing arrives for `quiet`.
  bool silent_for(std::chrono::milliseconds quiet);
  // hello + expect welcome; returns it.
  json join(const std::string& nick);
  void close_with_rst();
  void close();
  int fd() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

// A server on 127.0.0.1:<free port> running on its own net thread; with a store file, its
// room keeps its history there (opened as `lanchat host` opens it).
class TestServer {
 public:
  explicit TestServer(net::ServerConfig config = {},
                      std::optional<net::StoreOptions> store = std::nullopt);
  ~TestServer();
  std::uint16_t port() const { return port_; }
  net::EventQueue& events() { return events_; }
  // Drains the event queue into a list of log texts (and keeps every event seen).
  std::vector<std::string> log_lines();
  std::vector<net::Event>& seen();
  // Runs fn on the net thread and waits for it.
  void run_on_net(std::function<void()> fn);
  void stop(const std::string& reason);
  std::shared_ptr<net::Server> server() { return server_; }
  // Read on the net thread, which owns the server's state.
  std::size_t connections();
  std::size_t members();
  std::size_t queued();  // all connections' unsent bytes
  // Makes the server treat this client's connection as the host's own (the window's).
  void treat_as_host(const RawClient& c);

 private:
  void drain();
  net::EventQueue events_;
  net::NetThread net_;
  std::shared_ptr<net::Server> server_;
  std::uint16_t port_ = 0;
  std::vector<net::Event> seen_;
  bool stopped_ = false;
};

// A server config without the message and line rate limits, for tests that send fast.
net::ServerConfig without_rate_limits();

// A fresh folder under /tmp, removed with the object.
struct TempDir {
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

// Waits until pred() or the timeout.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s);

// Runs net::Client on its own net thread and collects its events.
class ClientHarness {
 public:
  explicit ClientHarness(net::ClientConfig cfg) {
    client_ = net::Client::create(net_.context(), std::move(cfg), events_);
    net_.post([c = client_] { c->start(); });
    net_.start();
  }
  ~ClientHarness() {
    net_.post([c = client_] { c->stop(); });
    net_.stop();
  }
  void say(std::string text, std::uint64_t local_id = 0) {
    net_.post(
        [c = client_, t = std::move(text), local_id]() mutable { c->say(std::move(t), local_id); });
  }
  void search(std::string text) {
    net_.post([c = client_, t = std::move(text)]() mutable { c->search(std::move(t)); });
  }
  void load_older(std::uint64_t before) {
    net_.post([c = client_, before] { c->load_older(before); });
  }
  void show_context(std::uint64_t id, std::size_t each_side) {
    net_.post([c = client_, id, each_side] { c->show_context(id, each_side); });
  }
  void rejoin_as(std::string nick) {
    net_.post([c = client_, n = std::move(nick)]() mutable { c->rejoin_as(std::move(n)); });
  }
  void quit() {
    net_.post([c = client_] { c->quit(); });
  }
  // Waits for an event of type T; returns it.
  template <class T>
  std::optional<T> wait_for(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (std::size_t i = seen_; i < all_.size(); ++i) {
        if (auto* e = std::get_if<T>(&all_[i].data)) {
          seen_ = i + 1;
          return *e;
        }
      }
      seen_ = all_.size();
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= 0s) return std::nullopt;
      net::Event ev;
      if (events_.wait_pop(ev, std::chrono::duration_cast<std::chrono::microseconds>(left))) {
        all_.push_back(std::move(ev));
      }
    }
  }

 private:
  net::EventQueue events_;
  net::NetThread net_;
  std::shared_ptr<net::Client> client_;
  std::vector<net::Event> all_;
  std::size_t seen_ = 0;
};

// A client config for 127.0.0.1:port.
inline net::ClientConfig config_for(std::uint16_t port, const std::string& nick) {
  net::ClientConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.nick = nick;
  return c;
}

// A server config with encryption: the host identity made (or reused) in data_dir.
net::ServerConfig with_tls(net::ServerConfig config, net::TlsMode mode,
                           const std::filesystem::path& data_dir);

}  // namespace lanchat::test
