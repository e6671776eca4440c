#include "net/browser.hpp"

#include <algorithm>

#include "net/interfaces.hpp"

namespace lanchat::net {

namespace {
using Clock = std::chrono::steady_clock;

// "fe80::1%eth0" rather than asio's numeric scope, so that a person can read it and the
// resolver can use it.
std::string source_text(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  }
  return a.to_string();
}
}  // namespace

std::shared_ptr<Browser> Browser::create(asio::io_context& io, BrowserConfig config,
                                         EventQueue& events) {
  return std::shared_ptr<Browser>(new Browser(io, config, events));
}

Browser::Browser(asio::io_context& io, BrowserConfig config, EventQueue& events)
    : config_(std::move(config)),
      events_(events, next_instance_id()),
      listen_v4_(io),
      listen_v6_(io),
      ask_v4_(io),
      ask_v6_(io),
      emit_timer_(io),
      sweep_timer_(io),
      again_timer_(io) {}

void Browser::start() {
  since_ = now_ms();
  std::string problems;
  if (auto why = open_shared_udp(listen_v4_.socket, false, config_.port)) {
    problems = "cannot hear announcements (" + *why + "); only hosts that answer show up";
  }
  if (open_shared_udp(listen_v6_.socket, true, config_.port)) {
    // No IPv6 here, or the port is taken: IPv4 alone still finds every room.
  }
  if (open_shared_udp(ask_v4_.socket, false, 0)) {
    problems += std::string(problems.empty() ? "" : "; ") + "cannot send queries over IPv4";
  }
  (void)open_shared_udp(ask_v6_.socket, true, 0);
  problem_ = problems;
  for (Socket* s : {&listen_v4_, &listen_v6_, &ask_v4_, &ask_v6_}) {
    if (s->socket.is_open()) receive(*s);
  }
  query();
  sweep();
}

void Browser::query() {
  if (stopped_) return;
  // Three queries over the first second: a datagram can be lost, the list should not be.
  queries_left_ = 3;
  again_timer_.cancel();
  send_queries();
}

void Browser::send_queries() {
  if (stopped_ || queries_left_ <= 0) return;
  --queries_left_;
  const auto interfaces = config_.interfaces();
  const auto targets =
      lan_targets(interfaces, config_.port, ask_v4_.socket.is_open(), ask_v6_.socket.is_open());
  interfaces_ = 0;
  for (const auto& i : interfaces) {
    if (!i.v4.empty() || i.multicast_v6) ++interfaces_;
  }
  for (unsigned index : targets.v6_interfaces) join_group(listen_v6_.socket, index);
  auto datagram = std::make_shared<std::string>(discovery::encode(discovery::Query{}));
  auto done = [datagram](const asio::error_code&, std::size_t) {};
  for (const auto& ep : targets.v4) ask_v4_.socket.async_send_to(asio::buffer(*datagram), ep, done);
  for (const auto& ep : targets.v6) ask_v6_.socket.async_send_to(asio::buffer(*datagram), ep, done);
  changed();  // the interface count may be news
  if (queries_left_ > 0) {
    again_timer_.expires_after(std::chrono::milliseconds(queries_left_ == 2 ? 250 : 750));
    again_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->send_queries();
    });
  }
}

void Browser::receive(Socket& s) {
  receive_datagrams(s, [self = shared_from_this(), &s](std::size_t n) {
    if (self->stopped_) return false;
    self->on_datagram(s, n);
    return true;
  });
}

void Browser::on_datagram(const Socket& s, std::size_t size) {
  auto parsed = discovery::parse(std::string_view(s.buffer.data(), size));
  if (std::holds_alternative<std::string>(parsed)) {
    ++dropped_;
    return;
  }
  const std::string source = source_text(s.from.address());
  auto& d = std::get<discovery::Datagram>(parsed);
  if (auto* bye = std::get_if<discovery::Goodbye>(&d)) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.room.instance == bye->instance; });
    if (it == entries_.end()) return;
    // Only the host itself may take its room off the list: a goodbye from anywhere else is
    // someone else's doing.
    if (std::find(it->sources.begin(), it->sources.end(), source) == it->sources.end()) {
      ++dropped_;
      return;
    }
    entries_.erase(it);
    changed();
    return;
  }
  auto* a = std::get_if<discovery::Announce>(&d);
  if (a == nullptr) return;  // someone else's query
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.room.instance == a->instance; });
  if (it == entries_.end()) {
    if (entries_.size() >= config_.max_rooms) {
      ++dropped_;
      return;
    }
    entries_.emplace_back();
    it = entries_.end() - 1;
  }
  Entry& e = *it;
  FoundRoom& r = e.room;
  const FoundRoom before = r;
  r.instance = a->instance;
  r.room = std::move(a->room);
  r.port = a->port;
  r.users = a->users;
  r.password = a->password;
  r.tls = a->tls;
  r.fingerprint = std::move(a->fingerprint);
  r.version = std::move(a->version);
  r.proto = a->proto;
  r.seen = now_ms();
  if (std::find(e.sources.begin(), e.sources.end(), source) == e.sources.end()) {
    // IPv4 first: an address people can read and type, and that needs no interface name.
    const bool v4 = s.from.address().is_v4() || s.from.address().to_v6().is_v4_mapped();
    if (v4) {
      auto first_v6 = std::find_if(e.sources.begin(), e.sources.end(), [](const std::string& x) {
        return x.find(':') != std::string::npos;
      });
      e.sources.insert(first_v6, source);
    } else {
      e.sources.push_back(source);
    }
    if (e.sources.size() > 8) e.sources.pop_back();
  }
  e.announced_address = a->address;
  r.address = !e.announced_address.empty() && e.announced_address != "0.0.0.0" &&
                      e.announced_address != "::"
                  ? e.announced_address
                  : e.sources.front();
  // Three missed announcements, and a little for the network.
  e.expires =
      Clock::now() + 3 * std::chrono::milliseconds(a->interval_ms) + std::chrono::milliseconds(500);
  // A refresh with nothing new still moves "seen" on, but that can wait for the sweep.
  if (!same_listing(before, r)) changed();
}

void Browser::sweep() {
  if (stopped_) return;
  const auto now = Clock::now();
  const auto n = entries_.size();
  std::erase_if(entries_, [&](const Entry& e) { return e.expires < now; });
  if (entries_.size() != n) changed();
  // "Seen 2 s ago" stays true without an event per announcement: one list a second.
  else if (!entries_.empty())
    changed();
  sweep_timer_.expires_after(std::chrono::milliseconds(1000));
  sweep_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->sweep();
  });
}

void Browser::changed() {
  if (emit_armed_ || stopped_) return;
  emit_armed_ = true;
  emit_timer_.expires_after(config_.coalesce);
  emit_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    self->emit_armed_ = false;
    if (ec || self->stopped_) return;
    self->events_.emit(self->snapshot());
  });
}

RoomsFound Browser::snapshot() const {
  RoomsFound f;
  f.rooms.reserve(entries_.size());
  for (const Entry& e : entries_) f.rooms.push_back(e.room);
  f.since = since_;
  f.interfaces = interfaces_;
  f.problem = problem_;
  if (f.problem.empty() && interfaces_ == 0) {
    f.problem = "no network interface is up besides loopback";
  }
  f.dropped = dropped_;
  return f;
}

void Browser::stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::error_code ignored;
  emit_timer_.cancel();
  sweep_timer_.cancel();
  again_timer_.cancel();
  for (Socket* s : {&listen_v4_, &listen_v6_, &ask_v4_, &ask_v6_}) s->socket.close(ignored);
}

}  // namespace lanchat::net
