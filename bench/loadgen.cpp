// Load generator for chat servers on loopback: one process, one thread, many connections.
// Speaks three protocols so that lanchat and its peers meet the very same load:
//   lanchat  newline-delimited JSON (docs/PROTOCOL.md)
//   asio     asio's chat example: 4-digit decimal length + body (at most 512 bytes)
//   irc      RFC 1459 over CRLF lines (ngIRCd), one channel
//
// Every client connects and joins; a barrier message then proves that every one of them is
// in the room before the first timed message. S of them send M messages each, either as fast
// as the server takes them with at most W unconfirmed (rate 0) or on a fixed schedule of R
// per second. Each text carries its sender, sequence number and send time, so receivers
// count losses, duplicates and reordering and measure latency. One JSON line on stdout.
//
// Deliveries are counted only to clients other than the sender, so servers that echo a
// message back to its sender (lanchat, asio's example) earn nothing for it; their echoes are
// still checked and reported apart.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/net_thread.hpp"
#include "net/tls.hpp"

using asio::ip::tcp;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

enum class Proto { lanchat, asio, irc };

struct Options {
  Proto proto = Proto::lanchat;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int clients = 10;
  int senders = -1;  // -1: every client sends
  int messages = 1000;
  int payload = 64;
  double rate = 0;  // per sender per second; 0 = as fast as possible within the window
  int window = 32;
  double timeout = 60;
  int server_pid = 0;
  int connect_parallel = 64;  // 0: every connection at once (the storm)
  bool quickack = false;
  bool tls = false;            // lanchat over TLS (the server must offer it)
  std::string oper = "bench";  // IRC operator name and password (from the private config)
  double settle = 0.5;         // seconds between "all joined" and reading the server's RSS
  // lanchat: hellos ask for large-room summaries, as lanchat's own client does; --classic
  // sends protocol-1 hellos (every join and leave announced one by one).
  bool summaries = true;
  // Once everyone is seated and has heard the barrier: one more client joins, timed from
  // its connect to its welcome (what a newcomer waits for in a full room).
  bool late_joiner = false;
};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// /proc/PID/status field in KiB, or -1.
long proc_status_kib(int pid, const char* field) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::size_t n = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
      return std::atol(line.c_str() + n + 1);
  return -1;
}

// CPU seconds (user + system) of a process, or -1.
double proc_cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields after the command name start at 3 (state); utime and stime are 14 and 15.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Waits, up to `cap` seconds, until the process has been quiet (at most one clock tick of CPU
// in 200 ms), and returns its CPU seconds then. What a server does after the last delivery
// (a store writing and indexing what it was sent, say) is still the run's work.
double cpu_seconds_once_quiet(int pid, double cap) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(cap);
  double last = proc_cpu_seconds(pid);
  const double tick = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  while (last >= 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double now = proc_cpu_seconds(pid);
    if (now < 0 || now - last <= tick * 1.5) return now;
    last = now;
  }
  return last;
}

double self_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Latency histogram: exact microseconds up to 1 s, then a sorted overflow list.
class Histogram {
 public:
  Histogram() : counts_(kLinear, 0) {}
  void add(std::int64_t us) {
    if (us < 0) us = 0;
    ++total_;
    max_ = std::max(max_, us);
    if (us < kLinear)
      ++counts_[static_cast<std::size_t>(us)];
    else
      overflow_.push_back(us);
  }
  std::int64_t percentile(double p) {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(total_ - 1));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > rank) return static_cast<std::int64_t>(i);
    }
    std::sort(overflow_.begin(), overflow_.end());
    return overflow_[static_cast<std::size_t>(rank - seen)];
  }
  std::int64_t max() const { return max_; }
  std::uint64_t total() const { return total_; }

 private:
  static constexpr std::int64_t kLinear = 1'000'000;
  std::vector<std::uint32_t> counts_;
  std::vector<std::int64_t> overflow_;
  std::uint64_t total_ = 0;
  std::int64_t max_ = 0;
};

class Bench;

class Conn {
 public:
  Conn(Bench& b, int index);
  void connect();
  void send(std::string_view bytes);
  void close() {
    asio::error_code ignored;
    socket_.close(ignored);
  }

  int index;
  bool connected = false;
  bool joined = false;
  bool registered = false;  // IRC: 001 seen
  int barrier_seen = -1;
  // Sender state.
  int next_seq = 0;
  int confirmed = 0;  // of this sender's messages, how many its observer has received
  std::int64_t next_due_us = 0;

 private:
  void start_read();
  void read_ready();
  void handshake();
  void on_bytes(const char* data, std::size_t n, std::int64_t at_us);
  void flush();

  Bench& b_;
  tcp::socket socket_;
  asio::steady_timer retry_;
  std::string partial_;
  std::string out_, writing_;
  bool write_in_flight_ = false;
  // TLS: OpenSSL reads and writes the non-blocking socket itself, as the server does.
  std::unique_ptr<lanchat::net::TlsChannel> tls_;
};

class Bench {
 public:
  explicit Bench(Options o) : opt(std::move(o)), tick_(io) {
    if (opt.senders < 0 || opt.senders > opt.clients) opt.senders = opt.clients;
    server = tcp::endpoint(asio::ip::make_address(opt.host), opt.port);
    run_tag_ = "~B" + std::to_string(::getpid() % 100000) + ":";
    barrier_tag_ = "~S" + std::to_string(::getpid() % 100000) + ":";
    const auto pairs =
        static_cast<std::size_t>(opt.clients) * static_cast<std::size_t>(opt.senders);
    seen_.assign(pairs * static_cast<std::size_t>(opt.messages), false);
    last_seq_.assign(pairs, -1);
  }

  int run();
  std::shared_ptr<lanchat::net::TlsContext> tls_context;  // set: connect with TLS

  // Called by connections.
  void on_connected(Conn& c);
  void on_connect_failed(Conn& c, const asio::error_code& ec);
  void on_joined(Conn& c);
  void on_closed(Conn& c, const std::string& why);
  void on_error_line(std::string_view line);
  void on_message(Conn& receiver, std::string_view text, std::int64_t at_us);
  std::string frame(std::string_view text) const;
  std::string nick(int i) const { return "u" + std::to_string(i); }
  bool is_sender(int i) const { return i < opt.senders; }
  int observer_of(int sender) const { return (sender + 1) % opt.clients; }

  Options opt;
  asio::io_context io;
  tcp::endpoint server;
  std::map<std::string, int> errors;
  std::uint64_t connect_retries = 0;

 private:
  void launch_connects();
  void start_barrier();
  void barrier_done();
  void start_sending();
  void pump(Conn& sender);
  void on_tick();
  void finish(const std::string& why);
  std::string make_text(int sender, int seq, std::int64_t at_us) const;

  asio::steady_timer tick_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int next_to_connect_ = 0, connecting_ = 0, connected_ = 0, joined_ = 0, barrier_round_ = -1;
  int barrier_count_ = 0;
  std::int64_t t_connect_start_ = 0, t_all_connected_ = 0, t_all_joined_ = 0, t_send_start_ = 0,
               t_last_rx_ = 0;
  std::int64_t t_barrier_sent_ = 0, deadline_ = 0;
  std::unique_ptr<Conn> late_;  // see Options::late_joiner
  std::int64_t t_late_start_ = 0, t_late_joined_ = 0;
  std::string run_tag_, barrier_tag_;
  enum class Phase { connecting, barrier, sending, done } phase_ = Phase::connecting;
  std::string result_ = "running";
  // Accounting.
  std::vector<bool> seen_;
  std::vector<int> last_seq_;
  std::uint64_t received_ = 0, duplicates_ = 0, out_of_order_ = 0, echoes_ = 0, bogus_ = 0;
  std::uint64_t sent_ = 0;
  Histogram latency_;
  long rss_base_ = -1, rss_joined_ = -1;
  double cpu_server_start_ = 0, cpu_self_start_ = 0, cpu_server_end_ = 0, cpu_self_end_ = 0;
  double cpu_server_quiet_ = -1;  // once the server went quiet after a complete run

  friend class Conn;

 public:
  std::uint64_t expected_deliveries() const {
    return static_cast<std::uint64_t>(opt.senders) * static_cast<std::uint64_t>(opt.messages) *
           static_cast<std::uint64_t>(opt.clients - 1);
  }
  std::uint64_t expected_echoes() const {
    return opt.proto == Proto::irc
               ? 0
               : static_cast<std::uint64_t>(opt.senders) * static_cast<std::uint64_t>(opt.messages);
  }
  bool complete() const {
    return received_ == expected_deliveries() && echoes_ == expected_echoes();
  }
};

// ---------------------------------------------------------------------------------------

Conn::Conn(Bench& b, int i) : index(i), b_(b), socket_(b.io), retry_(b.io) {}

void Conn::connect() {
  asio::error_code ec;
  socket_.close(ec);
  socket_.open(tcp::v4(), ec);
  if (ec) {
    b_.on_connect_failed(*this, ec);
    return;
  }
  socket_.async_connect(b_.server, [this](const asio::error_code& error) {
    if (error == asio::error::operation_aborted) return;
    if (error) {
      b_.on_connect_failed(*this, error);
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](const asio::error_code& e) {
        if (!e) connect();
      });
      return;
    }
    asio::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    socket_.non_blocking(true, ignored);
    if (b_.tls_context) {
      tls_ = std::make_unique<lanchat::net::TlsChannel>(*b_.tls_context, socket_.native_handle(),
                                                        lanchat::net::TlsChannel::Role::client);
      handshake();
      return;
    }
    connected = true;
    b_.on_connected(*this);
    start_read();
  });
}

void Conn::handshake() {
  using Io = lanchat::net::TlsChannel::Io;
  const Io r = tls_->handshake();
  if (r == Io::want_read || r == Io::want_write) {
    socket_.async_wait(r == Io::want_read ? tcp::socket::wait_read : tcp::socket::wait_write,
                       [this](const asio::error_code& ec) {
                         if (ec) {
                           if (ec != asio::error::operation_aborted)
                             b_.on_closed(*this, ec.message());
                           return;
                         }
                         handshake();
                       });
    return;
  }
  if (r != Io::done) {
    b_.on_closed(*this, "TLS handshake failed: " + tls_->error());
    return;
  }
  connected = true;
  b_.on_connected(*this);
  start_read();
}

void Conn::start_read() {
  socket_.async_wait(tcp::socket::wait_read, [this](const asio::error_code& ec) {
    if (ec) {
      if (ec != asio::error::operation_aborted) b_.on_closed(*this, ec.message());
      return;
    }
    read_ready();
  });
}

void Conn::read_ready() {
  // One scratch buffer for every connection: the process is single-threaded, and an idle
  // connection then holds no read buffer at all.
  static std::vector<char> scratch(256 * 1024);
  if (tls_) {
    using Io = lanchat::net::TlsChannel::Io;
    for (;;) {
      std::size_t n = 0;
      const Io r = tls_->read(scratch.data(), scratch.size(), n);
      if (r == Io::want_read || r == Io::want_write) break;
      if (r != Io::done) {
        b_.on_closed(*this, r == Io::closed ? "closed by the server" : tls_->error());
        return;
      }
      on_bytes(scratch.data(), n, now_us());
      if (!connected) return;
    }
    flush();  // a write that waited on a read can go on
    start_read();
    return;
  }
  for (;;) {
    asio::error_code error;
    std::size_t n = socket_.read_some(asio::buffer(scratch), error);
    if (error == asio::error::would_block) break;
    if (error) {
      b_.on_closed(*this, error == asio::error::eof ? "closed by the server" : error.message());
      return;
    }
    if (b_.opt.quickack) {
      int one = 1;
      ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    on_bytes(scratch.data(), n, now_us());
    if (!connected) return;
    if (n < scratch.size()) break;
  }
  start_read();
}

void Conn::on_bytes(const char* data, std::size_t n, std::int64_t at_us) {
  std::string_view in(data, n);
  std::string joined_input;
  if (!partial_.empty()) {
    joined_input = std::move(partial_);
    joined_input.append(in);
    partial_.clear();
    in = joined_input;
  }
  std::size_t pos = 0;
  if (b_.opt.proto == Proto::asio) {
    while (in.size() - pos >= 4) {
      // The example writes the length with "%4d" and reads it back with atoi: space-padded.
      int len = 0;
      const char* h = in.data() + pos;
      const char* h_end = h + 4;
      while (h < h_end && *h == ' ') ++h;
      auto [p, e] = std::from_chars(h, h_end, len);
      if (e != std::errc() || p != h_end || len < 0 || len > 512) {
        b_.on_closed(*this, "bad frame header from the server");
        return;
      }
      if (in.size() - pos - 4 < static_cast<std::size_t>(len)) break;
      b_.on_message(*this, in.substr(pos + 4, static_cast<std::size_t>(len)), at_us);
      pos += 4 + static_cast<std::size_t>(len);
    }
  } else {
    for (;;) {
      auto nl = in.find('\n', pos);
      if (nl == std::string_view::npos) break;
      auto line = in.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = nl + 1;
      b_.on_message(*this, line, at_us);
      if (!connected) return;
    }
  }
  partial_.assign(in.substr(pos));
}

void Conn::send(std::string_view bytes) {
  out_.append(bytes);
  flush();
}

void Conn::flush() {
  if (tls_) {
    // Encrypt and write what the socket takes now; wait for room for the rest (the same
    // bytes are offered again, as OpenSSL wants).
    using Io = lanchat::net::TlsChannel::Io;
    if (write_in_flight_ || !connected) return;
    if (out_.empty() && writing_.empty()) return;
    writing_.append(out_);
    out_.clear();
    while (!writing_.empty()) {
      std::size_t n = 0;
      const Io r = tls_->write(writing_.data(), writing_.size(), n);
      if (r == Io::done) {
        writing_.erase(0, n);
        continue;
      }
      if (r == Io::want_write || r == Io::want_read) {
        write_in_flight_ = true;
        socket_.async_wait(r == Io::want_write ? tcp::socket::wait_write : tcp::socket::wait_read,
                           [this](const asio::error_code& ec) {
                             write_in_flight_ = false;
                             if (ec) return;
                             flush();
                           });
        return;
      }
      b_.on_closed(*this, "TLS write failed: " + tls_->error());
      return;
    }
    return;
  }
  if (write_in_flight_ || out_.empty() || !connected) return;
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this](const asio::error_code& ec, std::size_t) {
                      write_in_flight_ = false;
                      writing_.clear();
                      if (ec) {
                        if (ec != asio::error::operation_aborted) b_.on_closed(*this, ec.message());
                        return;
                      }
                      flush();
                    });
}

// ---------------------------------------------------------------------------------------

std::string Bench::frame(std::string_view text) const {
  switch (opt.proto) {
    case Proto::lanchat:
      return std::string("{\"type\":\"say\",\"text\":\"").append(text).append("\"}\n");
    case Proto::asio: {
      char header[8];
      std::snprintf(header, sizeof header, "%4d", static_cast<int>(text.size()));
      return std::string(header, 4).append(text);
    }
    case Proto::irc:
      return std::string("PRIVMSG #bench :").append(text).append("\r\n");
  }
  return {};
}

std::string Bench::make_text(int sender, int seq, std::int64_t at_us) const {
  std::string t = run_tag_;
  t += std::to_string(sender);
  t += ':';
  t += std::to_string(seq);
  t += ':';
  t += std::to_string(at_us);
  t += ':';
  if (t.size() < static_cast<std::size_t>(opt.payload))
    t.append(static_cast<std::size_t>(opt.payload) - t.size(), 'x');
  return t;
}

void Bench::on_connected(Conn& c) {
  if (++connected_ == opt.clients) t_all_connected_ = now_us();
  switch (opt.proto) {
    case Proto::lanchat:
      c.send("{\"type\":\"hello\",\"nick\":\"" + nick(c.index) + "\",\"proto\":1" +
             (opt.summaries ? ",\"summaries\":true}\n" : "}\n"));
      break;
    case Proto::asio:
      // No handshake: the server puts a connection in the room when it accepts it. The
      // barrier below proves it did.
      on_joined(c);
      break;
    case Proto::irc:
      c.send("NICK " + nick(c.index) + "\r\nUSER " + nick(c.index) + " 0 * :bench\r\n");
      break;
  }
}

void Bench::on_connect_failed(Conn&, const asio::error_code& ec) {
  ++connect_retries;
  ++errors["connect: " + ec.message()];
}

void Bench::on_joined(Conn& c) {
  if (c.joined) return;
  c.joined = true;
  if (&c == late_.get()) {
    t_late_joined_ = now_us();
    start_sending();
    return;
  }
  ++joined_;
  --connecting_;
  if (joined_ == opt.clients) {
    t_all_joined_ = now_us();
    start_barrier();
  } else {
    launch_connects();
  }
}

void Bench::on_closed(Conn& c, const std::string& why) {
  if (!c.connected) return;
  c.connected = false;
  c.close();
  if (phase_ != Phase::done) {
    ++errors["closed: " + why];
    finish("a connection closed: " + why);
  }
}

void Bench::on_error_line(std::string_view line) {
  ++errors["server said: " + std::string(line.substr(0, 160))];
}

void Bench::on_message(Conn& r, std::string_view text, std::int64_t at_us) {
  if (&r == late_.get()) {  // only its welcome matters
    if (text.find("\"type\":\"welcome\"") != std::string_view::npos) on_joined(r);
    if (text.find("\"type\":\"error\"") != std::string_view::npos) on_error_line(text);
    return;
  }
  auto tag = text.find(run_tag_);
  if (tag != std::string_view::npos) {
    // ~B<run>:<sender>:<seq>:<send_us>:
    const char* p = text.data() + tag + run_tag_.size();
    const char* end = text.data() + text.size();
    int sender = -1, seq = -1;
    std::int64_t sent_at = 0;
    auto a = std::from_chars(p, end, sender);
    auto s = a.ptr < end ? std::from_chars(a.ptr + 1, end, seq) : a;
    auto t = s.ptr < end ? std::from_chars(s.ptr + 1, end, sent_at) : s;
    if (a.ec != std::errc() || s.ec != std::errc() || t.ec != std::errc() || sender < 0 ||
        sender >= opt.senders || seq < 0 || seq >= opt.messages) {
      ++bogus_;
      return;
    }
    t_last_rx_ = at_us;
    if (sender == r.index) {
      ++echoes_;
    } else {
      const std::size_t pair =
          static_cast<std::size_t>(r.index) * static_cast<std::size_t>(opt.senders) +
          static_cast<std::size_t>(sender);
      const std::size_t bit =
          pair * static_cast<std::size_t>(opt.messages) + static_cast<std::size_t>(seq);
      if (seen_[bit]) {
        ++duplicates_;
        return;
      }
      seen_[bit] = true;
      ++received_;
      if (seq < last_seq_[pair]) ++out_of_order_;
      last_seq_[pair] = std::max(last_seq_[pair], seq);
      latency_.add(at_us - sent_at);
      if (observer_of(sender) == r.index) {
        Conn& s_conn = *conns_[static_cast<std::size_t>(sender)];
        ++s_conn.confirmed;
        if (opt.rate == 0) pump(s_conn);
      }
    }
    if (complete()) finish("complete");
    return;
  }
  auto barrier = text.find(barrier_tag_);
  if (barrier != std::string_view::npos) {
    int round = -1;
    const char* p = text.data() + barrier + barrier_tag_.size();
    std::from_chars(p, text.data() + text.size(), round);
    if (round > r.barrier_seen) {
      r.barrier_seen = round;
      if (round == barrier_round_ && ++barrier_count_ == opt.clients) barrier_done();
    }
    return;
  }
  switch (opt.proto) {
    case Proto::lanchat:
      if (text.find("\"type\":\"welcome\"") != std::string_view::npos)
        on_joined(r);
      else if (text.find("\"type\":\"error\"") != std::string_view::npos ||
               text.find("\"type\":\"shutdown\"") != std::string_view::npos)
        on_error_line(text);
      break;
    case Proto::asio:
      break;
    case Proto::irc: {
      if (text.rfind("PING", 0) == 0) {
        std::string pong(text);
        pong[1] = 'O';
        r.send(pong + "\r\n");
        break;
      }
      if (text.rfind("ERROR", 0) == 0) {
        on_error_line(text);
        break;
      }
      // ":server NNN nick ..." numerics.
      auto sp = text.find(' ');
      if (sp == std::string_view::npos || text.size() < sp + 4) break;
      auto code = text.substr(sp + 1, 3);
      if (code == "001" && !r.registered) {
        r.registered = true;
        std::string cmds;
        // Operators with user mode +F get more commands per server loop pass: senders need it.
        if (is_sender(r.index))
          cmds += "OPER " + opt.oper + " " + opt.oper + "\r\nMODE " + nick(r.index) + " +F\r\n";
        cmds += "JOIN #bench\r\n";
        r.send(cmds);
      } else if (code == "366") {
        on_joined(r);
      } else if (code[0] == '4' || code[0] == '5') {
        on_error_line(text);
      }
      break;
    }
  }
}

void Bench::launch_connects() {
  const int cap = opt.connect_parallel <= 0 ? opt.clients : opt.connect_parallel;
  while (next_to_connect_ < opt.clients && connecting_ < cap) {
    ++connecting_;
    conns_[static_cast<std::size_t>(next_to_connect_++)]->connect();
  }
}

void Bench::start_barrier() {
  if (phase_ == Phase::done) return;
  phase_ = Phase::barrier;
  rss_joined_ = -1;
  ++barrier_round_;
  barrier_count_ = 0;
  for (auto& c : conns_)
    if (c->barrier_seen >= barrier_round_) ++barrier_count_;
  t_barrier_sent_ = now_us();
  // IRC does not echo to the sender, so the barrier's sender counts itself.
  if (opt.proto == Proto::irc && conns_.back()->barrier_seen < barrier_round_) {
    conns_.back()->barrier_seen = barrier_round_;
    ++barrier_count_;
  }
  conns_.back()->send(frame(barrier_tag_ + std::to_string(barrier_round_) + ":"));
}

void Bench::barrier_done() {
  if (!opt.late_joiner || late_ || opt.proto != Proto::lanchat) {
    start_sending();
    return;
  }
  late_ = std::make_unique<Conn>(*this, opt.clients);
  t_late_start_ = now_us();
  late_->connect();
}

void Bench::start_sending() {
  if (phase_ != Phase::barrier) return;
  // Memory with everyone joined and quiet: the idle-clients figure.
  std::this_thread::sleep_for(std::chrono::duration<double>(opt.settle));
  rss_joined_ = proc_status_kib(opt.server_pid, "VmRSS");
  phase_ = Phase::sending;
  cpu_server_start_ = proc_cpu_seconds(opt.server_pid);
  cpu_self_start_ = self_cpu_seconds();
  t_send_start_ = now_us();
  const std::int64_t spread = opt.rate > 0 ? static_cast<std::int64_t>(1e6 / opt.rate) : 0;
  for (int s = 0; s < opt.senders; ++s) {
    Conn& c = *conns_[static_cast<std::size_t>(s)];
    c.next_due_us = t_send_start_ + spread * s / std::max(opt.senders, 1);
    pump(c);
  }
  if (opt.senders == 0 || opt.messages == 0) finish("complete");
}

void Bench::pump(Conn& c) {
  if (phase_ != Phase::sending) return;
  std::string batch;
  const std::int64_t now = now_us();
  while (c.next_seq < opt.messages && c.next_seq - c.confirmed < opt.window) {
    if (opt.rate > 0) {
      if (c.next_due_us > now) break;
      c.next_due_us += static_cast<std::int64_t>(1e6 / opt.rate);
    }
    batch += frame(make_text(c.index, c.next_seq++, now));
    ++sent_;
  }
  if (!batch.empty()) c.send(batch);
}

void Bench::on_tick() {
  const auto now = now_us();
  if (phase_ == Phase::done) return;
  if (now > deadline_) {
    finish("timeout");
    return;
  }
  if (phase_ == Phase::barrier && now - t_barrier_sent_ > 1'000'000) start_barrier();
  if (phase_ == Phase::sending && opt.rate > 0)
    for (int s = 0; s < opt.senders; ++s) pump(*conns_[static_cast<std::size_t>(s)]);
  tick_.expires_after(std::chrono::microseconds(opt.rate > 0 ? 200 : 50'000));
  tick_.async_wait([this](const asio::error_code& ec) {
    if (!ec) on_tick();
  });
}

void Bench::finish(const std::string& why) {
  if (phase_ == Phase::done) return;
  if (phase_ == Phase::sending) {
    cpu_server_end_ = proc_cpu_seconds(opt.server_pid);
    cpu_self_end_ = self_cpu_seconds();
    // Before anyone leaves, so that the leaving is not counted.
    if (why == "complete") cpu_server_quiet_ = cpu_seconds_once_quiet(opt.server_pid, 60.0);
  }
  phase_ = Phase::done;
  result_ = why;
  tick_.cancel();
  for (auto& c : conns_) {
    c->connected = false;
    c->close();
  }
  if (late_) {
    late_->connected = false;
    late_->close();
  }
}

int Bench::run() {
  lanchat::net::raise_fd_limit();
  rss_base_ = proc_status_kib(opt.server_pid, "VmRSS");
  for (int i = 0; i < opt.clients; ++i) conns_.push_back(std::make_unique<Conn>(*this, i));
  t_connect_start_ = now_us();
  deadline_ = t_connect_start_ + static_cast<std::int64_t>(opt.timeout * 1e6);
  launch_connects();
  on_tick();
  io.run();

  const double duration = t_last_rx_ > t_send_start_ && t_send_start_ > 0
                              ? static_cast<double>(t_last_rx_ - t_send_start_) / 1e6
                              : 0.0;
  const double wall = t_send_start_ > 0 ? static_cast<double>(now_us() - t_send_start_) / 1e6 : 0;
  auto pct = [](double cpu, double secs) {
    return secs > 0 && cpu >= 0 ? std::round(cpu / secs * 1000.0) / 10.0 : -1.0;
  };
  const double measured = duration > 0 ? duration : wall;
  const std::uint64_t lost = expected_deliveries() - std::min(received_, expected_deliveries());
  json errors_json = json::object();
  for (auto& [k, v] : errors) errors_json[k] = v;
  static const char* kNames[] = {"lanchat", "asio", "irc"};
  json out = {
      {"proto", kNames[static_cast<int>(opt.proto)]},
      {"tls", opt.tls},
      {"clients", opt.clients},
      {"senders", opt.senders},
      {"messages", opt.messages},
      {"payload", opt.payload},
      {"rate", opt.rate},
      {"window", opt.window},
      {"quickack", opt.quickack},
      {"result", result_},
      {"joined", joined_},
      {"connect_ms",
       t_all_connected_ > 0
           ? std::round(static_cast<double>(t_all_connected_ - t_connect_start_) / 100.0) / 10.0
           : -1.0},
      {"join_ms",
       t_all_joined_ > 0
           ? std::round(static_cast<double>(t_all_joined_ - t_connect_start_) / 100.0) / 10.0
           : -1.0},
      {"late_join_ms",
       t_late_joined_ > 0
           ? std::round(static_cast<double>(t_late_joined_ - t_late_start_) / 100.0) / 10.0
           : -1.0},
      {"summaries", opt.summaries},
      {"connect_retries", connect_retries},
      {"barrier_rounds", barrier_round_ + 1},
      {"sent", sent_},
      {"deliveries_expected", expected_deliveries()},
      {"deliveries_received", received_},
      {"lost", lost},
      {"duplicates", duplicates_},
      {"out_of_order", out_of_order_},
      {"echoes_expected", expected_echoes()},
      {"echoes_received", echoes_},
      {"bogus", bogus_},
      {"seconds", std::round(measured * 1000.0) / 1000.0},
      {"deliveries_per_s",
       measured > 0 ? std::round(static_cast<double>(received_) / measured) : 0},
      {"latency_us",
       {{"p50", latency_.percentile(50)},
        {"p99", latency_.percentile(99)},
        {"max", latency_.max()}}},
      {"server_rss_base_kib", rss_base_},
      {"server_rss_joined_kib", rss_joined_},
      {"server_hwm_kib", proc_status_kib(opt.server_pid, "VmHWM")},
      {"server_cpu_pct", pct(cpu_server_end_ - cpu_server_start_, measured)},
      // All the CPU the run cost the server, including what it did after the last delivery.
      {"server_cpu_s", cpu_server_quiet_ >= 0 && opt.server_pid > 0
                           ? std::round((cpu_server_quiet_ - cpu_server_start_) * 1000.0) / 1000.0
                           : -1.0},
      {"loadgen_cpu_pct", pct(cpu_self_end_ - cpu_self_start_, measured)},
      {"errors", errors_json},
  };
  std::cout << out.dump() << std::endl;
  const bool ok = result_ == "complete" && lost == 0 && duplicates_ == 0 && out_of_order_ == 0 &&
                  echoes_ == expected_echoes();
  return ok ? 0 : 1;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--proto") {
      auto v = value();
      if (v == "lanchat")
        o.proto = Proto::lanchat;
      else if (v == "asio")
        o.proto = Proto::asio;
      else if (v == "irc")
        o.proto = Proto::irc;
      else
        throw std::invalid_argument("--proto is lanchat, asio or irc");
    } else if (a == "--host")
      o.host = value();
    else if (a == "--port")
      o.port = static_cast<std::uint16_t>(std::stoi(value()));
    else if (a == "--clients")
      o.clients = std::stoi(value());
    else if (a == "--senders")
      o.senders = std::stoi(value());
    else if (a == "--messages")
      o.messages = std::stoi(value());
    else if (a == "--payload")
      o.payload = std::stoi(value());
    else if (a == "--rate")
      o.rate = std::stod(value());
    else if (a == "--window")
      o.window = std::stoi(value());
    else if (a == "--timeout")
      o.timeout = std::stod(value());
    else if (a == "--server-pid")
      o.server_pid = std::stoi(value());
    else if (a == "--connect-parallel")
      o.connect_parallel = std::stoi(value());
    else if (a == "--quickack")
      o.quickack = true;
    else if (a == "--tls")
      o.tls = true;
    else if (a == "--oper")
      o.oper = value();
    else if (a == "--settle")
      o.settle = std::stod(value());
    else if (a == "--classic")
      o.summaries = false;
    else if (a == "--late-joiner")
      o.late_joiner = true;
    else if (a == "--help" || a == "-h")
      return false;
    else
      throw std::invalid_argument("unknown option " + a);
  }
  if (o.port == 0) throw std::invalid_argument("--port is required");
  if (o.clients < 2) throw std::invalid_argument("--clients must be at least 2");
  if (o.window < 1) throw std::invalid_argument("--window must be at least 1");
  // Benchmarks send traffic to loopback only.
  auto addr = asio::ip::make_address(o.host);
  if (!addr.is_v4() || (addr.to_v4().to_uint() >> 24) != 127)
    throw std::invalid_argument("--host must be in 127.0.0.0/8");
  // Payloads fit the smallest peer frame (asio's example: 512-byte bodies; IRC: 512-byte lines).
  if (o.payload < 40 || o.payload > 400) throw std::invalid_argument("--payload must be 40..400");
  const double bits = static_cast<double>(o.clients) * std::max(o.senders, 0) * o.messages;
  if (bits > 4e9) throw std::invalid_argument("clients x senders x messages is too large");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    if (!parse(argc, argv, o)) {
      std::cout << "lanchat_loadgen --proto lanchat|asio|irc --port P [--host 127.0.0.1]\n"
                   "  [--clients N] [--senders S] [--messages M] [--payload BYTES]\n"
                   "  [--rate PER_SENDER_PER_S (0: max)] [--window W] [--timeout S]\n"
                   "  [--server-pid PID] [--connect-parallel K (0: all at once)] [--quickack]\n"
                   "  [--oper NAME] [--settle S] [--tls (lanchat only)]\n"
                   "  [--classic (protocol-1 hellos)] [--late-joiner]\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "lanchat_loadgen: " << e.what() << "\n";
    return 2;
  }
  if (o.tls && o.proto != Proto::lanchat) {
    std::cerr << "lanchat_loadgen: --tls goes with --proto lanchat\n";
    return 2;
  }
  Bench bench(o);
  if (o.tls) bench.tls_context = lanchat::net::TlsContext::client();
  return bench.run();
}
