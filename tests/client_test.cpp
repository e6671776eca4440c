// lanchat's own client (net::Client) against the real server and against small scripted
// servers on 127.0.0.1 that misbehave on purpose.
#include "net/client.hpp"

#include <gtest/gtest.h>

#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <future>

#include "tests/support.hpp"

using namespace lanchat;
using namespace lanchat::test;

namespace {

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
  void say(std::string text) {
    net_.post([c = client_, t = std::move(text)]() mutable { c->say(std::move(t)); });
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

net::ClientConfig config_for(std::uint16_t port, const std::string& nick) {
  net::ClientConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.nick = nick;
  return c;
}

// A scripted server: accepts connections one by one on 127.0.0.1 and hands each socket to
// `script` on its own thread.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(asio::ip::tcp::socket&, int)> script)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, script = std::move(script)] {
      for (int n = 0; !done_; ++n) {
        asio::ip::tcp::socket s(io_);
        asio::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || done_) return;
        script(s, n);
      }
    });
  }
  ~ScriptedServer() {
    // Wake the accept() with a connection, join, and only then close: the acceptor is
    // the accepting thread's until it has returned.
    done_ = true;
    asio::error_code ec;
    asio::ip::tcp::socket poke(io_);
    poke.connect({asio::ip::make_address("127.0.0.1"), port()}, ec);
    thread_.join();
    acceptor_.close(ec);
  }
  std::uint16_t port() const { return port_; }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  std::atomic<bool> done_{false};
  std::thread thread_;
};

std::string read_line(asio::ip::tcp::socket& s, asio::streambuf& buf) {
  asio::error_code ec;
  asio::read_until(s, buf, '\n', ec);
  if (ec) return {};
  std::istream in(&buf);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

TEST(Client, JoinsSaysAndSeesItsOwnMessage) {
  TestServer srv;
  ClientHarness c(config_for(srv.port(), "alice"));
  auto w = c.wait_for<net::ClientWelcome>();
  ASSERT_TRUE(w);
  EXPECT_EQ(w->welcome.nick, "alice");
  EXPECT_FALSE(w->rejoined);
  c.say("hello there");
  auto m = c.wait_for<net::ClientChat>();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->msg.from, "alice");
  EXPECT_EQ(m->msg.text, "hello there");
}

TEST(Client, MessagesTypedBeforeTheWelcomeAreSentAfterIt) {
  TestServer srv;
  RawClient watcher(srv.port());
  watcher.join("watcher");
  net::ClientConfig cfg = config_for(srv.port(), "early");
  ClientHarness c(cfg);
  c.say("typed early");
  c.quit();
  auto m = watcher.recv_type("msg");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["text"], "typed early");
  auto l = watcher.recv_type("leave");
  ASSERT_TRUE(l);
  EXPECT_EQ((*l)["reason"], "quit");
  EXPECT_TRUE(c.wait_for<net::ClientClosed>());
}

TEST(Client, SeesJoinLeaveAndRejectsBadTextLocally) {
  TestServer srv;
  ClientHarness c(config_for(srv.port(), "alice"));
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  {
    RawClient b(srv.port());
    b.join("bob");
    auto j = c.wait_for<net::ClientJoin>();
    ASSERT_TRUE(j);
    EXPECT_EQ(j->join.nick, "bob");
  }
  auto l = c.wait_for<net::ClientLeave>();
  ASSERT_TRUE(l);
  EXPECT_EQ(l->leave.reason, "disconnect");
  c.say("   ");
  auto e = c.wait_for<net::ClientSayFailed>();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error.code, "bad_text");
  EXPECT_EQ(e->text, "   ") << "the text that was not sent comes back with the reason";
}

TEST(Client, NickTakenIsARejection) {
  TestServer srv;
  RawClient a(srv.port());
  a.join("Taken");
  ClientHarness c(config_for(srv.port(), "taken"));
  auto r = c.wait_for<net::ClientRejected>();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error.code, "nick_taken");
}

TEST(Client, RefusedConnectionIsReportedClearly) {
  std::uint16_t port;
  {
    TestServer srv;  // find a port, then free it
    port = srv.port();
  }
  ClientHarness c(config_for(port, "alice"));
  auto d = c.wait_for<net::ClientDisconnected>();
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->was_joined);
  EXPECT_NE(d->error.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << d->error;
  EXPECT_NE(d->error.find("refused"), std::string::npos) << d->error;
}

TEST(Client, ShutdownNoticeIsReportedWithItsReason) {
  TestServer srv;
  ClientHarness c(config_for(srv.port(), "alice"));
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  srv.stop("lesson over");
  auto s = c.wait_for<net::ClientShutdown>();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->reason, "lesson over");
  EXPECT_FALSE(c.wait_for<net::ClientDisconnected>(300ms)) << "no reconnect after a shutdown";
}

TEST(Client, PingsMeasureRtt) {
  TestServer srv;
  auto cfg = config_for(srv.port(), "alice");
  cfg.ping_interval = 50ms;
  ClientHarness c(cfg);
  auto r = c.wait_for<net::ClientRtt>();
  ASSERT_TRUE(r);
  EXPECT_GT(r->rtt.count(), 0);
  EXPECT_LT(r->rtt, 1s);
}

TEST(Client, ReconnectsAfterALostConnectionAndRejoinsWithTheSameNick) {
  std::promise<std::string> second_hello;
  ScriptedServer fake([&](asio::ip::tcp::socket& s, int n) {
    asio::streambuf buf;
    const std::string hello = read_line(s, buf);
    const auto nick = nlohmann::json::parse(hello)["nick"].get<std::string>();
    asio::write(s, asio::buffer(proto::encode(proto::Welcome{nick, "fake", 1, {nick}, {}})));
    if (n == 1) second_hello.set_value(nick);
    if (n == 0)
      s.close();  // drop the first connection without a shutdown notice
    else
      read_line(s, buf);  // keep the second one until the client goes
  });
  auto cfg = config_for(fake.port(), "alice");
  cfg.reconnect = true;
  ClientHarness c(cfg);
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  auto d = c.wait_for<net::ClientDisconnected>();
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->was_joined);
  EXPECT_GT(d->retry_in.count(), 0);
  auto w = c.wait_for<net::ClientWelcome>(10s);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->rejoined);
  auto f = second_hello.get_future();
  ASSERT_EQ(f.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(f.get(), "alice");
}

TEST(Client, ASilentServerIsDetectedAsLost) {
  ScriptedServer mute([&](asio::ip::tcp::socket& s, int) {
    asio::streambuf buf;
    read_line(s, buf);
    asio::write(s, asio::buffer(proto::encode(proto::Welcome{"alice", "mute", 1, {"alice"}, {}})));
    std::this_thread::sleep_for(2s);  // never answers pings
  });
  auto cfg = config_for(mute.port(), "alice");
  cfg.ping_interval = 50ms;
  cfg.ping_timeout = 300ms;
  ClientHarness c(cfg);
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  auto d = c.wait_for<net::ClientDisconnected>(3s);
  ASSERT_TRUE(d);
  EXPECT_NE(d->error.find("stopped answering"), std::string::npos) << d->error;
}
