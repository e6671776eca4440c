#include "net/announcer.hpp"

#include <random>

#include "net/interfaces.hpp"

namespace lanchat::net {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxSources = 1024;  // askers remembered for their rate limit
}  // namespace

std::shared_ptr<Announcer> Announcer::create(asio::io_context& io, AnnounceConfig config,
                                             Describe describe, Log log) {
  return std::shared_ptr<Announcer>(
      new Announcer(io, std::move(config), std::move(describe), std::move(log)));
}

Announcer::Announcer(asio::io_context& io, AnnounceConfig config, Describe describe, Log log)
    : io_(io),
      config_(std::move(config)),
      describe_(std::move(describe)),
      log_(std::move(log)),
      v4_(io),
      v6_(io),
      timer_(io),
      instance_(discovery::new_instance_id()),
      total_(config_.answers_total, config_.answers_total * 2, Clock::now()),
      last_report_(Clock::now()) {}

void Announcer::start(const asio::ip::address& listening) {
  listening_ = listening;
  // 0.0.0.0 takes IPv4 only; :: takes both (Linux's dual stack); a given address, its own.
  const bool want_v4 =
      listening.is_v4() || listening == asio::ip::address(asio::ip::address_v6::any());
  const bool want_v6 = listening.is_v6();
  if (want_v4) {
    if (auto why = open_shared_udp(v4_.socket, false, config_.port)) {
      log_(LogLevel::warn, "not announced on the LAN over IPv4: " + *why +
                               "; people can still join by typing the address");
    }
  }
  if (want_v6) {
    if (auto why = open_shared_udp(v6_.socket, true, config_.port)) {
      log_(LogLevel::warn, "not announced on the LAN over IPv6: " + *why);
    }
  }
  if (v4_.socket.is_open()) receive(v4_);
  if (v6_.socket.is_open()) receive(v6_);
  tick();
}

void Announcer::receive(Socket& s) {
  receive_datagrams(s, [self = shared_from_this(), &s](std::size_t n) {
    if (self->stopped_) return false;
    self->on_datagram(s, n);
    return true;
  });
}

void Announcer::on_datagram(Socket& s, std::size_t size) {
  auto parsed = discovery::parse(std::string_view(s.buffer.data(), size));
  if (std::holds_alternative<std::string>(parsed)) {
    ++stats_.malformed;
    return;
  }
  const auto& d = std::get<discovery::Datagram>(parsed);
  if (!std::holds_alternative<discovery::Query>(d)) return;  // other hosts' news
  if (!may_answer(s.from.address())) {
    ++stats_.unanswered;
    report_drops();
    return;
  }
  auto datagram = std::make_shared<std::string>(announcement());
  ++stats_.answered;
  s.socket.async_send_to(asio::buffer(*datagram), s.from,
                         [datagram](const asio::error_code&, std::size_t) {});
  report_drops();
}

bool Announcer::may_answer(const asio::ip::address& to) {
  const auto now = Clock::now();
  if (!total_.ready(1, now)) return false;
  auto key = to.to_string();
  auto it = per_source_.find(key);
  if (it == per_source_.end()) {
    if (per_source_.size() >= kMaxSources) per_source_.clear();  // a spoofed flood: forget all
    it = per_source_
             .emplace(std::move(key),
                      TokenBucket(config_.answers_per_source, config_.answers_per_source * 2, now))
             .first;
  }
  if (!it->second.take(1, now)) return false;
  return total_.take(1, now);
}

void Announcer::report_drops() {
  const auto now = Clock::now();
  if (now - last_report_ < std::chrono::seconds(60)) return;
  const auto malformed = stats_.malformed - reported_.malformed;
  const auto unanswered = stats_.unanswered - reported_.unanswered;
  last_report_ = now;
  reported_ = stats_;
  if (malformed == 0 && unanswered == 0) return;
  log_(LogLevel::warn, "discovery: in the last minute, dropped " + std::to_string(malformed) +
                           " malformed datagrams and left " + std::to_string(unanswered) +
                           " queries unanswered (rate limit)");
}

std::string Announcer::announcement() {
  auto a = describe_();
  a.instance = instance_;
  a.interval_ms = static_cast<std::uint32_t>(config_.interval.count());
  return discovery::encode(a);
}

void Announcer::tick() {
  if (stopped_) return;
  send_all(announcement());
  report_drops();
  // Twice in the first second (a datagram can be lost), then every interval, with a
  // little jitter so that hosts started together do not stay in step.
  std::chrono::milliseconds next = config_.interval;
  if (ticks_++ == 0) {
    next = std::min(next, std::chrono::milliseconds(1000));
  } else {
    static thread_local std::minstd_rand jitter(std::random_device{}());
    const auto spread = next.count() / 10;
    if (spread > 0)
      next -= std::chrono::milliseconds(
          static_cast<long>(jitter() % static_cast<unsigned long>(spread)));
  }
  timer_.expires_after(next);
  timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->tick();
  });
}

void Announcer::send_all(const std::string& text) {
  const auto interfaces = lan_interfaces();
  const auto targets =
      lan_targets(interfaces, config_.port, v4_.socket.is_open(), v6_.socket.is_open(), listening_);
  if (targets.description != last_description_ || ticks_ == 0) {
    if (targets.v4.empty() && targets.v6.empty()) {
      log_(LogLevel::warn,
           "not announced on the LAN: no network interface is up that could carry it; people "
           "can still join by typing the address");
    } else {
      log_(LogLevel::info, "announced on the LAN (UDP " + std::to_string(config_.port) +
                               "): " + targets.description);
    }
    last_description_ = targets.description;
  }
  auto datagram = std::make_shared<std::string>(text);
  auto done = [datagram](const asio::error_code&, std::size_t) {};
  for (const auto& ep : targets.v4) {
    v4_.socket.async_send_to(asio::buffer(*datagram), ep, done);
    ++stats_.sent;
  }
  for (unsigned index : targets.v6_interfaces) join_group(v6_.socket, index);
  for (const auto& ep : targets.v6) {
    v6_.socket.async_send_to(asio::buffer(*datagram), ep, done);
    ++stats_.sent;
  }
}

void Announcer::stop() {
  if (stopped_) return;
  timer_.cancel();
  if (v4_.socket.is_open() || v6_.socket.is_open()) {
    send_all(discovery::encode(discovery::Goodbye{instance_}));
  }
  stopped_ = true;
  // Close once the goodbyes are on their way (the sends above are queued first).
  asio::post(io_, [self = shared_from_this()] {
    asio::error_code ignored;
    self->v4_.socket.close(ignored);
    self->v6_.socket.close(ignored);
  });
}

}  // namespace lanchat::net
