// Soak and fault load for a lanchat server on 127.0.0.1: steady members, churners that
// leave by bye, FIN or RST, slow readers that never read, and flooders, all at once, for a
// fixed time. Steady members stay throughout and must see every message id exactly once
// and without gaps (ids are global, so a gap is a lost message). Prints one JSON report.
//
//   lanchat_soak --port P --server-pid PID [--clients 1000] [--seconds 60]
#include <asio.hpp>
#include <array>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "net/line_framer.hpp"
#include "net/net_thread.hpp"
#include "net/protocol.hpp"

using asio::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

enum class Role { steady, churner, slow, flooder };

struct Stats {
  std::uint64_t connections = 0, joins = 0, byes = 0, fins = 0, rsts = 0;
  std::uint64_t steady_sent = 0, flood_sent = 0, rate_limited = 0, too_slow_leaves = 0;
  std::uint64_t timeout_leaves = 0, errors_other = 0, connect_failures = 0;
  std::uint64_t lost = 0, duplicates = 0, out_of_order = 0, received = 0;
};

struct World {
  asio::io_context io;
  tcp::endpoint server;
  Stats stats;
  std::mt19937 rng{12345};
  bool stopping = false;
  std::map<std::string, int> connect_errors;
  int rand(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(World& w, Role role, int index)
      : w_(w), role_(role), index_(index), socket_(w.io), timer_(w.io), framer_(lanchat::proto::kMaxServerLineBytes) {}

  void start() { connect(); }

  void stop() {
    asio::error_code ec;
    timer_.cancel();
    socket_.close(ec);
  }

  // Steady members' view of the message stream.
  std::uint64_t first_id = 0, last_id = 0;

 private:
  std::string nick() const {
    static const char* kPrefix[] = {"steady", "churn", "slow", "flood"};
    return std::string(kPrefix[static_cast<int>(role_)]) + std::to_string(index_) + "_" +
           std::to_string(generation_);
  }

  void connect() {
    if (w_.stopping) return;
    socket_ = tcp::socket(w_.io);
    framer_ = lanchat::net::LineFramer(lanchat::proto::kMaxServerLineBytes);
    joined_ = false;
    ++generation_;
    socket_.open(tcp::v4());
    if (role_ == Role::slow) {
      int small = 4096;
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    socket_.async_connect(w_.server, [self = shared_from_this()](const asio::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;  // we closed it ourselves
      if (ec) {
        ++self->w_.stats.connect_failures;
        self->w_.connect_errors[ec.message()]++;
        self->later(500ms, [self] { self->connect(); });
        return;
      }
      ++self->w_.stats.connections;
      asio::error_code ignored;
      self->socket_.set_option(tcp::no_delay(true), ignored);
      self->send(lanchat::proto::encode(lanchat::proto::Hello{self->nick(), 1, std::nullopt}));
      if (self->role_ != Role::slow) self->read();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this(), gen = generation_](
                                                    const asio::error_code& ec, std::size_t n) {
      if (gen != self->generation_) return;
      if (ec) {
        self->on_closed();
        return;
      }
      self->framer_.feed(
          std::string_view(self->buf_.data(), n),
          [&](std::string_view line) {
            self->on_line(line);
            return true;
          },
          [] { return true; });
      self->read();
    });
  }

  void on_line(std::string_view line) {
    auto d = lanchat::proto::decode_server(line);
    auto* m = std::get_if<lanchat::proto::ServerMessage>(&d);
    if (m == nullptr) return;
    if (std::holds_alternative<lanchat::proto::Welcome>(*m)) {
      joined_ = true;
      ++w_.stats.joins;
      on_joined();
    } else if (auto* c = std::get_if<lanchat::proto::ChatMsg>(m)) {
      if (role_ == Role::steady) {
        ++w_.stats.received;
        if (first_id == 0) {
          first_id = last_id = c->id;
        } else if (c->id == last_id + 1) {
          last_id = c->id;
        } else if (c->id <= last_id) {
          ++w_.stats.duplicates;
        } else {
          w_.stats.lost += c->id - last_id - 1;
          ++w_.stats.out_of_order;
          last_id = c->id;
        }
      }
    } else if (auto* l = std::get_if<lanchat::proto::Leave>(m)) {
      if (role_ == Role::steady && index_ == 0) {
        if (l->reason == "too_slow") ++w_.stats.too_slow_leaves;
        if (l->reason == "timeout") ++w_.stats.timeout_leaves;
      }
    } else if (auto* e = std::get_if<lanchat::proto::Error>(m)) {
      if (e->code == "rate_limited") ++w_.stats.rate_limited;
      else ++w_.stats.errors_other;
    }
  }

  void on_joined() {
    switch (role_) {
      case Role::steady: steady_tick(); break;
      case Role::churner: churn_tick(w_.rand(2, 6)); break;
      case Role::flooder: flood_tick(); break;
      case Role::slow: break;
    }
  }

  void steady_tick() {
    later(std::chrono::milliseconds(w_.rand(1500, 2500)), [self = shared_from_this()] {
      if (!self->joined_) return;
      ++self->w_.stats.steady_sent;
      self->send(lanchat::proto::encode(lanchat::proto::Say{self->nick() + " steady message"}));
      self->steady_tick();
    });
  }

  void churn_tick(int left) {
    later(std::chrono::milliseconds(w_.rand(300, 1500)), [self = shared_from_this(), left] {
      if (!self->joined_) return;
      if (left > 0) {
        self->send(lanchat::proto::encode(lanchat::proto::Say{"churn says hi"}));
        self->churn_tick(left - 1);
        return;
      }
      // Leave one of three ways, then come back.
      const int how = self->w_.rand(0, 2);
      if (how == 0) {
        ++self->w_.stats.byes;
        self->send(lanchat::proto::encode(lanchat::proto::Bye{}));
      } else {
        if (how == 1) {
          ++self->w_.stats.fins;
        } else {
          ++self->w_.stats.rsts;
          ::linger l{1, 0};
          ::setsockopt(self->socket_.native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        ++self->generation_;
        asio::error_code ec;
        self->socket_.close(ec);
        self->joined_ = false;
        self->later(std::chrono::milliseconds(self->w_.rand(100, 1000)), [self] { self->connect(); });
      }
    });
  }

  void flood_tick() {
    later(std::chrono::milliseconds(w_.rand(2000, 5000)), [self = shared_from_this()] {
      if (!self->joined_) return;
      std::string burst;
      for (int i = 0; i < 100; ++i) burst += lanchat::proto::encode(lanchat::proto::Say{"FLOOD"});
      self->w_.stats.flood_sent += 100;
      self->send(std::move(burst));
      self->flood_tick();
    });
  }

  void on_closed() {
    joined_ = false;
    ++generation_;
    asio::error_code ec;
    socket_.close(ec);
    if (role_ == Role::steady && !w_.stopping) {
      std::fprintf(stderr, "soak: steady member %d lost its connection\n", index_);
      ++w_.stats.errors_other;
    }
    later(std::chrono::milliseconds(w_.rand(100, 1000)), [self = shared_from_this()] { self->connect(); });
  }

  void send(std::string line) {
    out_.push_back(std::move(line));
    if (out_.size() == 1) write();
  }

  void write() {
    // Slow readers never read: writes to them still go out (the server reads).
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self = shared_from_this(), gen = generation_](const asio::error_code& ec, std::size_t) {
                        if (gen != self->generation_) {
                          self->out_.clear();
                          return;
                        }
                        if (ec) {
                          self->out_.clear();
                          if (self->role_ == Role::slow) self->on_closed();
                          return;
                        }
                        self->out_.pop_front();
                        if (!self->out_.empty()) self->write();
                      });
  }

  template <class F>
  void later(std::chrono::milliseconds d, F f) {
    if (w_.stopping) return;
    auto t = std::make_shared<asio::steady_timer>(w_.io, d);
    t->async_wait([t, f = std::move(f), self = shared_from_this()](const asio::error_code& ec) {
      if (!ec && !self->w_.stopping) f();
    });
  }

  World& w_;
  Role role_;
  int index_;
  int generation_ = 0;
  tcp::socket socket_;
  asio::steady_timer timer_;
  lanchat::net::LineFramer framer_;
  std::array<char, 65536> buf_{};
  std::deque<std::string> out_;
  bool joined_ = false;
};

long rss_kb(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, pid = 0, clients = 1000, seconds = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (k == "--port") port = v;
    else if (k == "--server-pid") pid = v;
    else if (k == "--clients") clients = v;
    else if (k == "--seconds") seconds = v;
  }
  if (port == 0 || pid == 0) {
    std::cerr << "usage: lanchat_soak --port P --server-pid PID [--clients N] [--seconds S]\n";
    return 2;
  }
  lanchat::net::raise_fd_limit();
  World w;
  w.server = tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port));
  // 20% steady, 70% churners, 5% slow readers, 5% flooders.
  std::vector<std::shared_ptr<Client>> all;
  const int steady = std::max(2, clients / 5), slow = std::max(1, clients / 20), flood = std::max(1, clients / 20);
  const int churn = std::max(0, clients - steady - slow - flood);
  int idx = 0;
  for (int i = 0; i < steady; ++i) all.push_back(std::make_shared<Client>(w, Role::steady, idx++));
  for (int i = 0; i < churn; ++i) all.push_back(std::make_shared<Client>(w, Role::churner, idx++));
  for (int i = 0; i < slow; ++i) all.push_back(std::make_shared<Client>(w, Role::slow, idx++));
  for (int i = 0; i < flood; ++i) all.push_back(std::make_shared<Client>(w, Role::flooder, idx++));
  for (auto& c : all) c->start();

  json rss = json::array();
  const auto t0 = std::chrono::steady_clock::now();
  asio::steady_timer sampler(w.io);
  std::function<void()> sample = [&] {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rss.push_back({{"t", std::round(t)}, {"rss_kb", rss_kb(pid, "VmRSS:")}});
    if (t >= seconds) {
      w.stopping = true;
      for (auto& c : all) c->stop();
      return;
    }
    sampler.expires_after(5s);
    sampler.async_wait([&](const asio::error_code& ec) {
      if (!ec) sample();
    });
  };
  sample();
  w.io.run();

  const auto& s = w.stats;
  json report{{"clients", clients},
              {"roles", {{"steady", steady}, {"churners", churn}, {"slow_readers", slow}, {"flooders", flood}}},
              {"seconds", seconds},
              {"connections", s.connections},
              {"joins", s.joins},
              {"churn_leaves", {{"bye", s.byes}, {"fin", s.fins}, {"rst", s.rsts}}},
              {"too_slow_drops_seen", s.too_slow_leaves},
              {"steady_messages_sent", s.steady_sent},
              {"flood_messages_sent", s.flood_sent},
              {"rate_limited_replies", s.rate_limited},
              {"steady_deliveries", s.received},
              {"lost", s.lost},
              {"duplicates", s.duplicates},
              {"gaps", s.out_of_order},
              {"unexpected_errors", s.errors_other},
              {"connect_failures", s.connect_failures},
              {"connect_errors", w.connect_errors},
              {"server_vmhwm_kb", rss_kb(pid, "VmHWM:")},
              {"server_rss", rss}};
  std::cout << report.dump() << std::endl;
  return (s.lost == 0 && s.duplicates == 0 && s.errors_other == 0) ? 0 : 1;
}
