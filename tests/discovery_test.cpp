// Discovery datagrams, and the browser and announcer over real UDP sockets on 127.0.0.1
// (unicast: loopback carries no broadcast; the LAN itself is tests/netns/discovery_test.py).
#include "net/discovery.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <functional>

#include "net/announcer.hpp"
#include "net/browser.hpp"

namespace lanchat::net {
namespace {

using namespace std::chrono_literals;
namespace d = discovery;

d::Announce sample() {
  d::Announce a;
  a.instance = "0123456789abcdef";
  a.room = "Lab 2 — Zoë";
  a.port = 5556;
  a.users = 12;
  a.password = true;
  a.tls = TlsMode::required;
  a.fingerprint = std::string(64, 'A');
  return a;
}

TEST(Datagram, AnnounceRoundTripsAndFitsOneDatagram) {
  auto a = sample();
  a.room = std::string(200, 'x');  // cut to 64 bytes rather than overflowing
  const std::string wire = d::encode(a);
  EXPECT_LE(wire.size(), d::kMaxDatagram);
  auto parsed = d::parse(wire);
  ASSERT_TRUE(std::holds_alternative<d::Datagram>(parsed)) << std::get<std::string>(parsed);
  const auto& b = std::get<d::Announce>(std::get<d::Datagram>(parsed));
  EXPECT_EQ(b.room, std::string(64, 'x'));
  EXPECT_EQ(b.port, 5556);
  EXPECT_EQ(b.users, 12u);
  EXPECT_TRUE(b.password);
  EXPECT_EQ(b.tls, TlsMode::required);
  EXPECT_EQ(b.fingerprint, std::string(64, 'A'));
  EXPECT_EQ(b.version, d::kLanchatVersion);

  auto utf8 = d::parse(d::encode(sample()));
  EXPECT_EQ(std::get<d::Announce>(std::get<d::Datagram>(utf8)).room, "Lab 2 — Zoë");
}

TEST(Datagram, QueryAndGoodbye) {
  EXPECT_TRUE(
      std::holds_alternative<d::Query>(std::get<d::Datagram>(d::parse(d::encode(d::Query{})))));
  auto g = d::parse(d::encode(d::Goodbye{"0123456789abcdef"}));
  EXPECT_EQ(std::get<d::Goodbye>(std::get<d::Datagram>(g)).instance, "0123456789abcdef");
}

TEST(Datagram, LaterFormatsWithMoreFieldsAreRead) {
  auto parsed =
      d::parse(R"({"lanchat":"announce","v":7,"instance":"00ff00ff00ff00ff","room":"r","port":1,)"
               R"("users":0,"password":false,"colour":"blue","interval_ms":999999999})");
  ASSERT_TRUE(std::holds_alternative<d::Datagram>(parsed));
  const auto& a = std::get<d::Announce>(std::get<d::Datagram>(parsed));
  EXPECT_EQ(a.interval_ms, 60000u);  // clamped: a host cannot stay listed for a day
  EXPECT_EQ(a.tls, TlsMode::off);
}

TEST(Datagram, BadOnesAreDroppedWithAReason) {
  const std::string ok_head = R"({"lanchat":"announce","v":1,"instance":"0123456789abcdef",)";
  for (const std::string& bad : {
           std::string("not json"),
           std::string(d::kMaxDatagram + 1, ' '),
           std::string(50, '[') + std::string(50, ']'),
           std::string(R"({"v":1})"),
           std::string(R"({"lanchat":"announce"})"),
           std::string(R"({"lanchat":"dance","v":1})"),
           std::string(R"({"lanchat":"goodbye","v":1,"instance":"not hex!"})"),
           ok_head + R"("room":"r","port":0,"users":0,"password":false})",
           ok_head + R"("room":"r","port":70000,"users":0,"password":false})",
           ok_head + R"("room":"","port":1,"users":0,"password":false})",
           ok_head + R"("room":"a\u0007b","port":1,"users":0,"password":false})",
           ok_head + R"("room":"r","port":1,"users":-1,"password":false})",
           ok_head + R"("room":"r","port":1,"users":0,"password":"no"})",
           ok_head + R"("room":"r","port":1,"users":0,"password":false,"tls":"on"})",
           ok_head + R"("room":"r","port":1,"users":0,"password":false,"tls":"maybe"})",
           ok_head + R"("room":"r","port":1,"users":0,"password":false,"tls_fingerprint":"abc"})",
       }) {
    auto parsed = d::parse(bad);
    EXPECT_TRUE(std::holds_alternative<std::string>(parsed)) << bad;
  }
}

// An io_context run in steps until something holds (or 5 s pass).
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_for(10ms);
  }
  return true;
}

std::uint16_t free_udp_port() {
  asio::io_context io;
  asio::ip::udp::socket s(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  return s.local_endpoint().port();
}

class BrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_udp_port();
    BrowserConfig config;
    config.port = port_;
    config.max_rooms = 16;
    config.coalesce = 1ms;
    config.interfaces = [] { return std::vector<LanInterface>{}; };  // stay on loopback
    browser_ = Browser::create(io_, config, events_);
    browser_->start();
  }
  void TearDown() override { browser_->stop(); }

  // A datagram to the browser's port from one of loopback's addresses.
  void send(const std::string& bytes, const char* from = "127.0.0.1") {
    asio::ip::udp::socket s(io_, asio::ip::udp::endpoint(asio::ip::make_address(from), 0));
    s.send_to(asio::buffer(bytes),
              asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  }
  std::vector<FoundRoom> rooms() { return browser_->snapshot().rooms; }

  asio::io_context io_;
  EventQueue events_;
  std::uint16_t port_ = 0;
  std::shared_ptr<Browser> browser_;
};

TEST_F(BrowserTest, ListsAnnouncedRoomsAtTheAddressTheyCameFrom) {
  send(d::encode(sample()), "127.0.0.3");
  ASSERT_TRUE(run_until(io_, [&] { return rooms().size() == 1; }));
  const FoundRoom r = rooms()[0];
  EXPECT_EQ(r.room, "Lab 2 — Zoë");
  EXPECT_EQ(r.address, "127.0.0.3");
  EXPECT_EQ(r.port, 5556);
  EXPECT_TRUE(r.password);
  // The list reaches the consumer as an event too.
  ASSERT_TRUE(run_until(io_, [&] {
    Event e;
    while (events_.try_pop(e)) {
      if (auto* f = std::get_if<RoomsFound>(&e.data); f && f->rooms.size() == 1) return true;
    }
    return false;
  }));
  // The same instance again, from the same host: still one room, with its news.
  auto a = sample();
  a.users = 13;
  send(d::encode(a), "127.0.0.3");
  ASSERT_TRUE(run_until(io_, [&] { return rooms()[0].users == 13; }));
  EXPECT_EQ(rooms().size(), 1u);
}

TEST_F(BrowserTest, OnlyTheHostItselfCanSayGoodbye) {
  send(d::encode(sample()), "127.0.0.3");
  ASSERT_TRUE(run_until(io_, [&] { return rooms().size() == 1; }));
  send(d::encode(d::Goodbye{sample().instance}), "127.0.0.9");  // spoofed
  io_.run_for(100ms);
  EXPECT_EQ(rooms().size(), 1u);
  EXPECT_GE(browser_->snapshot().dropped, 1u);
  send(d::encode(d::Goodbye{sample().instance}), "127.0.0.3");
  EXPECT_TRUE(run_until(io_, [&] { return rooms().empty(); }));
}

TEST_F(BrowserTest, ForgetsARoomAfterThreeMissedAnnouncements) {
  auto a = sample();
  a.interval_ms = 500;
  send(d::encode(a));
  ASSERT_TRUE(run_until(io_, [&] { return rooms().size() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(io_, [&] { return rooms().empty(); }));
  // 3 x 500 ms plus the margin, seen by a sweep once a second.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1500ms);
}

TEST_F(BrowserTest, GarbageChangesNothingAndTheListIsBounded) {
  send(d::encode(sample()));
  ASSERT_TRUE(run_until(io_, [&] { return rooms().size() == 1; }));
  for (const std::string& junk : {std::string("garbage"), std::string(3000, '{'),
                                  std::string("{\"lanchat\":\"announce\",\"v\":1}")}) {
    send(junk);
  }
  for (int i = 0; i < 40; ++i) {
    auto a = sample();
    char id[17];
    std::snprintf(id, sizeof id, "%016x", i + 1);
    a.instance = id;
    send(d::encode(a));
  }
  io_.run_for(200ms);
  EXPECT_EQ(rooms().size(), 16u);
  EXPECT_EQ(rooms()[0].instance, sample().instance);  // the first stays, untouched
  EXPECT_GE(browser_->snapshot().dropped, 3u + 40u - 15u);
}

TEST(Announcer, AnswersQueriesAtOnceButNotAFlood) {
  asio::io_context io;
  AnnounceConfig config;
  config.enabled = true;
  config.port = free_udp_port();
  std::vector<std::string> logged;
  auto announcer = Announcer::create(
      io, config,
      [] {
        auto a = sample();
        a.users = 3;
        return a;
      },
      [&](LogLevel, std::string text) { logged.push_back(std::move(text)); });
  // Listening on loopback only: no interface holds it, so nothing is broadcast; queries
  // sent straight to the port are still answered.
  announcer->start(asio::ip::make_address("127.0.0.1"));
  asio::ip::udp::socket asker(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), config.port);
  const std::string query = d::encode(d::Query{});
  for (int i = 0; i < 200; ++i) asker.send_to(asio::buffer(query), to);
  io.run_for(300ms);
  int answers = 0;
  std::array<char, 2048> buf{};
  asker.non_blocking(true);
  asio::error_code ec;
  std::string last;
  for (;;) {
    const std::size_t n = asker.receive(asio::buffer(buf), 0, ec);
    if (ec) break;
    ++answers;
    last.assign(buf.data(), n);
  }
  // A burst of 4 for one asker (and a token or so while the 200 arrive).
  EXPECT_GE(answers, 1);
  EXPECT_LE(answers, 5);
  auto parsed = d::parse(last);
  ASSERT_TRUE(std::holds_alternative<d::Datagram>(parsed));
  const auto& a = std::get<d::Announce>(std::get<d::Datagram>(parsed));
  EXPECT_EQ(a.users, 3u);
  EXPECT_NE(a.instance, sample().instance);  // the announcer's own, per run
  EXPECT_EQ(announcer->stats().unanswered, 200u - static_cast<unsigned>(answers));
  announcer->stop();
  io.run_for(50ms);
}

}  // namespace
}  // namespace lanchat::net
