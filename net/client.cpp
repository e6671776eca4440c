#include "net/client.hpp"

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ssl.hpp>
#include <asio/write.hpp>
#include <unordered_set>

#include "net/tls.hpp"

namespace lanchat::net {

using asio::ip::tcp;

namespace {

// Replies that refuse a `say` (and nothing else this client sends at a person's pace).
bool refuses_a_say(const std::string& code) {
  return code == proto::err::bad_text || code == proto::err::rate_limited || code == "muted" ||
         code == "no_such_nick" || code == proto::err::too_long;
}

}  // namespace

std::shared_ptr<Client> Client::create(asio::io_context& io, ClientConfig config,
                                       EventQueue& events) {
  return std::shared_ptr<Client>(new Client(io, std::move(config), events));
}

Client::Client(asio::io_context& io, ClientConfig config, EventQueue& events)
    : io_(io),
      config_(std::move(config)),
      events_(events, next_instance_id()),
      resolver_(io),
      socket_(io),
      connect_timer_(io),
      ping_timer_(io),
      retry_timer_(io),
      quit_timer_(io),
      members_timer_(io),
      framer_(proto::kMaxServerLineBytes),
      read_buf_(16 * 1024) {
  pinned_ = config_.fingerprint;
}

Client::~Client() = default;

asio::ip::tcp::socket& Client::socket() {
  return tls_ ? tls_->next_layer() : socket_;
}

void Client::start() {
  if (state_ != State::idle) return;
  connect();
}

void Client::connect() {
  state_ = State::connecting;
  const std::uint64_t gen = ++gen_;
  events_.emit(ClientConnecting{config_.host, config_.port, attempt_});
  connect_timer_.expires_after(config_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), gen](const asio::error_code& ec) {
    if (ec || gen != self->gen_ || self->state_ != State::connecting) return;
    self->resolver_.cancel();
    self->close_socket();
    self->lost("timed out");
  });
  resolver_.async_resolve(
      config_.host, std::to_string(config_.port),
      [self = shared_from_this(), gen](const asio::error_code& ec, tcp::resolver::results_type r) {
        if (gen != self->gen_ || self->state_ != State::connecting) return;
        if (ec) {
          self->lost(ec == asio::error::operation_aborted ? "timed out" : ec.message());
          return;
        }
        asio::async_connect(self->socket_, r,
                            [self, gen](const asio::error_code& e, const tcp::endpoint&) {
                              self->on_connected(e, gen);
                            });
      });
}

void Client::on_connected(const asio::error_code& ec, std::uint64_t gen) {
  if (gen != gen_ || state_ != State::connecting) return;
  connect_timer_.cancel();
  if (ec) {
    lost(ec.message());
    return;
  }
  asio::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (config_.on_connected) {
    const tcp::endpoint local = socket_.local_endpoint(ignored);
    if (!ignored) config_.on_connected(local);
  }
  if (config_.tls && !plain_only_) {
    start_tls(gen);
    return;
  }
  if (config_.tls && !config_.password.empty()) {
    // We wanted encryption and the host offers none: the password would cross the network
    // for anyone to read. Not sent; the person decides (--plaintext says "I know").
    close_socket();
    state_ = State::closed;
    ++gen_;
    const std::string where = config_.host + ":" + std::to_string(config_.port);
    const std::string text = where +
                             " does not offer encryption, so the password was not sent (anyone "
                             "on the network could read it). Ask the host to turn encryption "
                             "on, or join with --plaintext to send it in clear text anyway";
    fail_unsent("not sent: " + text);
    events_.emit(ClientDisconnected{text, false, std::chrono::milliseconds(0)});
    return;
  }
  send_hello(gen);
}

void Client::start_tls(std::uint64_t gen) {
  state_ = State::handshaking;
  tls_ = std::make_shared<TlsStream>(std::move(socket_), config_.tls->asio());
  connect_timer_.expires_after(config_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), gen](const asio::error_code& ec) {
    if (ec || gen != self->gen_ || self->state_ != State::handshaking) return;
    self->on_handshake(asio::error::timed_out, gen);
  });
  tls_->async_handshake(asio::ssl::stream_base::client,
                        [self = shared_from_this(), gen, keep = tls_](const asio::error_code& ec) {
                          self->on_handshake(ec, gen);
                        });
}

void Client::on_handshake(const asio::error_code& ec, std::uint64_t gen) {
  if (gen != gen_ || state_ != State::handshaking) return;
  connect_timer_.cancel();
  if (ec) {
    // The host answered with something that is not TLS (a lanchat without encryption
    // answers with an error line; an older one may say nothing at all). Unless this host
    // was seen encrypted before, that is a host without TLS: go again in plain.
    const bool not_offered = tls_not_offered(ec) || ec == asio::error::timed_out ||
                             ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    if (not_offered && !pinned_.empty()) {
      identity_mismatch({});
      return;
    }
    close_socket();
    if (not_offered) {
      plain_only_ = true;
      socket_ = tcp::socket(io_);
      connect();
      return;
    }
    lost("the encrypted connection could not be set up: " + ec.message());
    return;
  }
  const std::string fingerprint = peer_fingerprint(tls_->native_handle());
  if (!pinned_.empty() && fingerprint != pinned_) {
    identity_mismatch(fingerprint);
    return;
  }
  const bool first = pinned_.empty();
  pinned_ = fingerprint;
  events_.emit(ClientSecured{fingerprint, session_description(tls_->native_handle()), first});
  send_hello(gen);
}

void Client::identity_mismatch(const std::string& got) {
  close_socket();
  state_ = State::closed;
  ++gen_;
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  std::string text;
  if (got.empty()) {
    text = where +
           " no longer offers encryption, but it was encrypted when you trusted it "
           "(identity " +
           grouped_fingerprint(pinned_) +
           "). Someone may be standing in for the host. Nothing was sent.";
  } else {
    text = where + " is not the host you trusted: it shows identity " + grouped_fingerprint(got) +
           ", but you trusted " + grouped_fingerprint(pinned_) +
           ". Someone may be standing in for the host, or it was set up again. Nothing was "
           "sent; trust the new identity only if the host confirms it.";
  }
  fail_unsent("not sent: the host's identity does not match");
  events_.emit(ClientIdentityMismatch{config_.host, config_.port, pinned_, got, text});
}

void Client::send_hello(std::uint64_t gen) {
  state_ = State::hello_sent;
  proto::Hello hello{config_.nick, proto::kVersion, std::nullopt, std::nullopt};
  hello.summaries = true;
  if (!config_.password.empty()) hello.password = config_.password;
  if (!reclaim_.empty()) hello.reclaim = reclaim_;
  // Resume: the room we were in and the last message we saw there, so the welcome brings
  // exactly what we missed.
  if (!room_id_.empty()) {
    hello.room_id = room_id_;
    hello.last_id = last_id_;
  }
  send(proto::encode(hello));
  read_more(gen);
}

void Client::read_more(std::uint64_t gen) {
  auto on_read = [self = shared_from_this(), gen, keep = tls_](const asio::error_code& ec,
                                                               std::size_t n) {
    if (gen != self->gen_ || self->state_ == State::closed || self->state_ == State::connecting ||
        self->state_ == State::handshaking || self->state_ == State::idle ||
        self->state_ == State::waiting_nick) {
      return;
    }
    if (ec) {
      const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      self->lost(closed ? "the server closed the connection" : ec.message());
      return;
    }
    self->framer_.feed(
        std::string_view(self->read_buf_.data(), n),
        [&](std::string_view line) { return self->gen_ == gen && self->on_line(line); },
        [] { return true; });
    if (gen == self->gen_ && self->state_ != State::closed && self->state_ != State::waiting_nick) {
      self->read_more(gen);
    }
  };
  if (tls_) {
    tls_->async_read_some(asio::buffer(read_buf_), std::move(on_read));
  } else {
    socket_.async_read_some(asio::buffer(read_buf_), std::move(on_read));
  }
}

bool Client::on_line(std::string_view line) {
  auto decoded = proto::decode_server(line);
  if (auto* e = std::get_if<proto::Error>(&decoded)) {
    // A newer server may send types we do not know: skip them quietly.
    if (e->code != proto::err::unknown_type) {
      events_.emit(
          ClientServerError{{"bad_message", "unreadable line from server: " + e->message}});
    }
    return true;
  }
  const std::uint64_t gen = gen_;
  handle(std::get<proto::ServerMessage>(decoded));
  return gen == gen_ && state_ != State::closed && state_ != State::waiting_nick;
}

void Client::on_welcome(proto::Welcome& w) {
  state_ = State::joined;
  const bool rejoined = ever_joined_;
  ever_joined_ = true;
  attempt_ = 0;
  config_.nick = w.nick;
  reclaim_ = w.reclaim;
  users_ = w.users;
  fetching_ = false;  // any fetch was on the old connection
  fetch_again_ = false;
  const bool same_room = rejoined && !room_id_.empty() && w.room_id == room_id_;
  // History continues where we left off only within one room_id: after a restart that
  // lost the room's history, ids start over and everything in the welcome is new.
  if (same_room) {
    std::erase_if(w.history, [&](const proto::ChatMsg& m) { return m.id <= last_id_; });
  }
  std::vector<std::uint64_t> confirmed;
  for (const auto& m : w.history) {
    last_id_ = std::max(last_id_, m.id);
    // Our own lines we never saw echoed: they reached the room before the link dropped.
    if (same_room && m.from == config_.nick && !unconfirmed_.empty()) {
      confirmed.push_back(unconfirmed_.front().local_id);
      unconfirmed_.pop_front();
    }
  }
  room_id_ = w.room_id;
  // What was written but never reached the room goes out again, before anything newer.
  while (!unconfirmed_.empty()) {
    pending_.push_front(std::move(unconfirmed_.back()));
    unconfirmed_.pop_back();
  }
  const bool partial = w.members.value_or(0) > users_.size();  // a large room's first page
  events_.emit(ClientWelcome{std::move(w), rejoined, same_room, std::move(confirmed)});
  if (partial) want_members();
  schedule_ping(gen_);
  send_pending_and_maybe_bye();
}

void Client::on_refused(proto::Error& e) {
  close_socket();
  ++gen_;
  out_.clear();
  writing_ = false;
  framer_ = LineFramer(proto::kMaxServerLineBytes);
  if (ever_joined_ && config_.reconnect && !quit_requested_ && e.code == proto::err::server_full) {
    lost("the server is full");  // a place may free up: keep trying, with backoff
    return;
  }
  // Anything else needs a person: another nick (someone took ours while we were away) or
  // another password. Unsent messages wait for rejoin_as().
  state_ = State::waiting_nick;
  if (quit_requested_) {
    fail_unsent("not sent: " + e.message);
    finish_closed();
    return;
  }
  events_.emit(ClientRejected{std::move(e), ever_joined_, config_.nick});
}

void Client::handle(proto::ServerMessage& msg) {
  if (auto* w = std::get_if<proto::Welcome>(&msg)) {
    on_welcome(*w);
  } else if (auto* m = std::get_if<proto::ChatMsg>(&msg)) {
    last_id_ = std::max(last_id_, m->id);
    std::uint64_t local_id = 0;
    if (m->from == config_.nick && !unconfirmed_.empty()) {
      local_id = unconfirmed_.front().local_id;
      unconfirmed_.pop_front();
    }
    events_.emit(ClientChat{std::move(*m), local_id});
  } else if (auto* j = std::get_if<proto::Join>(&msg)) {
    if (std::find(users_.begin(), users_.end(), j->nick) == users_.end()) users_.push_back(j->nick);
    events_.emit(ClientJoin{std::move(*j)});
  } else if (auto* l = std::get_if<proto::Leave>(&msg)) {
    if (l->nick == config_.nick && l->reason == proto::reason::kicked) {
      // The host removed us: the connection ends here, and reconnecting would be coming
      // back uninvited.
      close_socket();
      state_ = State::closed;
      ++gen_;
      fail_unsent("not sent: the host removed you from the room");
      events_.emit(ClientKicked{std::move(l->message)});
      return;
    }
    std::erase(users_, l->nick);
    events_.emit(ClientLeave{std::move(*l)});
  } else if (auto* sum = std::get_if<proto::Presence>(&msg)) {
    apply_presence(users_, *sum);
    if (fetching_) fetch_again_ = true;  // pages already read may miss these changes
    const bool stale = !sum->listed;
    events_.emit(ClientPresence{std::move(*sum)});
    if (stale) want_members();
  } else if (auto* mp = std::get_if<proto::MembersPage>(&msg)) {
    on_members(*mp);
  } else if (auto* n = std::get_if<proto::NickChanged>(&msg)) {
    std::replace(users_.begin(), users_.end(), n->old_nick, n->new_nick);
    const bool mine = n->old_nick == config_.nick;
    // A reconnect goes back in under the new nick (its reclaim secret stays valid).
    if (mine) config_.nick = n->new_nick;
    events_.emit(ClientNick{std::move(*n), mine});
  } else if (auto* nt = std::get_if<proto::Notice>(&msg)) {
    events_.emit(ClientNotice{std::move(*nt)});
  } else if (auto* p = std::get_if<proto::Pong>(&msg)) {
    if (p->id.is_number_unsigned() && p->id.get<std::uint64_t>() == ping_outstanding_ &&
        ping_outstanding_ != 0) {
      ping_outstanding_ = 0;
      const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - ping_sent_at_);
      events_.emit(ClientRtt{rtt});
    }
  } else if (auto* e = std::get_if<proto::Error>(&msg)) {
    if (state_ == State::hello_sent) {
      on_refused(*e);
      return;
    }
    // An error names what it answers by the request's ref; without one (a line refused
    // before it was read) it can only be about the oldest message still unconfirmed.
    const std::string ref = e->ref.is_string() ? e->ref.get<std::string>() : std::string();
    if (auto q = queries_.find(ref); !ref.empty() && q != queries_.end()) {
      Query query = std::move(q->second);
      queries_.erase(q);
      query_failed(query, e->message.empty() ? e->code : e->message);
      return;
    }
    auto said = unconfirmed_.end();
    if (ref.size() > 1 && ref[0] == 's') {
      const std::uint64_t id = std::strtoull(ref.c_str() + 1, nullptr, 10);
      said = std::find_if(unconfirmed_.begin(), unconfirmed_.end(),
                          [&](const Outgoing& o) { return o.local_id == id; });
    } else if (ref.empty() && refuses_a_say(e->code)) {
      said = unconfirmed_.begin();
    }
    if (said != unconfirmed_.end()) {
      Outgoing o = std::move(*said);
      unconfirmed_.erase(said);
      events_.emit(ClientSayFailed{o.local_id, std::move(o.text), std::move(*e)});
      return;
    }
    events_.emit(ClientServerError{std::move(*e)});
  } else if (auto* h = std::get_if<proto::HistoryPage>(&msg)) {
    const std::string ref = h->ref.is_string() ? h->ref.get<std::string>() : std::string();
    auto q = queries_.find(ref);
    if (q == queries_.end()) return;
    const std::uint64_t around = q->second.kind == 'c' ? q->second.around : 0;
    queries_.erase(q);
    events_.emit(ClientHistory{std::move(h->msgs), h->more, around});
  } else if (auto* f = std::get_if<proto::Found>(&msg)) {
    const std::string ref = f->ref.is_string() ? f->ref.get<std::string>() : std::string();
    if (queries_.erase(ref) == 0) return;
    events_.emit(ClientFound{std::move(f->text), std::move(f->msgs)});
  } else if (auto* s = std::get_if<proto::Shutdown>(&msg)) {
    close_socket();
    state_ = State::closed;
    ++gen_;
    fail_unsent("not sent: the server shut down");
    events_.emit(ClientShutdown{std::move(s->reason)});
  }
}

void Client::say(std::string text, std::uint64_t local_id, std::string to, bool action) {
  if (state_ == State::closed || quit_requested_) {
    events_.emit(ClientSayFailed{
        local_id, std::move(text), {"not_connected", "not sent: the connection has ended"}});
    return;
  }
  if (auto why = proto::check_text(text)) {
    events_.emit(
        ClientSayFailed{local_id, std::move(text), {std::string(proto::err::bad_text), *why}});
    return;
  }
  if (pending_.size() + unconfirmed_.size() >= kMaxUnsent) {
    events_.emit(ClientSayFailed{
        local_id,
        std::move(text),
        {"not_connected", "not sent: " + std::to_string(kMaxUnsent) + " messages already wait"}});
    return;
  }
  Outgoing o{local_id, std::move(text), std::move(to), action};
  if (state_ != State::joined) {
    pending_.push_back(std::move(o));
    return;
  }
  send_say(o);
  unconfirmed_.push_back(std::move(o));
}

void Client::send_say(const Outgoing& o) {
  proto::Say say{o.text};
  say.to = o.to;
  say.action = o.action;
  if (o.local_id != 0) say.ref = "s" + std::to_string(o.local_id);
  send(proto::encode(say));
}

void Client::change_nick(std::string nick) {
  if (state_ != State::joined) {
    events_.emit(ClientServerError{{"not_connected", "not connected: the nick was not changed"}});
    return;
  }
  send(proto::encode(proto::NickChange{std::move(nick), "n" + std::to_string(++next_query_)}));
}

void Client::load_older(std::uint64_t before, std::size_t limit) {
  const std::string ref = "h" + std::to_string(++next_query_);
  Query q{'h', 0, {}};
  if (state_ != State::joined) {
    query_failed(q, "not connected");
    return;
  }
  queries_[ref] = q;
  send(proto::encode(proto::HistoryRequest{before, limit, ref}));
}

void Client::show_context(std::uint64_t id, std::size_t each_side) {
  const std::string ref = "c" + std::to_string(++next_query_);
  Query q{'c', id, {}};
  if (state_ != State::joined) {
    query_failed(q, "not connected");
    return;
  }
  queries_[ref] = q;
  // Ids are not dense (direct messages take ids too), so "the n before id + n + 1" is
  // roughly n on each side, the hit in the middle.
  send(proto::encode(proto::HistoryRequest{id + each_side + 1, 2 * each_side + 1, ref}));
}

void Client::search(std::string text, std::size_t limit) {
  const std::string ref = "f" + std::to_string(++next_query_);
  Query q{'f', 0, text};
  if (state_ != State::joined) {
    query_failed(q, "not connected");
    return;
  }
  queries_[ref] = q;
  send(proto::encode(proto::Search{std::move(text), limit, ref}));
}

void Client::query_failed(const Query& q, const std::string& why) {
  if (q.kind == 'f') {
    events_.emit(ClientFound{q.text, {}, why});
  } else {
    events_.emit(ClientHistory{{}, false, q.kind == 'c' ? q.around : 0, why});
  }
}

void Client::fail_queries(const std::string& why) {
  for (auto& [ref, q] : queries_) query_failed(q, why);
  queries_.clear();
}

void Client::rejoin_as(std::string nick) {
  if (state_ != State::waiting_nick) return;
  if (config_.nick != nick) reclaim_.clear();  // the secret belongs to the old nick
  config_.nick = std::move(nick);
  socket_ = tcp::socket(io_);
  attempt_ = 0;
  connect();
}

void Client::quit() {
  if (state_ == State::closed) return;
  quit_requested_ = true;
  if (state_ == State::joined) {
    send_pending_and_maybe_bye();
  } else if (state_ == State::idle || state_ == State::waiting_nick) {
    // Not started, waiting to reconnect or for a new nick: there is no connection to say
    // bye on.
    retry_timer_.cancel();
    fail_unsent("not sent: you left before the connection was back");
    finish_closed();
  }
  // Connecting: the bye follows the welcome, so a script still learns (from the exit
  // status) whether it could join, and held messages are still delivered.
}

void Client::send_pending_and_maybe_bye() {
  while (!pending_.empty()) {
    Outgoing o = std::move(pending_.front());
    pending_.pop_front();
    send_say(o);
    unconfirmed_.push_back(std::move(o));
  }
  if (quit_requested_ && !bye_sent_) {
    bye_sent_ = true;
    send(proto::encode(proto::Bye{}));
    // The server closes after bye; do not wait forever for a server that does not.
    quit_timer_.expires_after(std::chrono::seconds(2));
    quit_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (ec || self->state_ == State::closed) return;
      self->close_socket();
      self->finish_closed();
    });
  }
}

void Client::fail_unsent(const std::string& why) {
  for (auto* q : {&unconfirmed_, &pending_}) {
    for (auto& o : *q) {
      events_.emit(ClientSayFailed{o.local_id, std::move(o.text), {"not_connected", why}});
    }
    q->clear();
  }
}

void Client::stop() {
  state_ = State::closed;
  ++gen_;
  resolver_.cancel();
  connect_timer_.cancel();
  retry_timer_.cancel();
  quit_timer_.cancel();
  members_timer_.cancel();
  close_socket();
}

namespace {
// A client that shows the whole member list fetches it again at most this often, however
// often the room changes faster than summaries can list.
constexpr auto kMembersRefetch = std::chrono::seconds(2);
constexpr std::string_view kMembersRef = "members";
}  // namespace

void Client::want_members() {
  if (!config_.member_list) return;
  if (fetching_) {
    fetch_again_ = true;
    return;
  }
  if (fetch_armed_) return;
  const auto due = last_fetch_ + kMembersRefetch;
  if (std::chrono::steady_clock::now() >= due) {
    request_members(gen_);
    return;
  }
  fetch_armed_ = true;
  members_timer_.expires_at(due);
  members_timer_.async_wait([self = shared_from_this(), gen = gen_](const asio::error_code& ec) {
    self->fetch_armed_ = false;
    if (ec || gen != self->gen_ || self->state_ != State::joined) return;
    self->request_members(gen);
  });
}

void Client::request_members(std::uint64_t gen) {
  if (gen != gen_ || state_ != State::joined) return;
  if (!fetching_) {
    fetching_ = true;
    fetch_again_ = false;
    fetched_.clear();
    last_fetch_ = std::chrono::steady_clock::now();
  }
  proto::MembersRequest r;
  r.offset = fetched_.size();
  r.limit = proto::kMaxMembersPage;
  r.ref = std::string(kMembersRef);
  send(proto::encode(r));
}

void Client::on_members(proto::MembersPage& page) {
  if (!fetching_ || !page.ref.is_string() ||
      page.ref.get_ref<const std::string&>() != kMembersRef) {
    return;
  }
  for (auto& u : page.users) fetched_.push_back(std::move(u));
  if (page.more && !page.users.empty()) {
    request_members(gen_);
    return;
  }
  fetching_ = false;
  // Pages are read at different moments: a leave between two of them shifts the offsets.
  // Duplicates go now; anything missed is fetched again if the room changed meanwhile.
  std::vector<std::string> seen_order;
  seen_order.reserve(fetched_.size());
  std::unordered_set<std::string_view> seen;
  seen.reserve(fetched_.size());
  for (const auto& u : fetched_) {
    if (seen.insert(u).second) seen_order.push_back(u);
  }
  fetched_.clear();
  users_ = std::move(seen_order);
  events_.emit(ClientSnapshot{users_});
  if (fetch_again_) want_members();
}

void Client::emit_snapshot() {
  events_.emit(ClientSnapshot{users_});
}

void Client::send(std::string line) {
  out_.push_back(std::move(line));
  if (!writing_) write_next(gen_);
}

void Client::write_next(std::uint64_t gen) {
  if (out_.empty() || state_ == State::closed || gen != gen_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto on_written = [self = shared_from_this(), gen, keep = tls_](const asio::error_code& ec,
                                                                  std::size_t) {
    if (gen != self->gen_) return;
    self->writing_ = false;
    if (ec) {
      if (self->state_ != State::closed) self->lost(ec.message());
      return;
    }
    self->out_.pop_front();
    self->write_next(gen);
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(out_.front()), std::move(on_written));
  } else {
    asio::async_write(socket_, asio::buffer(out_.front()), std::move(on_written));
  }
}

void Client::schedule_ping(std::uint64_t gen) {
  ping_timer_.expires_after(config_.ping_interval);
  ping_timer_.async_wait([self = shared_from_this(), gen](const asio::error_code& ec) {
    if (ec || gen != self->gen_ || self->state_ != State::joined) return;
    const auto now = std::chrono::steady_clock::now();
    if (self->ping_outstanding_ != 0) {
      if (now - self->ping_sent_at_ >= self->config_.ping_timeout) {
        self->close_socket();
        self->lost("the server stopped answering");
        return;
      }
    } else {
      self->ping_outstanding_ = ++self->next_ping_id_;
      self->ping_sent_at_ = now;
      self->send(proto::encode(proto::Ping{self->ping_outstanding_}));
    }
    self->schedule_ping(gen);
  });
}

void Client::close_socket() {
  asio::error_code ignored;
  // No TLS close_notify: it would need a write after the peer may be gone, and the server
  // treats a plain close as the end of the connection either way.
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  tls_.reset();  // pending operations keep their stream until they finish
  ping_timer_.cancel();
  connect_timer_.cancel();
}

void Client::finish_closed() {
  state_ = State::closed;
  ++gen_;
  quit_timer_.cancel();
  fail_queries("the connection closed");
  fail_unsent("not sent: the connection closed first");
  events_.emit(ClientClosed{});
}

void Client::lost(const std::string& why) {
  if (state_ == State::closed) return;
  const bool was_joined = state_ == State::joined;
  close_socket();
  if (quit_requested_ && bye_sent_) {
    finish_closed();
    return;
  }
  ++gen_;
  out_.clear();
  writing_ = false;
  framer_ = LineFramer(proto::kMaxServerLineBytes);
  ping_outstanding_ = 0;
  fail_queries("the connection was lost");
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  std::string text = (state_ == State::connecting || state_ == State::handshaking) && !ever_joined_
                         ? "cannot connect to " + where + ": " + why
                         : "connection to " + where + " lost: " + why;
  if (config_.reconnect && ever_joined_ && !quit_requested_) {
    const auto backoff = std::min<std::chrono::milliseconds>(
        config_.max_backoff, std::chrono::milliseconds(500) * (1 << std::min(attempt_, 5)));
    ++attempt_;
    state_ = State::idle;
    events_.emit(ClientDisconnected{std::move(text), was_joined, backoff});
    retry_timer_.expires_after(backoff);
    retry_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec && self->state_ == State::idle) {
        self->socket_ = tcp::socket(self->io_);
        self->connect();
      }
    });
    return;
  }
  state_ = State::closed;
  fail_unsent("not sent: " + text);
  events_.emit(ClientDisconnected{std::move(text), was_joined, std::chrono::milliseconds(0)});
}

}  // namespace lanchat::net
