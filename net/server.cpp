#include "net/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <asio/post.hpp>
#include <ctime>

#include "net/connection.hpp"
#include "net/endpoint.hpp"
#include "net/log_text.hpp"

namespace lanchat::net {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

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

std::string seconds_text(Clock::duration d) {
  return std::to_string(std::max<std::int64_t>(
             1, std::chrono::duration_cast<std::chrono::seconds>(d + std::chrono::milliseconds(999))
                    .count())) +
         " s";
}

}  // namespace

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
      events_(events, next_instance_id()),
      room_(RoomConfig{config_.room, {}, config_.history_size, 2000, config_.large_room}, events_),
      acceptor_(io),
      retry_timer_(io),
      stop_timer_(io),
      presence_timer_(io),
      flush_timer_(io),
      summary_timer_(io),
      housekeeping_timer_(io),
      write_pacer_(config_.write_gap, config_.large_write_pass, config_.write_gap_lines),
      scratch_(64 * 1024),
      tls_staging_(16 * 1024) {
  require_tls_for_password();
  // The room lives and dies with the server and only calls this from the net thread.
  room_.on_presence_pending([this] { arm_summary(); });
  room_.on_broadcast([this] { line_waiting(); });
}

Server::~Server() {
  for (auto& [id, c] : connections_) c->detach();
  if (announcer_) announcer_->stop();
}

void Server::start_announcing() {
  if (local_.address().is_loopback()) {
    log(LogLevel::info, "not announced on the LAN: listening on " + local_.address().to_string() +
                            ", which only this machine can reach");
    return;
  }
  const bool one_address = !local_.address().is_unspecified();
  auto describe = [weak = weak_from_this(), one_address] {
    discovery::Announce a;
    auto self = weak.lock();
    if (!self) return a;
    const ServerConfig& c = self->config_;
    a.room = c.room;
    a.port = self->local_.port();
    a.users = static_cast<std::uint32_t>(self->room_.size());
    a.password = !c.password.empty();
    a.tls = c.tls.mode;
    a.fingerprint = c.tls.mode == TlsMode::off ? std::string() : c.tls.fingerprint;
    if (one_address) a.address = self->local_.address().to_string();
    return a;
  };
  announcer_ = Announcer::create(io_, config_.announce, std::move(describe),
                                 [weak = weak_from_this()](LogLevel level, std::string text) {
                                   if (auto self = weak.lock()) self->log(level, std::move(text));
                                 });
  announcer_->start(local_.address());
}

namespace {
std::string count_text(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}
}  // namespace

void Server::attach_tls(ServerTls tls) {
  config_.tls = std::move(tls);
  require_tls_for_password();
}

void Server::require_tls_for_password() {
  if (config_.tls.mode == TlsMode::on && !config_.password.empty() &&
      !config_.allow_plaintext_password) {
    config_.tls.mode = TlsMode::required;
  }
}

void prepare_tls(ServerConfig& config, const std::filesystem::path& data_dir) {
  if (config.tls.mode == TlsMode::off) return;
  const Identity identity = load_or_create_identity(data_dir);
  config.tls.context = TlsContext::server(identity);
  config.tls.fingerprint = identity.fingerprint;
  config.tls.identity_note =
      identity.created ? "made this host's identity in " + identity.dir.string() +
                             " (keep it: clients that joined before will not trust another)"
                       : std::string();
}

void Server::attach_store(std::shared_ptr<Store> store, StoreContents contents) {
  store_ = std::move(store);
  room_.restore(contents, store_.get());
  const StoreStatus st = store_->status();
  if (st.path.empty()) {
    log(LogLevel::info, "history: kept in memory only; it is gone when the server stops");
  } else if (contents.created) {
    log(LogLevel::info, "history: new store " + st.path);
  } else {
    log(LogLevel::info,
        "history: " + count_text(contents.count, "message", "messages") + " loaded from " +
            st.path +
            (contents.count > 0 ? " (#" + std::to_string(contents.oldest_id) + " to #" +
                                      std::to_string(contents.last_id) + ")"
                                : std::string()));
  }
  events_.emit(ServerStore{st.path, st.bytes, st.messages, st.failing, st.error, st.unsaved});
  for (const Ban& b : contents.bans) bans_[b.address] = b;
  if (!bans_.empty()) {
    log(LogLevel::info, "bans: " + std::to_string(bans_.size()) + " in force, from the store");
  }
  emit_bans();
  // The store calls back on its writer thread: hop to the net thread before touching us.
  store_->set_status_callback([&io = io_, weak = weak_from_this()](const StoreStatus& s) {
    asio::post(io, [weak, s] {
      if (auto self = weak.lock()) self->on_store_status(s);
    });
  });
}

void Server::on_store_status(const StoreStatus& s) {
  if (s.failing && !store_failing_) {
    log(LogLevel::error, "cannot write the room's history to " + s.path + ": " + s.error +
                             ". Chat goes on; messages are kept in memory and written once it "
                             "works again");
  } else if (!s.failing && store_failing_) {
    log(LogLevel::info, "history: writing to " + s.path + " works again");
  }
  store_failing_ = s.failing;
  room_.set_oldest(s.oldest_id);
  events_.emit(ServerStore{s.path, s.bytes, s.messages, s.failing, s.error, s.unsaved});
}

void Server::fail(std::string message) {
  events_.emit(ServerFailed{message, true});
  log(LogLevel::error, std::move(message));
}

std::optional<std::string> Server::start() {
  const std::string where = config_.bind_address + ":" + std::to_string(config_.port);
  if (!store_) {
    StoreContents contents;
    StoreOptions memory;
    memory.keep_messages = kMemoryRoomMessages;
    std::shared_ptr<Store> opened = Store::open(memory, contents);  // fills contents first
    attach_store(std::move(opened), std::move(contents));
  }
  auto fail = [&](std::string msg) {
    events_.emit(ServerFailed{msg});
    log(LogLevel::error, msg);
    return std::optional<std::string>(std::move(msg));
  };
  if (config_.tls.mode != TlsMode::off && !config_.tls.context) {
    return fail("encryption is on but the host identity was not loaded (prepare_tls)");
  }
  auto ep = resolve_bind_endpoint(io_, config_.bind_address, config_.port);
  if (auto* e = std::get_if<std::string>(&ep)) return fail(*e);
  const tcp::endpoint endpoint = std::get<tcp::endpoint>(ep);

  asio::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  // As long a queue as the kernel allows (it caps this at net.core.somaxconn, 4,096 by
  // default), so that a host expecting thousands at once can raise that setting and have
  // it count; asio's max_listen_connections is a fixed 4,096.
  if (!ec) acceptor_.listen(65535, ec);
  if (!ec) acceptor_.non_blocking(true, ec);  // on_accept drains the queue with accept()
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
  const bool tls = config_.tls.mode != TlsMode::off;
  events_.emit(ServerListening{local_.address().to_string(), local_.port(), config_.room,
                               config_.tls.mode, config_.tls.fingerprint});
  log(LogLevel::info, "listening on " + to_string(local_) + " (room \"" + config_.room + "\"" +
                          (config_.password.empty() ? "" : ", password required") + ")");
  // The identity right after where to find it, so whoever reads the log can tell people
  // what to compare when their lanchat asks.
  if (!tls) {
    log(config_.password.empty() ? LogLevel::info : LogLevel::warn,
        config_.password.empty()
            ? "encryption off: everything crosses the network in clear text"
            : "encryption off: everything, the password too, crosses the network in clear text");
  } else {
    log(LogLevel::info,
        std::string(config_.tls.mode == TlsMode::required ? "encryption required (TLS only)"
                                                          : "encryption on (TLS; plain JSON too)") +
            "; host identity fingerprint SHA-256 " + grouped_fingerprint(config_.tls.fingerprint));
    if (!config_.tls.identity_note.empty()) log(LogLevel::info, config_.tls.identity_note);
  }
  accept_next();
  housekeeping();
  if (config_.announce.enabled) start_announcing();
  return std::nullopt;
}

// ---- accepting --------------------------------------------------------------------------

void Server::accept_next() {
  if (stopping_) return;
  acceptor_.async_accept(
      [self = shared_from_this()](const asio::error_code& ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void Server::configure(tcp::socket& socket) {
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
  // Everything else already waiting is taken first, then set up. When thousands connect
  // at once, the kernel's listen queue (4,096) fills within a fraction of a second, and a
  // connection that finds it full waits a second or more for a retransmit; taking one
  // connection per turn of the loop, behind every hello already read, made that happen
  // twice as often (10,000 at once, 4 runs each: 1.1 to 3.1 s to connect, against 2.1 to
  // 4.2 s).
  std::vector<tcp::socket> more;
  for (;;) {
    asio::error_code again;
    tcp::socket next(io_);
    acceptor_.accept(next, again);
    if (again) break;
    more.push_back(std::move(next));
  }
  take_connection(std::move(socket));
  for (auto& s : more) take_connection(std::move(s));
  accept_next();
}

void Server::take_connection(tcp::socket socket) {
  configure(socket);
  asio::error_code opt;
  const tcp::endpoint peer = socket.remote_endpoint(opt);
  const std::string addr = opt ? std::string("unknown") : to_string(peer);
  const std::string ip = opt ? std::string("unknown") : peer.address().to_string();
  const std::uint64_t id = ++next_conn_id_;
  // Counted before the caps are checked, so the refused connection is counted while it
  // reads its error and closes.
  AddressState& a = address(ip);
  ++a.open;
  ++a.unjoined;
  const std::size_t open = connections_.size() + 1;
  auto c = std::make_shared<Connection>(*this, std::move(socket), id, addr, ip);
  c->host = !opt && host_endpoint_ && peer == *host_endpoint_;
  connections_.emplace(id, c);
  events_.emit(PeerConnected{id, addr, c->connected_at});
  std::string refusal;
  if (config_.max_clients > 0 && open > config_.max_clients) {
    refusal = "the server is full (" + std::to_string(config_.max_clients) + " connections)";
  } else if (config_.max_per_ip > 0 && a.open > config_.max_per_ip) {
    refusal =
        "too many connections from " + ip + " (limit " + std::to_string(config_.max_per_ip) + ")";
  } else if (config_.max_unjoined_per_ip > 0 && a.unjoined > config_.max_unjoined_per_ip) {
    refusal = "too many connections from " + ip + " that have not joined yet (limit " +
              std::to_string(config_.max_unjoined_per_ip) + ")";
  }
  if (!refusal.empty()) {
    log(LogLevel::warn, "refused " + addr + " (#" + std::to_string(id) + "): " + refusal);
    c->deliver(
        make_line(proto::encode(proto::Error{std::string(proto::err::server_full), refusal})),
        Delivery::forced);
    c->begin_close();
  } else {
    log(LogLevel::info, "connection from " + addr + " (#" + std::to_string(id) + ")");
    if (config_.hello_timeout.count() > 0) arrivals_.emplace_back(Clock::now(), c);
  }
  c->start();
}

void Server::set_host_endpoint(const tcp::endpoint& ep) {
  host_endpoint_ = ep;
  const std::string addr = to_string(ep);
  for (auto& [id, c] : connections_) {
    if (c->address() == addr) c->host = true;
  }
}

// ---- admission --------------------------------------------------------------------------

namespace {
// "until 14:05", "until Tue 24 Nov 14:05", or "until the host lifts it".
std::string until_text(std::int64_t until_ms) {
  if (until_ms == 0) return "until the host lifts the ban";
  const auto t = static_cast<std::time_t>(until_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[48];
  const bool today = until_ms - now_ms() < 12 * 3600 * 1000;
  std::strftime(buf, sizeof buf, today ? "until %H:%M" : "until %a %d %b %H:%M", &tm);
  return buf;
}
}  // namespace

Server::Admission Server::admit(Connection& c, proto::Hello& hello) {
  // A banned address: told until when, and closed. (Not the host's own connection, which
  // shares 127.0.0.1 with anyone banned from the host's machine.)
  if (auto b = bans_.find(c.ip()); b != bans_.end() && !c.host) {
    if (b->second.until == 0 || b->second.until > now_ms()) {
      log(LogLevel::warn, "refused " + c.address() + " (#" + std::to_string(c.id()) + "): banned " +
                              until_text(b->second.until));
      return {nullptr,
              proto::Error{std::string(proto::err::banned),
                           "you are banned from this room " + until_text(b->second.until) +
                               (b->second.reason.empty() ? "" : " (" + b->second.reason + ")"),
                           hello.ref},
              /*close=*/true, /*log_error=*/false};
    }
  }
  AddressState& a = address(c.ip());
  const auto now = Clock::now();
  // The host's own client shares 127.0.0.1 with anyone guessing from the same machine: a
  // lockout of that address must not lock the host out of its own room.
  if (now < a.locked_until && !c.host) {
    ++a.refused_while_locked;
    return {nullptr,
            proto::Error{std::string(proto::err::rate_limited),
                         "too many wrong passwords from your address; try again in " +
                             seconds_text(a.locked_until - now)},
            /*close=*/true, /*log_error=*/false};
  }
  if (!config_.password.empty() &&
      !(hello.password && constant_time_equal(*hello.password, config_.password))) {
    while (!a.wrong_passwords.empty() &&
           now - a.wrong_passwords.front() > config_.password_window) {
      a.wrong_passwords.pop_front();
    }
    a.wrong_passwords.push_back(now);
    ++a.wrong_total;
    const auto tries = a.wrong_passwords.size();
    log(LogLevel::warn, std::string(hello.password ? "wrong" : "missing") + " password from " +
                            c.address() + " (#" + std::to_string(c.id()) +
                            "): " + std::to_string(tries) + " in the last minute, " +
                            std::to_string(a.wrong_total) + " in all");
    const std::string what = hello.password ? "wrong password" : "this room needs a password";
    if (config_.password_attempts > 0 &&
        tries >= static_cast<std::size_t>(config_.password_attempts)) {
      a.wrong_passwords.clear();
      a.locked_until = now + config_.lockout;
      log(LogLevel::warn, c.ip() + " locked out for " + seconds_text(config_.lockout) + " after " +
                              std::to_string(tries) + " wrong passwords within a minute");
      return {nullptr,
              proto::Error{std::string(proto::err::bad_password),
                           what + "; too many tries from your address, try again in " +
                               seconds_text(config_.lockout)},
              /*close=*/true, /*log_error=*/false};
    }
    return {nullptr, proto::Error{std::string(proto::err::bad_password), what}, false, false};
  }
  auto joined = room_.join(c, c.id(), hello, c.host);
  if (auto* e = std::get_if<proto::Error>(&joined)) return {nullptr, std::move(*e)};
  if (a.unjoined > 0) --a.unjoined;
  Member* m = std::get<Member*>(joined);
  // Muted by the host before: still muted, whatever the connection.
  if (muted_.contains(c.ip() + "/" + m->keys.folded)) {
    m->muted = true;
    events_.emit(PeerMuted{m->conn, true});
  }
  return {m, std::nullopt};
}

void Server::release_address(const std::string& ip) {
  auto it = addresses_.find(ip);
  if (it == addresses_.end()) return;
  const AddressState& a = it->second;
  if (a.open == 0 && a.wrong_passwords.empty() && a.locked_until <= Clock::now() &&
      a.refused_while_locked == 0) {
    addresses_.erase(it);
  }
}

// ---- closing ----------------------------------------------------------------------------

void Server::on_closed(Connection& c, std::string_view reason) {
  auto keep = c.shared_from_this();  // c may be the last owner's only reference
  c.depart(reason);
  c.report_errors(/*final=*/true);
  if (auto it = addresses_.find(c.ip()); it != addresses_.end()) {
    if (it->second.open > 0) --it->second.open;
    if (!c.ever_joined && it->second.unjoined > 0) --it->second.unjoined;
    release_address(c.ip());
  }
  connections_.erase(c.id());
  if (stopping_ && connections_.empty()) finish_stop();
}

void Server::contain(Connection& c, const char* where, const char* what) {
  log(LogLevel::error, std::string("internal error while ") + where + " for " + c.who() + " from " +
                           c.address() + ": " + what + "; connection closed");
  try {
    c.close(proto::reason::disconnect);
  } catch (...) {
    c.detach();  // at least let go of the socket; the room was left by depart() or never joined
  }
}

// ---- writing ----------------------------------------------------------------------------

void Server::mark_dirty(std::shared_ptr<Connection> c, bool urgent) {
  if (urgent || config_.presence_batch.count() <= 0) {
    dirty_.push_back(std::move(c));
    schedule_flush();
    return;
  }
  presence_dirty_.push_back(std::move(c));
  if (presence_armed_) return;
  presence_armed_ = true;
  presence_timer_.expires_after(config_.presence_batch);
  presence_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    self->presence_armed_ = false;
    if (ec) return;
    // Connections flushed since they were listed (a chat message went out) have nothing
    // left here: start_write() is then a no-op.
    auto batch = std::move(self->presence_dirty_);
    self->presence_dirty_.clear();
    for (auto& conn : batch) {
      try {
        conn->start_write();
      } catch (const std::exception& e) {
        self->contain(*conn, "writing", e.what());
      }
    }
  });
}

void Server::arm_summary() {
  if (summary_armed_ || stopping_) return;
  summary_armed_ = true;
  summary_timer_.expires_after(config_.presence_summary);
  summary_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    self->summary_armed_ = false;
    if (ec || self->stopping_) return;
    self->room_.flush_presence();
  });
}

void Server::kick_later(std::shared_ptr<Connection> c) {
  kicks_.push_back(std::move(c));
  schedule_flush();
}

void Server::add_queued(std::size_t bytes) {
  queued_bytes_ += bytes;
  if (config_.max_memory_bytes > 0 && queued_bytes_ > config_.max_memory_bytes && !shed_pending_) {
    shed_pending_ = true;
    schedule_flush();
  }
}

// Writes start from one posted pass rather than inside a broadcast: every line that
// arrived in the same turn of the loop then leaves in one gathered write per connection.
// After a large pass the next may wait a few milliseconds (WritePacer), gathering more.
void Server::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  const auto wait = write_pacer_.may_wait()
                        ? write_pacer_.wait(WritePacer::Clock::now(), lines_waiting_)
                        : WritePacer::Clock::duration::zero();
  if (wait <= WritePacer::Clock::duration::zero()) {
    asio::post(io_, [self = shared_from_this()] { self->flush(); });
    return;
  }
  wait_for_pass(wait);
}

// The handler runs whatever happens (stopping included): a pass is owed. Cancelling the
// wait (line_waiting) only makes the handler ask the pacer again, sooner.
void Server::wait_for_pass(WritePacer::Clock::duration wait) {
  flush_timer_.expires_after(wait);
  flush_timer_.async_wait(
      [self = shared_from_this()](const asio::error_code&) { self->flush_when_due(); });
}

void Server::flush_when_due() {
  const auto wait = write_pacer_.wait(WritePacer::Clock::now(), lines_waiting_);
  if (wait <= WritePacer::Clock::duration::zero()) {
    flush();
    return;
  }
  wait_for_pass(wait);
}

// The line that makes enough waiting cuts a waiting pass short (cancelling a timer that
// is not waiting does nothing; the handler asks the pacer again, so half the gap still holds).
void Server::line_waiting() {
  if (++lines_waiting_ == write_pacer_.enough_lines()) flush_timer_.cancel();
}

void Server::flush() {
  flush_posted_ = false;
  lines_waiting_ = 0;
  room_.hand_to_store();
  if (shed_pending_) shed_memory();
  while (!kicks_.empty()) {
    auto kicks = std::move(kicks_);
    kicks_.clear();
    for (auto& c : kicks) {
      if (c->closed()) continue;
      log(LogLevel::warn, c->who() + " dropped: more than " +
                              std::to_string(config_.max_backlog_bytes >> 10) +
                              " KiB waiting to be read");
      c->close(proto::reason::too_slow);
    }
  }
  dirty_spare_.swap(dirty_);
  const std::size_t connections = dirty_spare_.size();
  write_pacer_.passed(
      write_pacer_.large(connections) ? WritePacer::Clock::now() : WritePacer::Clock::time_point{},
      connections);
  // One connection's failure must not keep the others' output from going out.
  for (auto& c : dirty_spare_) {
    try {
      c->start_write();
    } catch (const std::exception& e) {
      contain(*c, "writing", e.what());
    } catch (...) {
      contain(*c, "writing", "unknown exception");
    }
  }
  dirty_spare_.clear();
}

void Server::shed_memory() {
  shed_pending_ = false;
  if (queued_bytes_ <= config_.max_memory_bytes) return;
  std::vector<std::shared_ptr<Connection>> by_backlog;
  for (auto& [id, c] : connections_) {
    if (!c->closed() && c->backlog() > 0) by_backlog.push_back(c);
  }
  std::sort(by_backlog.begin(), by_backlog.end(),
            [](const auto& a, const auto& b) { return a->backlog() > b->backlog(); });
  const std::size_t target = config_.max_memory_bytes / 10 * 9;
  for (auto& c : by_backlog) {
    if (queued_bytes_ <= target) break;
    log(LogLevel::warn, c->who() + " dropped: the server's output reached its memory limit (" +
                            std::to_string(config_.max_memory_bytes >> 20) +
                            " MiB) and this connection had the largest backlog (" +
                            std::to_string(c->backlog() >> 10) + " KiB)");
    c->close(proto::reason::too_slow);
  }
}

// ---- once a second ----------------------------------------------------------------------

void Server::housekeeping() {
  if (stopping_) return;
  const auto now = Clock::now();
  // Connections that never said hello in time.
  while (!arrivals_.empty() && now - arrivals_.front().first >= config_.hello_timeout) {
    auto c = arrivals_.front().second.lock();
    arrivals_.pop_front();
    if (!c || c->closed() || c->ever_joined) continue;
    log(LogLevel::info, c->who() + " from " + c->address() + " closed: no hello within " +
                            seconds_text(config_.hello_timeout));
    c->reply_error(proto::err::hello_timeout,
                   "no hello within " + seconds_text(config_.hello_timeout) + "; closing",
                   /*log=*/false);
    c->begin_close();
  }
  // Bans that ran out.
  bool bans_changed = false;
  for (auto it = bans_.begin(); it != bans_.end();) {
    if (it->second.until != 0 && it->second.until <= now_ms()) {
      log(LogLevel::info, "the ban of " + it->first + " (" + it->second.nick + ") ran out");
      if (store_) store_->remove_ban(it->first);
      it = bans_.erase(it);
      bans_changed = true;
    } else {
      ++it;
    }
  }
  if (bans_changed) emit_bans();
  // Failed handshakes counted since they were last reported.
  if (handshake_failures_counted_ > 0 &&
      now - handshake_failures_since_ >= std::chrono::seconds(10)) {
    log(LogLevel::warn, std::to_string(handshake_failures_counted_) +
                            " more TLS handshakes failed in the last 10 s");
    handshake_failures_counted_ = 0;
  }
  // Errors counted since they were last reported.
  for (auto& [id, c] : connections_) c->report_errors(/*final=*/false);
  // Lockouts that ended, with what they refused.
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    AddressState& a = it->second;
    if (a.refused_while_locked > 0 && a.locked_until <= now) {
      log(LogLevel::warn, it->first + ": lockout over; " + std::to_string(a.refused_while_locked) +
                              " hellos were refused during it");
      a.refused_while_locked = 0;
    }
    while (!a.wrong_passwords.empty() &&
           now - a.wrong_passwords.front() > config_.password_window) {
      a.wrong_passwords.pop_front();
    }
    const bool idle = a.open == 0 && a.wrong_passwords.empty() && a.locked_until <= now;
    it = idle ? addresses_.erase(it) : std::next(it);
  }
  housekeeping_timer_.expires_after(std::chrono::seconds(1));
  housekeeping_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->housekeeping();
  });
}

// ---- encryption -------------------------------------------------------------------------

void Server::secured(Connection& c, const std::string& description) {
  events_.emit(PeerSecured{c.id(), description});
}

void Server::handshake_failed(Connection& c, const std::string& why) {
  const auto now = Clock::now();
  if (now - handshake_failures_since_ >= std::chrono::seconds(10)) {
    handshake_failures_since_ = now;
    handshake_failures_logged_ = 0;
  }
  if (handshake_failures_logged_ < 5) {
    ++handshake_failures_logged_;
    log(LogLevel::info, c.who() + " from " + c.address() + ": TLS handshake " + escaped(why, 200));
  } else {
    ++handshake_failures_counted_;
  }
}

// ---- moderation -------------------------------------------------------------------------

Connection* Server::moderated(std::uint64_t conn, const char* what) {
  auto it = connections_.find(conn);
  if (it == connections_.end() || it->second->closed() || it->second->member() == nullptr) {
    log(LogLevel::warn, std::string("cannot ") + what + " #" + std::to_string(conn) +
                            ": not in the room (any more)");
    return nullptr;
  }
  if (it->second->host) {
    log(LogLevel::warn, std::string("cannot ") + what + " the host's own connection");
    return nullptr;
  }
  return it->second.get();
}

void Server::kick(std::uint64_t conn, std::string message) {
  Connection* c = moderated(conn, "kick");
  if (c == nullptr) return;
  log(LogLevel::warn, "the host kicked " + c->who() + " from " + c->address() +
                          (message.empty() ? std::string() : ": " + escaped(message, 200)));
  c->kicked(message);
}

void Server::mute(std::uint64_t conn, bool muted) {
  Connection* c = moderated(conn, muted ? "mute" : "unmute");
  if (c == nullptr) return;
  Member& m = *c->member();
  const std::string key = c->ip() + "/" + m.keys.folded;
  if (muted) {
    muted_[key] = true;
  } else {
    muted_.erase(key);
  }
  log(LogLevel::warn, std::string("the host ") + (muted ? "muted " : "unmuted ") + c->who());
  room_.set_muted(m, muted);
}

void Server::ban(std::uint64_t conn, std::chrono::seconds duration, std::string reason) {
  Connection* c = moderated(conn, "ban");
  if (c == nullptr) return;
  Ban b{c->ip(), duration.count() > 0 ? now_ms() + duration.count() * 1000 : 0, c->member()->nick,
        reason, now_ms()};
  log(LogLevel::warn, "the host banned " + c->ip() + " (" + c->member()->nick + ", #" +
                          std::to_string(conn) + ") " + until_text(b.until) +
                          (reason.empty() ? std::string() : ": " + escaped(reason, 200)));
  bans_[b.address] = b;
  if (store_) store_->put_ban(b);
  emit_bans();
  c->kicked("banned " + until_text(b.until) + (reason.empty() ? "" : ": " + reason));
}

void Server::unban(const std::string& address) {
  if (bans_.erase(address) == 0) {
    log(LogLevel::warn, "cannot unban " + escaped(address, 64) + ": not banned");
    return;
  }
  log(LogLevel::warn, "the host unbanned " + address);
  if (store_) store_->remove_ban(address);
  emit_bans();
}

void Server::emit_bans() {
  ServerBans e;
  for (const auto& [address, b] : bans_) e.bans.push_back({b.address, b.until, b.nick, b.reason});
  std::sort(e.bans.begin(), e.bans.end(),
            [](const auto& x, const auto& y) { return x.address < y.address; });
  events_.emit(std::move(e));
}

void Server::emit_snapshot() {
  ServerSnapshot s;
  s.peers.reserve(connections_.size());
  for (auto& [id, c] : connections_) {
    if (c->reported) continue;
    s.peers.push_back({id, c->address(), c->member() ? c->member()->nick : std::string(),
                       c->connected_at, c->host, c->member() != nullptr && c->member()->muted,
                       c->encrypted() ? c->tls_description() : std::string()});
  }
  std::sort(s.peers.begin(), s.peers.end(),
            [](const auto& a, const auto& b) { return a.conn < b.conn; });
  events_.emit(std::move(s));
}

// ---- stopping ---------------------------------------------------------------------------

void Server::stop(std::string reason, std::function<void()> on_stopped) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = std::move(on_stopped);
  asio::error_code ignored;
  acceptor_.close(ignored);
  if (announcer_) announcer_->stop();  // the goodbye goes first: joiners stop offering it
  retry_timer_.cancel();
  presence_timer_.cancel();
  summary_timer_.cancel();
  housekeeping_timer_.cancel();
  log(LogLevel::info, "stopping: " + (reason.empty() ? std::string("no reason given") : reason) +
                          " (" + std::to_string(connections_.size()) + " connections)");
  auto notice = make_line(proto::encode(proto::Shutdown{reason}));
  stop_reason_ = std::move(reason);
  // Members leave now, without leave notices: everyone gets the shutdown notice instead.
  room_.silence();
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(connections_.size());
  for (auto& [id, c] : connections_) all.push_back(c);
  for (auto& c : all) {
    c->depart("server stopped");
    c->deliver(notice, Delivery::forced);
    c->begin_close();
  }
  if (connections_.empty()) {
    asio::post(io_, [self = shared_from_this()] { self->finish_stop(); });
    return;
  }
  stop_timer_.expires_after(config_.close_grace + std::chrono::milliseconds(500));
  stop_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec) return;
    std::vector<std::shared_ptr<Connection>> left;
    for (auto& [id, c] : self->connections_) left.push_back(c);
    for (auto& c : left) c->close(proto::reason::disconnect);
  });
}

void Server::finish_stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_timer_.cancel();
  if (!store_) {
    stopped_and_stored();
    return;
  }
  room_.hand_to_store();
  // Everything broadcast is written before the server says it has stopped. The server
  // must live until then, but must never be released on the store's thread (its last
  // reference going there would destroy the store from its own thread): the reference is
  // handed over to the net thread, not copied.
  store_->flush([&io = io_, self = shared_from_this()]() mutable {
    asio::post(io, [self = std::move(self)] { self->stopped_and_stored(); });
  });
}

void Server::stopped_and_stored() {
  if (store_) {
    const StoreStatus s = store_->status();
    if (s.failing && s.unsaved > 0) {
      log(LogLevel::error, count_text(s.unsaved, "message", "messages") +
                               " could not be written to " + s.path + ": " + s.error);
    }
  }
  log(LogLevel::info, "server stopped");
  events_.emit(ServerStopped{stop_reason_});
  if (on_stopped_) {
    auto cb = std::move(on_stopped_);
    cb();
  }
}

}  // namespace lanchat::net
