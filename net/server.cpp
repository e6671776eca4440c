#include "net/server.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstdio>
#include <span>

#include "net/endpoint.hpp"
#include "net/line_framer.hpp"

namespace lanchat::net {

using asio::ip::tcp;

namespace {

constexpr std::size_t kMaxGather = 64;
constexpr std::size_t kMaxGatherBytes = 256 * 1024;
constexpr int kErrorsLoggedPerConnection = 5;

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Runs over the longer input whatever the contents, so timing reveals no prefix.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0U;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0U;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

// One TCP connection. Reads on readiness into the server's shared scratch buffer (an idle
// connection holds no read buffer), writes from a queue of shared encoded lines with one
// write in flight that gathers everything queued.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, tcp::socket socket, std::uint64_t id, std::string address)
      : server_(&server),
        socket_(std::move(socket)),
        framer_(server.config_.max_line_bytes),
        id_(id),
        address_(std::move(address)) {}

  void start() { wait_readable(); }

  // Queues a line. force skips the backlog bound (welcome, shutdown); a line that is not
  // urgent (join and leave notices) may wait for the next presence batch.
  void enqueue(const Server::SharedLine& line, bool force = false, bool urgent = true) {
    if (closed_ || slow_) return;
    if (!force && out_bytes_ + line->size() > server_->config_.max_backlog_bytes) {
      slow_ = true;
      server_->kick_later(shared_from_this());
      return;
    }
    out_bytes_ += line->size();
    out_.push_back(line);
    if (urgent) urgent_queued_ = true;
    if (writing_) return;  // goes out when the write in flight completes
    if (urgent ? !dirty_ : !dirty_ && !presence_dirty_) {
      (urgent ? dirty_ : presence_dirty_) = true;
      server_->mark_dirty(shared_from_this(), urgent);
    }
  }

  // Stop taking input, flush what is queued, then close. Used for bye and shutdown.
  void begin_close() {
    if (closed_ || closing_) return;
    closing_ = true;
    if (!writing_ && out_.empty()) half_close();
  }

  // Close now; reason reaches the others in a leave if this connection had joined.
  void close(std::string_view reason) {
    if (closed_) return;
    detach();
    server_->on_closed(*this, reason);
  }

  // Close without telling the server (it is going away).
  void detach() {
    closed_ = true;
    asio::error_code ignored;
    socket_.close(ignored);
    if (linger_) linger_->cancel();
  }

  void start_write() {
    dirty_ = false;
    presence_dirty_ = false;
    if (closed_ || writing_) return;
    if (out_.empty()) {
      if (closing_) half_close();
      return;
    }
    gather_.clear();
    std::size_t bytes = 0;
    std::size_t skip = front_offset_;
    for (const auto& l : out_) {
      gather_.push_back(asio::buffer(*l) + skip);
      bytes += l->size() - skip;
      skip = 0;
      if (gather_.size() == kMaxGather || bytes >= kMaxGatherBytes) break;
    }
    if (gather_.size() == out_.size()) urgent_queued_ = false;
    writing_ = true;
    socket_.async_write_some(
        std::span<const asio::const_buffer>(gather_),
        [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
          self->on_written(ec, n);
        });
  }

  std::uint64_t id() const { return id_; }
  const std::string& address() const { return address_; }

  // Token bucket for `say`.
  double tokens_ = 0;
  std::chrono::steady_clock::time_point refilled_{};
  std::string ip_;  // the peer's address without port, for the per-address cap
  bool joined_ = false;
  bool reported_ = false;  // PeerClosed already emitted (at leave time)
  int errors_logged_ = 0;
  std::string nick_;
  std::string nick_key_;

 private:
  void wait_readable() {
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](const asio::error_code& ec) { self->on_readable(ec); });
  }

  // A keepalive that went unanswered surfaces as ETIMEDOUT: the peer vanished.
  static std::string_view reason_for(const asio::error_code& ec) {
    return ec == asio::error::timed_out ? proto::reason::timeout : proto::reason::disconnect;
  }

  void on_readable(const asio::error_code& ec) {
    if (closed_) return;
    if (ec) {
      close(reason_for(ec));
      return;
    }
    asio::error_code rec;
    const std::size_t n =
        socket_.read_some(asio::buffer(server_->scratch(), server_->scratch_size()), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) {
      wait_readable();
      return;
    }
    if (rec) {
      close(reason_for(rec));
      return;
    }
    if (!closing_) {
      framer_.feed(
          std::string_view(server_->scratch(), n),
          [this](std::string_view line) {
            return server_->on_line(*this, line) && !closed_ && !closing_;
          },
          [this] {
            server_->on_too_long(*this);
            return !closed_;
          });
    }
    if (!closed_) wait_readable();
  }

  void on_written(const asio::error_code& ec, std::size_t n) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      close(reason_for(ec));
      return;
    }
    while (n > 0) {
      const std::size_t rest = out_.front()->size() - front_offset_;
      if (n >= rest) {
        n -= rest;
        out_bytes_ -= rest;
        front_offset_ = 0;
        out_.pop_front();
      } else {
        front_offset_ += n;
        out_bytes_ -= n;
        n = 0;
      }
    }
    // Only join/leave notices came in meanwhile: they wait for the presence batch too,
    // otherwise every member would get one write per join during a storm of joins.
    if (!out_.empty() && !urgent_queued_ && !closing_) {
      if (!dirty_ && !presence_dirty_) {
        presence_dirty_ = true;
        server_->mark_dirty(shared_from_this(), /*urgent=*/false);
      }
      return;
    }
    start_write();
  }

  // All output is out: send FIN, then keep reading (and discarding) until the peer closes
  // too. Closing with unread input would send RST, which can destroy the last lines we
  // sent (the shutdown notice) before the peer reads them.
  void half_close() {
    if (closed_ || half_closed_) return;
    half_closed_ = true;
    asio::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    linger_ =
        std::make_unique<asio::steady_timer>(socket_.get_executor(), server_->config_.close_grace);
    linger_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->close(proto::reason::disconnect);
    });
  }

  Server* server_;
  tcp::socket socket_;
  LineFramer framer_;
  std::uint64_t id_;
  std::string address_;
  std::deque<Server::SharedLine> out_;
  std::vector<asio::const_buffer> gather_;
  std::size_t out_bytes_ = 0;     // queued bytes not yet written
  std::size_t front_offset_ = 0;  // bytes of out_.front() already written
  std::unique_ptr<asio::steady_timer> linger_;
  bool writing_ = false;
  bool dirty_ = false;           // waits in the server's next flush
  bool presence_dirty_ = false;  // waits in the next presence batch
  bool urgent_queued_ = false;   // out_ holds more than join/leave notices
  bool closing_ = false;
  bool half_closed_ = false;
  bool closed_ = false;
  bool slow_ = false;
};

// ---------------------------------------------------------------------------------------

void apply_dead_peer_timeout(ServerConfig& config, int seconds) {
  if (seconds <= 0) {
    config.keepalive_count = 0;
    return;
  }
  const int idle = std::max(1, seconds / 2);
  const int interval = std::max(1, (seconds - idle) / 5);
  config.keepalive_idle = std::chrono::seconds(idle);
  config.keepalive_interval = std::chrono::seconds(interval);
  config.keepalive_count = 5;
}

std::shared_ptr<Server> Server::create(asio::io_context& io, ServerConfig config,
                                       EventQueue& events) {
  return std::shared_ptr<Server>(new Server(io, std::move(config), events));
}

Server::Server(asio::io_context& io, ServerConfig config, EventQueue& events)
    : io_(io),
      config_(std::move(config)),
      events_(events),
      acceptor_(io),
      retry_timer_(io),
      stop_timer_(io),
      presence_timer_(io),
      scratch_(64 * 1024) {}

Server::~Server() {
  for (auto& [id, s] : sessions_) s->detach();
}

std::optional<std::string> Server::start() {
  const std::string where = config_.bind_address + ":" + std::to_string(config_.port);
  auto fail = [&](std::string msg) {
    events_.push(ServerFailed{msg});
    log(LogLevel::error, msg);
    return std::optional<std::string>(std::move(msg));
  };
  auto ep = resolve_bind_endpoint(io_, config_.bind_address, config_.port);
  if (auto* e = std::get_if<std::string>(&ep)) return fail(*e);
  const tcp::endpoint endpoint = std::get<tcp::endpoint>(ep);

  asio::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    std::string why = ec.message();
    if (ec == asio::error::address_in_use) why = "the port is already in use";
    if (ec == asio::error::access_denied) why = "permission denied (ports below 1024 need root)";
    if (ec == std::errc::address_not_available) {
      why = "this machine has no such address";
    }
    return fail("cannot listen on " + where + ": " + why);
  }
  local_ = acceptor_.local_endpoint(ec);
  started_ = true;
  events_.push(ServerListening{local_.address().to_string(), local_.port(), config_.room});
  log(LogLevel::info, "listening on " + to_string(local_) + " (room \"" + config_.room + "\"" +
                          (config_.password.empty() ? "" : ", password required") + ")");
  accept_next();
  return std::nullopt;
}

void Server::accept_next() {
  if (stopping_) return;
  acceptor_.async_accept(
      [self = shared_from_this()](const asio::error_code& ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void Server::on_accept(const asio::error_code& ec, tcp::socket socket) {
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors (or a transient error): wait a little instead of spinning on a
    // listen queue we cannot drain.
    log(LogLevel::warn, "accept failed: " + ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](const asio::error_code& e) {
      if (!e) self->accept_next();
    });
    return;
  }
  asio::error_code opt;
  socket.set_option(tcp::no_delay(true), opt);
  socket.non_blocking(true, opt);
  if (config_.socket_send_buffer > 0) {
    socket.set_option(asio::socket_base::send_buffer_size(config_.socket_send_buffer), opt);
  }
  if (config_.keepalive_count > 0) {
    using idle = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPIDLE>;
    using interval = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPINTVL>;
    using count = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPCNT>;
    socket.set_option(asio::socket_base::keep_alive(true), opt);
    socket.set_option(idle(static_cast<int>(config_.keepalive_idle.count())), opt);
    socket.set_option(interval(static_cast<int>(config_.keepalive_interval.count())), opt);
    socket.set_option(count(config_.keepalive_count), opt);
  }
  const tcp::endpoint peer = socket.remote_endpoint(opt);
  const std::string address = opt ? std::string("unknown") : to_string(peer);
  const std::string ip = opt ? std::string("unknown") : peer.address().to_string();
  const std::uint64_t id = ++next_conn_id_;
  // Counted before the caps are checked, so the refused connection is counted while it
  // reads its error and closes.
  const std::size_t from_ip = ++per_ip_[ip];
  const std::size_t open = sessions_.size() + 1;
  auto session = std::make_shared<Session>(*this, std::move(socket), id, address);
  session->ip_ = ip;
  session->tokens_ = static_cast<double>(config_.max_msg_burst);
  session->refilled_ = std::chrono::steady_clock::now();
  sessions_.emplace(id, session);
  events_.push(PeerConnected{id, address, now_ms()});
  std::string refusal;
  if (config_.max_clients > 0 && open > config_.max_clients) {
    refusal = "the server is full (" + std::to_string(config_.max_clients) + " connections)";
  } else if (config_.max_per_ip > 0 && from_ip > config_.max_per_ip) {
    refusal = "too many connections from " + ip + " (limit " +
              std::to_string(config_.max_per_ip) + ")";
  }
  if (!refusal.empty()) {
    log(LogLevel::warn, "refused " + address + " (#" + std::to_string(id) + "): " + refusal);
    session->enqueue(std::make_shared<const std::string>(
                         proto::encode(proto::Error{std::string(proto::err::server_full), refusal})),
                     /*force=*/true);
    session->begin_close();
  } else {
    log(LogLevel::info, "connection from " + address + " (#" + std::to_string(id) + ")");
  }
  session->start();
  accept_next();
}

bool Server::on_line(Session& s, std::string_view line) {
  if (is_blank(line)) return true;  // a stray Enter in nc is not worth an error
  auto decoded = proto::decode_client(line);
  if (auto* e = std::get_if<proto::Error>(&decoded)) {
    reply_error(s, e->code, std::move(e->message));
    return true;
  }
  auto& msg = std::get<proto::ClientMessage>(decoded);
  if (auto* hello = std::get_if<proto::Hello>(&msg)) {
    handle_hello(s, *hello);
  } else if (auto* say = std::get_if<proto::Say>(&msg)) {
    handle_say(s, say->text);
  } else if (auto* ping = std::get_if<proto::Ping>(&msg)) {
    s.enqueue(std::make_shared<const std::string>(proto::encode(proto::Pong{ping->id})));
  } else {  // bye
    log(LogLevel::info, "#" + std::to_string(s.id()) + " said bye");
    if (s.joined_) depart(s, proto::reason::quit);
    s.begin_close();
    return false;
  }
  return true;
}

void Server::handle_hello(Session& s, proto::Hello& hello) {
  if (s.joined_) {
    reply_error(s, proto::err::already_joined, "already joined as \"" + s.nick_ + "\"");
    return;
  }
  if (!config_.password.empty() &&
      !(hello.password && constant_time_equal(*hello.password, config_.password))) {
    reply_error(s, proto::err::bad_password,
                hello.password ? "wrong password" : "this room needs a password");
    return;
  }
  std::string key = proto::nick_key(hello.nick);
  if (nicks_.contains(key)) {
    reply_error(s, proto::err::nick_taken, "nick \"" + hello.nick + "\" is already in use");
    return;
  }
  s.joined_ = true;
  s.nick_ = std::move(hello.nick);
  s.nick_key_ = key;
  nicks_.emplace(std::move(key), &s);
  members_.push_back(&s);

  if (users_stale_) {
    std::vector<std::string> users;
    users.reserve(members_.size());
    for (const Session* m : members_) users.push_back(m->nick_);
    users_array_ = proto::encode_users(users);
    users_stale_ = false;
  } else {
    users_array_.pop_back();  // the closing ']'
    if (members_.size() > 1) users_array_ += ',';
    proto::append_json_string(users_array_, s.nick_);
    users_array_ += ']';
  }
  std::vector<std::string_view> history;
  history.reserve(history_.size());
  for (const auto& h : history_) history.emplace_back(*h);
  s.enqueue(std::make_shared<const std::string>(
                proto::encode_welcome(s.nick_, config_.room, users_array_, history)),
            /*force=*/true);

  const std::int64_t ts = now_ms();
  broadcast(std::make_shared<const std::string>(proto::encode(proto::Join{s.nick_, ts})), &s,
            /*urgent=*/false);
  events_.push(PeerJoined{s.id(), s.nick_, ts});
  log(LogLevel::info, "#" + std::to_string(s.id()) + " joined as " + s.nick_);
}

void Server::handle_say(Session& s, std::string& text) {
  if (!s.joined_) {
    reply_error(s, proto::err::not_joined, "send hello before say");
    return;
  }
  if (config_.max_msg_rate > 0 && config_.max_msg_burst > 0) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - s.refilled_).count();
    s.refilled_ = now;
    s.tokens_ = std::min(static_cast<double>(config_.max_msg_burst),
                         s.tokens_ + elapsed * config_.max_msg_rate);
    if (s.tokens_ < 1.0) {
      char rate[32];
      std::snprintf(rate, sizeof rate, "%g", config_.max_msg_rate);
      reply_error(s, proto::err::rate_limited,
                  std::string("too many messages: at most ") + rate + " per second (bursts of " +
                      std::to_string(config_.max_msg_burst) + "); this one was not sent");
      return;
    }
    s.tokens_ -= 1.0;
  }
  proto::ChatMsg m{++next_msg_id_, s.nick_, std::move(text), now_ms()};
  auto line = std::make_shared<const std::string>(proto::encode(m));
  history_.push_back(line);
  while (history_.size() > config_.history_size) history_.pop_front();
  broadcast(line, nullptr);
}

void Server::on_too_long(Session& s) {
  reply_error(
      s, proto::err::too_long,
      "line longer than " + std::to_string(config_.max_line_bytes) + " bytes was discarded");
}

void Server::reply_error(Session& s, std::string_view code, std::string message) {
  if (s.errors_logged_ < kErrorsLoggedPerConnection) {
    log(LogLevel::warn, "#" + std::to_string(s.id()) +
                            (s.joined_ ? " (" + s.nick_ + ")" : std::string()) + ": " +
                            std::string(code) + ": " + message);
  } else if (s.errors_logged_ == kErrorsLoggedPerConnection) {
    log(LogLevel::warn, "#" + std::to_string(s.id()) + ": further errors not logged");
  }
  ++s.errors_logged_;
  s.enqueue(std::make_shared<const std::string>(
      proto::encode(proto::Error{std::string(code), std::move(message)})));
}

void Server::broadcast(const SharedLine& line, const Session* except, bool urgent) {
  for (Session* m : members_) {
    if (m != except) m->enqueue(line, /*force=*/false, urgent);
  }
}

void Server::depart(Session& s, std::string_view reason) {
  if (!s.joined_) return;
  s.joined_ = false;
  s.reported_ = true;
  nicks_.erase(s.nick_key_);
  std::erase(members_, &s);
  users_stale_ = true;  // rebuilt by the next join: leaves in a row cost nothing
  const std::int64_t ts = now_ms();
  if (!stopping_) {
    broadcast(std::make_shared<const std::string>(
                  proto::encode(proto::Leave{s.nick_, std::string(reason), ts})),
              nullptr, /*urgent=*/false);
  }
  events_.push(PeerClosed{s.id(), std::string(reason), ts});
  log(LogLevel::info, s.nick_ + " left (" + std::string(reason) + ")");
}

void Server::on_closed(Session& s, std::string_view reason) {
  auto keep = s.shared_from_this();  // s may be the last owner's only reference
  if (s.joined_) {
    depart(s, reason);
  } else if (!s.reported_) {
    events_.push(PeerClosed{s.id(), std::string(reason), now_ms()});
    log(LogLevel::info, "#" + std::to_string(s.id()) + " closed before joining");
  }
  if (auto it = per_ip_.find(s.ip_); it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  sessions_.erase(s.id());
  if (stopping_ && sessions_.empty()) finish_stop();
}

void Server::mark_dirty(std::shared_ptr<Session> s, bool urgent) {
  if (urgent || config_.presence_batch.count() <= 0) {
    dirty_.push_back(std::move(s));
    schedule_flush();
    return;
  }
  presence_dirty_.push_back(std::move(s));
  if (presence_armed_) return;
  presence_armed_ = true;
  presence_timer_.expires_after(config_.presence_batch);
  presence_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    self->presence_armed_ = false;
    if (ec) return;
    // Sessions flushed since they were listed (a chat message went out) have nothing left
    // here: start_write() is then a no-op.
    auto batch = std::move(self->presence_dirty_);
    self->presence_dirty_.clear();
    for (auto& session : batch) session->start_write();
  });
}

void Server::kick_later(std::shared_ptr<Session> s) {
  kicks_.push_back(std::move(s));
  schedule_flush();
}

// Writes start from one posted pass rather than inside broadcast(): every line that
// arrived in the same turn of the loop then leaves in one gathered write per connection.
void Server::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [self = shared_from_this()] { self->flush(); });
}

void Server::flush() {
  flush_posted_ = false;
  while (!kicks_.empty()) {
    auto kicks = std::move(kicks_);
    kicks_.clear();
    for (auto& s : kicks) {
      log(LogLevel::warn,
          "#" + std::to_string(s->id()) + (s->joined_ ? " (" + s->nick_ + ")" : std::string()) +
              " dropped: more than " + std::to_string(config_.max_backlog_bytes >> 10) +
              " KiB waiting to be read");
      s->close(proto::reason::too_slow);
    }
  }
  dirty_spare_.swap(dirty_);
  for (auto& s : dirty_spare_) s->start_write();
  dirty_spare_.clear();
}

void Server::stop(std::string reason, std::function<void()> on_stopped) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = std::move(on_stopped);
  asio::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  presence_timer_.cancel();
  log(LogLevel::info, "stopping: " + (reason.empty() ? std::string("no reason given") : reason) +
                          " (" + std::to_string(sessions_.size()) + " connections)");
  auto notice = std::make_shared<const std::string>(proto::encode(proto::Shutdown{reason}));
  stop_reason_ = std::move(reason);
  // Members leave now (no leave is broadcast: everyone gets the shutdown notice instead).
  for (Session* m : std::vector<Session*>(members_)) depart(*m, "server stopped");
  std::vector<std::shared_ptr<Session>> all;
  all.reserve(sessions_.size());
  for (auto& [id, s] : sessions_) all.push_back(s);
  for (auto& s : all) {
    s->enqueue(notice, /*force=*/true);
    s->begin_close();
  }
  if (sessions_.empty()) {
    asio::post(io_, [self = shared_from_this()] { self->finish_stop(); });
    return;
  }
  stop_timer_.expires_after(config_.close_grace + std::chrono::milliseconds(500));
  stop_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec) return;
    std::vector<std::shared_ptr<Session>> left;
    for (auto& [id, s] : self->sessions_) left.push_back(s);
    for (auto& s : left) s->close(proto::reason::disconnect);
  });
}

void Server::finish_stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_timer_.cancel();
  log(LogLevel::info, "server stopped");
  events_.push(ServerStopped{stop_reason_});
  if (on_stopped_) {
    auto cb = std::move(on_stopped_);
    cb();
  }
}

void Server::log(LogLevel level, std::string text) {
  events_.push(ServerLog{now_ms(), level, std::move(text)});
}

}  // namespace lanchat::net
