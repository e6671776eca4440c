#include "net/connection.hpp"

#include <sys/socket.h>

#include <asio/post.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

#include "net/server.hpp"

namespace lanchat::net {

using asio::ip::tcp;

namespace {

constexpr std::size_t kMaxGather = 64;
constexpr std::size_t kMaxGatherBytes = 256 * 1024;
constexpr int kErrorsLoggedOneByOne = 5;
constexpr auto kErrorSummaryEvery = std::chrono::seconds(10);
constexpr auto kRefusalWindow = std::chrono::seconds(10);
// Bytes of input allowed per line of the line rate: a 4,000-character message in any
// script fits four times over.
constexpr double kBytesPerLine = 16384;
// The first byte of a TLS record that carries a handshake message (a ClientHello).
constexpr unsigned char kTlsHandshakeRecord = 0x16;
// Records decrypted per turn before the other connections get theirs.
constexpr int kTlsReadsPerTurn = 16;

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// A keepalive that went unanswered surfaces as ETIMEDOUT: the peer vanished.
std::string_view reason_for(const asio::error_code& ec) {
  return ec == asio::error::timed_out ? proto::reason::timeout : proto::reason::disconnect;
}

std::string rate_text(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", rate);
  return buf;
}

}  // namespace

Connection::Connection(Server& server, tcp::socket socket, std::uint64_t id, std::string address,
                       std::string ip)
    : server_(&server),
      socket_(std::move(socket)),
      framer_(server.config_.max_line_bytes),
      id_(id),
      address_(std::move(address)),
      ip_(std::move(ip)) {
  const auto now = std::chrono::steady_clock::now();
  const ServerConfig& c = server.config_;
  say_budget_ = TokenBucket(c.max_msg_rate, static_cast<double>(c.max_msg_burst), now);
  if (c.max_line_rate > 0) {
    line_budget_ = TokenBucket(c.max_line_rate, c.max_line_rate * 4, now);
    byte_budget_ =
        TokenBucket(c.max_line_rate * kBytesPerLine, c.max_line_rate * kBytesPerLine * 4, now);
  }
  // Nick changes: 3 at once, then one every 5 seconds (a bot renaming in a loop would
  // flood everyone with notices).
  nick_budget_ = TokenBucket(0.2, 3, now);
  refusals_since_ = now;
  connected_at = now_ms();
}

std::string Connection::who() const {
  std::string s = "#" + std::to_string(id_);
  if (member_ != nullptr) s += " (" + member_->nick + ")";
  return s;
}

void Connection::start() {
  wait_readable();
}

// ---- input ------------------------------------------------------------------------------

void Connection::wait_readable() {
  if (read_waiting_) return;  // one wait at a time, whoever asks (handshake, sniff, read)
  read_waiting_ = true;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const asio::error_code& ec) {
                       self->read_waiting_ = false;
                       self->on_readable(ec);
                     });
}

void Connection::on_readable(const asio::error_code& ec) {
  if (closed_) return;
  if (ec) {
    close(reason_for(ec));
    return;
  }
  switch (transport_) {
    case Transport::sniffing:
      if (!sniff()) {
        if (!closed_) wait_readable();  // woken without a byte to read
        return;
      }
      if (closed_ || transport_ != Transport::plain) return;
      break;  // plain: the first bytes are there, read them now (not a loop turn later)
    case Transport::handshake:
      continue_handshake();
      return;
    case Transport::tls:
      read_tls();
      return;
    case Transport::plain:
      break;
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
  if (!consume(std::string_view(server_->scratch(), n))) return;
  if (!closed_) wait_readable();
}

bool Connection::consume(std::string_view bytes) {
  if (closing_) return true;  // closing: input is read only to be discarded
  // Whatever goes wrong while handling this connection's input stays with it: it is
  // closed, the room is left consistent, and every other connection goes on.
  try {
    framer_.feed(
        bytes, [this](std::string_view line) { return on_line(line) && !closed_ && !closing_; },
        [this] { return on_too_long() && !closed_ && !closing_; });
  } catch (const std::exception& e) {
    server_->contain(*this, "reading", e.what());
    return false;
  } catch (...) {
    server_->contain(*this, "reading", "unknown exception");
    return false;
  }
  return true;
}

// ---- transport: plain or TLS --------------------------------------------------------------

bool Connection::sniff() {
  unsigned char first = 0;
  const ssize_t n = ::recv(socket_.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
    close(errno == ETIMEDOUT ? proto::reason::timeout : proto::reason::disconnect);
    return false;
  }
  if (n == 0) {
    close(proto::reason::disconnect);
    return false;
  }
  const ServerConfig& c = server_->config_;
  if (first == kTlsHandshakeRecord) {
    if (c.tls.mode != TlsMode::off) {
      start_handshake();
      return true;
    }
    // Answered in plain text, which a TLS client reads as "this server does not speak
    // TLS" at once instead of waiting out its handshake deadline.
    transport_ = Transport::plain;
    reply_error(proto::err::tls_unavailable,
                "this room does not offer TLS (encryption); connect without it");
    begin_close();
    return true;
  }
  transport_ = Transport::plain;
  if (c.tls.mode == TlsMode::required && !closing_) {
    reply_error(proto::err::tls_required,
                "this room takes only encrypted connections: connect with TLS (lanchat does "
                "by itself; with a terminal: openssl s_client -quiet -connect HOST:PORT)");
    begin_close();
  }
  return true;
}

void Connection::start_handshake() {
  const ServerConfig& c = server_->config_;
  transport_ = Transport::handshake;
  tls_ = std::make_unique<TlsChannel>(*c.tls.context, socket_.native_handle(),
                                      TlsChannel::Role::server);
  handshake_deadline_ =
      std::make_unique<asio::steady_timer>(socket_.get_executor(), c.tls_handshake_timeout);
  handshake_deadline_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec || self->closed_ || self->transport_ != Transport::handshake) return;
    self->server_->handshake_failed(
        *self, "did not finish within " +
                   std::to_string(self->server_->config_.tls_handshake_timeout.count() / 1000) +
                   " s");
    self->close(proto::reason::timeout);
  });
  continue_handshake();
}

bool Connection::tls_blocked(TlsChannel::Io io, void (Connection::*retry)()) {
  switch (io) {
    case TlsChannel::Io::want_read:
      wait_readable();
      return true;
    case TlsChannel::Io::want_write:
      when_writable(retry);
      return true;
    case TlsChannel::Io::closed:
      close(proto::reason::disconnect);
      return true;
    case TlsChannel::Io::done:
    case TlsChannel::Io::failed:
      break;
  }
  return false;
}

void Connection::continue_handshake() {
  if (closed_) return;
  const TlsChannel::Io io = tls_->handshake();
  if (tls_blocked(io, &Connection::continue_handshake)) return;
  if (io == TlsChannel::Io::failed) {
    server_->handshake_failed(*this, tls_->error());
    close(proto::reason::disconnect);
    return;
  }
  transport_ = Transport::tls;
  handshake_deadline_->cancel();
  server_->secured(*this, tls_->description());
  if (!out_.empty()) start_write();  // what waited for the handshake (an error, say)
  if (!closed_) read_tls();
}

void Connection::read_tls() {
  for (int i = 0; i < kTlsReadsPerTurn; ++i) {
    if (closed_) return;
    std::size_t n = 0;
    const TlsChannel::Io io = tls_->read(server_->scratch(), server_->scratch_size(), n);
    if (tls_blocked(io, &Connection::read_tls)) return;
    if (io == TlsChannel::Io::failed) {
      server_->log(LogLevel::info, who() + " from " + address_ + ": " + tls_->error());
      close(proto::reason::disconnect);
      return;
    }
    if (!consume(std::string_view(server_->scratch(), n))) return;
  }
  // A fair share is done; the rest after the others had theirs. (OpenSSL may hold input
  // it already read, which the socket will not signal again.)
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->closed_) self->read_tls();
  });
}

void Connection::when_writable(void (Connection::*next)()) {
  when_ready(tcp::socket::wait_write, next);
}

void Connection::when_readable(void (Connection::*next)()) {
  when_ready(tcp::socket::wait_read, next);
}

void Connection::when_ready(tcp::socket::wait_type what, void (Connection::*next)()) {
  socket_.async_wait(what, [self = shared_from_this(), next](const asio::error_code& ec) {
    if (self->closed_) return;
    if (ec) {
      self->close(reason_for(ec));
      return;
    }
    ((*self).*next)();
  });
}

bool Connection::charge_line(std::size_t bytes) {
  const auto now = std::chrono::steady_clock::now();
  if (line_budget_.take(1, now) && byte_budget_.take(static_cast<double>(bytes), now)) return true;
  refused("too much input: at most " + rate_text(server_->config_.max_line_rate) +
          " lines per second; this line was ignored");
  return false;
}

void Connection::refused(std::string message, const nlohmann::json& ref) {
  reply_error(proto::err::rate_limited, std::move(message), true, ref);
  const auto now = std::chrono::steady_clock::now();
  if (now - refusals_since_ > kRefusalWindow) {
    refusals_since_ = now;
    refusals_ = 0;
  }
  const std::size_t limit = server_->config_.max_refusals;
  if (limit == 0 || ++refusals_ <= limit) return;
  server_->log(LogLevel::warn, who() + " from " + address_ + " disconnected: still sending after " +
                                   std::to_string(limit) + " refusals in 10 s");
  reply_error(proto::err::rate_limited,
              "disconnected: still sending after " + std::to_string(limit) +
                  " messages were refused within 10 seconds",
              /*log=*/false);
  depart(proto::reason::disconnect);
  begin_close();
}

bool Connection::on_line(std::string_view line) {
  if (!charge_line(line.size() + 1)) return true;
  if (server_->config_.fault_hook) server_->config_.fault_hook("line", id_, line);
  if (is_blank(line)) return true;  // a stray Enter in nc is not worth an error
  auto decoded = server_->decoder().decode(line);
  if (auto* e = std::get_if<proto::Error>(&decoded)) {
    reply_error(e->code, std::move(e->message), true, e->ref);
    return true;
  }
  handle(std::get<proto::ClientMessage>(decoded));
  return true;
}

bool Connection::on_too_long() {
  if (!charge_line(server_->config_.max_line_bytes)) return true;
  reply_error(proto::err::too_long, "line longer than " +
                                        std::to_string(server_->config_.max_line_bytes) +
                                        " bytes was discarded");
  return true;
}

void Connection::handle(proto::ClientMessage& msg) {
  if (auto* hello = std::get_if<proto::Hello>(&msg)) {
    handle_hello(*hello);
  } else if (auto* say = std::get_if<proto::Say>(&msg)) {
    handle_say(*say);
  } else if (auto* ping = std::get_if<proto::Ping>(&msg)) {
    deliver(make_line(proto::encode(proto::Pong{std::move(ping->id)})), Delivery::now);
  } else if (auto* h = std::get_if<proto::HistoryRequest>(&msg)) {
    handle_history(*h);
  } else if (auto* q = std::get_if<proto::Search>(&msg)) {
    handle_search(*q);
  } else if (auto* n = std::get_if<proto::NickChange>(&msg)) {
    handle_nick(*n);
  } else if (auto* r = std::get_if<proto::MembersRequest>(&msg)) {
    if (member_ == nullptr) {
      reply_error(proto::err::not_joined, "send hello before members", true, r->ref);
      return;
    }
    proto::MembersPage page = server_->room_.members_page(*r);
    page.ref = std::move(r->ref);
    deliver(make_line(proto::encode(page)), Delivery::now);
  } else {  // bye
    server_->log(LogLevel::info, who() + " said bye");
    depart(proto::reason::quit);
    begin_close();
  }
}

void Connection::handle_hello(proto::Hello& hello) {
  if (member_ != nullptr) {
    reply_error(proto::err::already_joined, "already joined as \"" + member_->nick + "\"");
    return;
  }
  Server::Admission a = server_->admit(*this, hello);
  if (a.error) {
    reply_error(a.error->code, std::move(a.error->message), a.log_error, hello.ref);
    if (a.close) begin_close();
    return;
  }
  member_ = a.member;
  ever_joined = true;
}

void Connection::handle_say(proto::Say& say) {
  if (member_ == nullptr) {
    reply_error(proto::err::not_joined, "send hello before say", true, say.ref);
    return;
  }
  if (!say_budget_.take(1, std::chrono::steady_clock::now())) {
    const ServerConfig& c = server_->config_;
    refused("too many messages: at most " + rate_text(c.max_msg_rate) + " per second (bursts of " +
                std::to_string(c.max_msg_burst) + "); this one was not sent",
            say.ref);
    return;
  }
  if (auto e = server_->room_.say(*member_, say)) {
    reply_error(e->code, std::move(e->message), true, say.ref);
  }
}

void Connection::handle_nick(proto::NickChange& n) {
  if (member_ == nullptr) {
    reply_error(proto::err::not_joined, "send hello before nick", true, n.ref);
    return;
  }
  // Only a change that happens (and so notifies everyone) costs from the budget.
  const auto now = std::chrono::steady_clock::now();
  if (!nick_budget_.ready(1, now)) {
    refused("too many nick changes: at most one every 5 seconds", n.ref);
    return;
  }
  if (auto e = server_->room_.change_nick(*member_, std::move(n.nick))) {
    reply_error(e->code, std::move(e->message), true, n.ref);
    return;
  }
  nick_budget_.take(1, now);
}

void Connection::kicked(const std::string& message) {
  if (member_ != nullptr) {
    Member* m = member_;
    member_ = nullptr;
    server_->room_.kick(*m, message);
  }
  if (!reported) {
    reported = true;
    server_->events_.emit(PeerClosed{id_, std::string(proto::reason::kicked), now_ms()});
  }
  begin_close();
}

namespace {

constexpr int kMaxQueriesInFlight = 4;

std::vector<std::string> encoded(const Store::Messages& msgs) {
  std::vector<std::string> lines;
  lines.reserve(msgs.size());
  for (const StoredMsg& m : msgs) {
    lines.push_back(proto::encode(proto::ChatMsg{m.id, m.from, m.text, m.ts, {}, m.action}));
  }
  return lines;
}

}  // namespace

void Connection::handle_history(proto::HistoryRequest& h) {
  if (member_ == nullptr) {
    reply_error(proto::err::not_joined, "send hello before history", true, h.ref);
    return;
  }
  Room& room = server_->room_;
  if (auto page = room.page_in_memory(h.before, h.limit)) {
    deliver(make_line(proto::encode_history(page->lines, page->more, h.ref)), Delivery::now);
    return;
  }
  // Older than memory holds: the store's reader thread answers, and encodes the answer
  // there too, so the net thread only queues the finished line.
  ask_store(h.ref, [&](auto reply) {
    return room.store() != nullptr &&
           room.store()->history(
               h.before, h.limit, [reply, ref = h.ref](Store::Messages msgs, bool more) {
                 const auto lines = encoded(msgs);
                 reply(make_line(proto::encode_history({lines.begin(), lines.end()}, more, ref)));
               });
  });
}

void Connection::handle_search(proto::Search& q) {
  if (member_ == nullptr) {
    reply_error(proto::err::not_joined, "send hello before search", true, q.ref);
    return;
  }
  Room& room = server_->room_;
  ask_store(q.ref, [&](auto reply) {
    return room.store() != nullptr &&
           room.store()->search(
               q.text, q.limit, [reply, text = q.text, ref = q.ref](Store::Messages msgs) {
                 const auto lines = encoded(msgs);
                 reply(make_line(proto::encode_found(text, {lines.begin(), lines.end()}, ref)));
               });
  });
}

void Connection::ask_store(const nlohmann::json& ref,
                           const std::function<bool(std::function<void(SharedLine)>)>& ask) {
  // The answer is made on the store's thread and posted back here; a connection gone by
  // then simply gets nothing.
  server_->room_.hand_to_store();  // a search sees what was said before it, this turn too
  auto reply = [&io = server_->io_, weak = weak_from_this()](SharedLine line) {
    asio::post(io, [weak, line = std::move(line)]() mutable {
      if (auto c = weak.lock()) c->answered(std::move(line));
    });
  };
  if (queries_ >= kMaxQueriesInFlight || !ask(std::move(reply))) {
    refused("too many history and search requests at once; ask again when the answers are in", ref);
    return;
  }
  ++queries_;
}

void Connection::answered(SharedLine line) {
  if (queries_ > 0) --queries_;
  deliver(line, Delivery::now);
}

void Connection::depart(std::string_view reason) {
  if (member_ != nullptr) {
    Member* m = member_;
    member_ = nullptr;
    server_->room_.leave(*m, reason);
  }
  if (!reported) {
    reported = true;
    server_->events_.emit(PeerClosed{id_, std::string(reason), now_ms()});
    if (!ever_joined) server_->log(LogLevel::info, who() + " closed before joining");
  }
}

void Connection::dismissed(std::string_view reason) {
  member_ = nullptr;  // the room has let it go already
  close(reason);
}

void Connection::reply_error(std::string_view code, std::string message, bool log,
                             const nlohmann::json& ref) {
  if (log) {
    if (errors_logged_ < kErrorsLoggedOneByOne) {
      ++errors_logged_;
      server_->log(LogLevel::warn, who() + ": " + std::string(code) + ": " + message);
    } else {
      if (error_tally_.empty()) tally_since_ = std::chrono::steady_clock::now();
      ++error_tally_[std::string(code)];
    }
  }
  deliver(make_line(proto::encode(proto::Error{std::string(code), std::move(message), ref})),
          Delivery::now);
}

void Connection::report_errors(bool final) {
  if (error_tally_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - tally_since_ < kErrorSummaryEvery) return;
  std::uint64_t total = 0;
  std::string detail;
  for (const auto& [code, n] : error_tally_) {
    total += n;
    detail += (detail.empty() ? "" : ", ") + code + " " + std::to_string(n);
  }
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - tally_since_).count();
  server_->log(LogLevel::warn, who() + ": " + std::to_string(total) + " more errors in " +
                                   std::to_string(std::max<std::int64_t>(secs, 1)) + " s (" +
                                   detail + ")");
  error_tally_.clear();
}

// ---- output -----------------------------------------------------------------------------

void Connection::deliver(const SharedLine& line, Delivery how) {
  if (closed_ || slow) return;
  const ServerConfig& c = server_->config_;
  if (how != Delivery::forced && out_bytes_ + line->size() > c.max_backlog_bytes) {
    slow = true;
    server_->kick_later(shared_from_this());
    return;
  }
  out_bytes_ += line->size();
  server_->add_queued(line->size());
  out_.push_back(line);
  const bool urgent = how != Delivery::presence;
  if (urgent) urgent_queued_ = true;
  if (writing_) return;  // goes out when the write in flight completes
  if (urgent ? !dirty_ : !dirty_ && !presence_dirty_) {
    (urgent ? dirty_ : presence_dirty_) = true;
    server_->mark_dirty(shared_from_this(), urgent);
  }
}

void Connection::start_write() {
  dirty_ = false;
  presence_dirty_ = false;
  if (closed_ || writing_) return;
  if (out_.empty()) {
    if (closing_) half_close();
    return;
  }
  if (transport_ == Transport::sniffing) {
    // Something to say before the client said anything (a refusal, a shutdown): after
    // its TLS handshake if one is waiting, else in plain text.
    if (!sniff()) {
      if (closed_) return;
      transport_ = Transport::plain;
    }
    if (transport_ != Transport::plain || closed_ || writing_) return;
  }
  if (transport_ == Transport::handshake) return;  // goes out once the handshake is done
  if (server_->config_.fault_hook) server_->config_.fault_hook("write", id_, *out_.front());
  if (transport_ == Transport::tls) {
    writing_ = true;
    write_tls();
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
  socket_.async_write_some(std::span<const asio::const_buffer>(gather_),
                           [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                             self->on_written(ec, n);
                           });
}

void Connection::on_written(const asio::error_code& ec, std::size_t n) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    close(reason_for(ec));
    return;
  }
  advance(n);
  if (defer_to_presence_batch()) return;
  start_write();
}

void Connection::advance(std::size_t n) {
  server_->remove_queued(n);
  out_bytes_ -= n;
  while (n > 0) {
    const std::size_t rest = out_.front()->size() - front_offset_;
    if (n >= rest) {
      n -= rest;
      front_offset_ = 0;
      out_.pop_front();
    } else {
      front_offset_ += n;
      n = 0;
    }
  }
}

bool Connection::defer_to_presence_batch() {
  // Only join/leave notices came in meanwhile: they wait for the presence batch too,
  // otherwise every member would get one write per join during a storm of joins.
  if (out_.empty() || urgent_queued_ || closing_) return false;
  if (!dirty_ && !presence_dirty_) {
    presence_dirty_ = true;
    server_->mark_dirty(shared_from_this(), /*urgent=*/false);
  }
  return true;
}

// OpenSSL takes one buffer per write: the queue is copied into the server's staging buffer
// one record's worth at a time and encrypted from there. A write the socket could not take
// whole waits, and is retried with the same bytes first (the queue only grows at its back
// meanwhile, so rebuilding the staging buffer gives them again).
void Connection::write_tls() {
  while (true) {
    if (closed_) return;
    if (out_.empty()) {
      writing_ = false;
      if (closing_) half_close();
      return;
    }
    char* staging = server_->tls_staging();
    const std::size_t cap = server_->tls_staging_size();
    std::size_t len = 0;
    std::size_t skip = front_offset_;
    std::size_t whole = 0;  // lines taken completely
    for (const auto& l : out_) {
      const std::size_t take = std::min(l->size() - skip, cap - len);
      std::memcpy(staging + len, l->data() + skip, take);
      len += take;
      if (take == l->size() - skip) ++whole;
      skip = 0;
      if (len == cap) break;
    }
    if (whole == out_.size()) urgent_queued_ = false;
    std::size_t n = 0;
    switch (tls_->write(staging, len, n)) {
      case TlsChannel::Io::done:
        advance(n);
        if (defer_to_presence_batch()) {
          writing_ = false;
          return;
        }
        continue;
      case TlsChannel::Io::want_write:
        when_writable(&Connection::write_tls);
        return;
      case TlsChannel::Io::want_read:
        when_readable(&Connection::write_tls);
        return;
      case TlsChannel::Io::closed:
        writing_ = false;
        close(proto::reason::disconnect);
        return;
      case TlsChannel::Io::failed:
        writing_ = false;
        server_->log(LogLevel::info, who() + " from " + address_ + ": " + tls_->error());
        close(proto::reason::disconnect);
        return;
    }
  }
}

void Connection::release_queue() {
  server_->remove_queued(out_bytes_);
  out_bytes_ = 0;
  front_offset_ = 0;
  out_.clear();
}

// ---- closing ----------------------------------------------------------------------------

void Connection::begin_close() {
  if (closed_ || closing_) return;
  closing_ = true;
  if (!writing_ && out_.empty()) half_close();
}

// All output is out: send FIN, then keep reading (and discarding) until the peer closes
// too. Closing with unread input would send RST, which can destroy the last lines we sent
// (the shutdown notice) before the peer reads them.
void Connection::half_close() {
  if (closed_ || half_closed_) return;
  half_closed_ = true;
  if (transport_ == Transport::tls) tls_->close_notify();
  asio::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  linger_ =
      std::make_unique<asio::steady_timer>(socket_.get_executor(), server_->config_.close_grace);
  linger_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->close(proto::reason::disconnect);
  });
}

void Connection::close(std::string_view reason) {
  if (closed_) return;
  detach();
  server_->on_closed(*this, reason);
}

void Connection::detach() {
  if (closed_) return;
  closed_ = true;
  asio::error_code ignored;
  socket_.close(ignored);
  if (linger_) linger_->cancel();
  if (handshake_deadline_) handshake_deadline_->cancel();
  release_queue();
}

}  // namespace lanchat::net
