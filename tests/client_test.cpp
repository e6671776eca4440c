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

namespace {

// A line from the scripted server's side, parsed.
nlohmann::json read_json(asio::ip::tcp::socket& s, asio::streambuf& buf) {
  const std::string line = read_line(s, buf);
  return line.empty() ? nlohmann::json() : nlohmann::json::parse(line, nullptr, false);
}

std::string welcome_line(const std::string& nick, const std::string& room_id,
                         std::vector<proto::ChatMsg> history, const std::string& reclaim = "") {
  proto::Welcome w{nick, "fake", 1, {nick}, std::move(history), room_id, reclaim};
  return proto::encode(w);
}

}  // namespace

// History is compared only within one room_id: a restarted server whose ids start again at
// 1 must not have its history thrown away as "already seen".
TEST(Client, HistoryIsDedupedWithinARoomIdAndKeptWhenTheRoomIdChanges) {
  ScriptedServer fake([&](asio::ip::tcp::socket& s, int n) {
    asio::streambuf buf;
    read_line(s, buf);
    if (n == 0) {
      asio::write(s, asio::buffer(welcome_line("alice", "room-A",
                                               {{1, "bob", "one", 1}, {2, "bob", "two", 2}})));
      s.close();
    } else if (n == 1) {
      asio::write(s, asio::buffer(welcome_line(
                         "alice", "room-A",
                         {{1, "bob", "one", 1}, {2, "bob", "two", 2}, {3, "bob", "three", 3}})));
      s.close();
    } else {
      // The server restarted without its history: new room id, ids from 1 again.
      asio::write(s, asio::buffer(welcome_line("alice", "room-B", {{1, "carol", "fresh", 4}})));
      read_line(s, buf);
    }
  });
  auto cfg = config_for(fake.port(), "alice");
  cfg.reconnect = true;
  ClientHarness c(cfg);
  auto w1 = c.wait_for<net::ClientWelcome>();
  ASSERT_TRUE(w1);
  EXPECT_EQ(w1->welcome.history.size(), 2u);
  auto w2 = c.wait_for<net::ClientWelcome>(10s);
  ASSERT_TRUE(w2);
  EXPECT_TRUE(w2->same_room);
  ASSERT_EQ(w2->welcome.history.size(), 1u) << "only what was missed";
  EXPECT_EQ(w2->welcome.history[0].text, "three");
  auto w3 = c.wait_for<net::ClientWelcome>(10s);
  ASSERT_TRUE(w3);
  EXPECT_FALSE(w3->same_room);
  ASSERT_EQ(w3->welcome.history.size(), 1u) << "id 1 of a new room is new, not 'already seen'";
  EXPECT_EQ(w3->welcome.history[0].text, "fresh");
}

// Text written into a link that was already dead (not yet detected) is not lost: it goes
// out again after the rejoin, unless the room's history shows it arrived.
TEST(Client, TextSentIntoADeadLinkIsSentAgainAfterTheRejoinUnlessTheRoomHasIt) {
  std::promise<std::vector<std::string>> resent;
  ScriptedServer fake([&](asio::ip::tcp::socket& s, int n) {
    asio::streambuf buf;
    const auto hello = read_json(s, buf);
    if (n == 0) {
      asio::write(s, asio::buffer(welcome_line("alice", "R", {}, "secret-1")));
      // Two says arrive; the first made it into the room, the link dies before any echo.
      read_line(s, buf);
      read_line(s, buf);
      s.close();
    } else {
      EXPECT_EQ(hello.value("reclaim", ""), "secret-1") << "the reconnect reclaims the nick";
      asio::write(s, asio::buffer(welcome_line("alice", "R", {{5, "alice", "first", 1}})));
      std::vector<std::string> says;
      for (;;) {
        const auto j = read_json(s, buf);
        if (j.is_null()) break;
        if (j["type"] == "say") {
          says.push_back(j["text"]);
          resent.set_value(says);
          asio::write(s, asio::buffer(proto::encode(proto::ChatMsg{6, "alice", j["text"], 2})));
        }
      }
    }
  });
  auto cfg = config_for(fake.port(), "alice");
  cfg.reconnect = true;
  ClientHarness c(cfg);
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  c.say("first", 1);
  c.say("second", 2);
  auto w = c.wait_for<net::ClientWelcome>(10s);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->confirmed, std::vector<std::uint64_t>{1}) << "the room had the first";
  auto f = resent.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), std::vector<std::string>{"second"}) << "only the second goes out again";
  auto echo = c.wait_for<net::ClientChat>();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->local_id, 2u);
}

// A nick taken by someone else while we were away: said once, then wait for a new nick
// (no retry loop); the held messages go out under the new one.
TEST(Client, ANickTakenWhileReconnectingAsksForAnotherInsteadOfRetrying) {
  std::atomic<int> connections{0};
  std::promise<std::string> said_as;
  ScriptedServer fake([&](asio::ip::tcp::socket& s, int n) {
    ++connections;
    asio::streambuf buf;
    const auto hello = read_json(s, buf);
    const std::string nick = hello["nick"];
    if (n == 0) {
      asio::write(s, asio::buffer(welcome_line(nick, "R", {})));
      s.close();
    } else if (n == 1) {
      asio::write(s, asio::buffer(proto::encode(
                         proto::Error{"nick_taken", "nick \"alice\" is already in use"})));
      read_line(s, buf);  // until the client closes
    } else {
      asio::write(s, asio::buffer(welcome_line(nick, "R", {})));
      const auto say = read_json(s, buf);
      said_as.set_value(nick + ": " + say.value("text", ""));
      read_line(s, buf);
    }
  });
  auto cfg = config_for(fake.port(), "alice");
  cfg.reconnect = true;
  ClientHarness c(cfg);
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  ASSERT_TRUE(c.wait_for<net::ClientDisconnected>());
  c.say("typed while away", 7);
  auto r = c.wait_for<net::ClientRejected>(10s);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->was_joined);
  EXPECT_EQ(r->nick, "alice");
  EXPECT_EQ(r->error.code, "nick_taken");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(connections.load(), 2) << "no silent retry loop";
  c.rejoin_as("alice2");
  auto f = said_as.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), "alice2: typed while away");
}

// When nothing can deliver a message any more, the user is told, text included.
TEST(Client, MessagesThatCanNeverBeSentAreReportedNotDropped) {
  TestServer srv;
  ClientHarness c(config_for(srv.port(), "alice"));
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  srv.stop("closing time");
  ASSERT_TRUE(c.wait_for<net::ClientShutdown>());
  c.say("too late", 3);
  auto f = c.wait_for<net::ClientSayFailed>();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->local_id, 3u);
  EXPECT_EQ(f->text, "too late");
  EXPECT_FALSE(f->error.message.empty());
}

// Against the real server: the reclaim secret from the welcome takes the nick back from a
// connection the server still holds (the old link died without a FIN reaching it).
TEST(Client, TheRealServerLetsAClientReclaimItsNickFromItsOwnGhost) {
  TestServer srv;
  RawClient watcher(srv.port());
  watcher.join("watcher");
  RawClient ghost(srv.port());
  const auto w = ghost.join("dora");
  const std::string secret = w["reclaim"];
  watcher.recv_type("join");
  RawClient back(srv.port());
  back.send({{"type", "hello"}, {"nick", "dora"}, {"proto", 1}, {"reclaim", secret}});
  auto w2 = back.recv_type("welcome");
  ASSERT_TRUE(w2);
  EXPECT_EQ((*w2)["nick"], "dora");
  EXPECT_TRUE(ghost.wait_closed()) << "the ghost connection is closed";
  auto leave = watcher.recv_type("leave");
  ASSERT_TRUE(leave);
  EXPECT_EQ((*leave)["reason"], "disconnect");
  auto join = watcher.recv_type("join");
  ASSERT_TRUE(join);
  EXPECT_EQ((*join)["nick"], "dora");
}

// The client's older-history, context and search requests against the real server: each
// answer comes back to the request it belongs to.
TEST(Client, LoadsOlderPagesShowsAHitInContextAndSearches) {
  net::ServerConfig cfg;
  cfg.max_msg_rate = 0;
  cfg.max_line_rate = 0;
  TestServer srv(cfg);
  RawClient talker(srv.port());
  talker.join("talker");
  std::string burst;
  for (int i = 1; i <= 300; ++i) {
    burst += nlohmann::json{{"type", "say"},
                            {"text", i == 150 ? "the città hit" : "m" + std::to_string(i)}}
                 .dump() +
             "\n";
  }
  talker.send_raw(burst);
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(talker.recv_type("msg"));

  net::ClientConfig ccfg = config_for(srv.port(), "reader");
  ClientHarness c(ccfg);
  auto w = c.wait_for<net::ClientWelcome>();
  ASSERT_TRUE(w);
  ASSERT_EQ(w->welcome.history.size(), 100u);
  EXPECT_TRUE(w->welcome.more);
  const std::uint64_t oldest = w->welcome.history.front().id;

  c.search("citta");
  auto f = c.wait_for<net::ClientFound>();
  ASSERT_TRUE(f);
  ASSERT_EQ(f->msgs.size(), 1u);
  EXPECT_EQ(f->msgs[0].text, "the città hit");
  const std::uint64_t hit = f->msgs[0].id;

  c.load_older(oldest);
  c.show_context(hit, 5);
  auto first = c.wait_for<net::ClientHistory>();
  auto second = c.wait_for<net::ClientHistory>();
  ASSERT_TRUE(first && second);
  const auto& page = first->around == 0 ? *first : *second;
  const auto& context = first->around == 0 ? *second : *first;
  ASSERT_EQ(page.msgs.size(), 100u);
  EXPECT_EQ(page.msgs.back().id + 1, oldest) << "the page ends right before what was shown";
  EXPECT_TRUE(page.more);
  EXPECT_EQ(context.around, hit);
  ASSERT_EQ(context.msgs.size(), 11u);
  EXPECT_EQ(context.msgs[5].text, "the città hit") << "the hit in the middle";
}

TEST(Client, ARefusedRequestIsToldToTheRequestNotToAMessage) {
  TestServer srv;
  ClientHarness c(config_for(srv.port(), "alice"));
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  c.search(std::string(300, 'x'));  // over 200 characters: refused
  auto f = c.wait_for<net::ClientFound>();
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->error.empty());
  EXPECT_FALSE(c.wait_for<net::ClientSayFailed>(200ms)) << "not mistaken for a message's error";
}

TEST(Client, AClientTheHostKicksIsToldAndDoesNotComeBack) {
  TestServer srv;
  net::ClientConfig cfg = config_for(srv.port(), "bob");
  cfg.reconnect = true;
  ClientHarness c(cfg);
  ASSERT_TRUE(c.wait_for<net::ClientWelcome>());
  srv.run_on_net([&] { srv.server()->kick(1, "enough"); });
  auto k = c.wait_for<net::ClientKicked>();
  ASSERT_TRUE(k);
  EXPECT_EQ(k->message, "enough");
  EXPECT_FALSE(c.wait_for<net::ClientConnecting>(1500ms)) << "no reconnect after a kick";
}

TEST(Client, InALargeRoomItFetchesTheWholeListAfterAPartialWelcomeAndFollowsSummaries) {
  net::ServerConfig cfg = without_rate_limits();
  cfg.large_room = 3;
  TestServer srv(cfg);
  std::vector<std::unique_ptr<RawClient>> crowd;
  for (int i = 0; i < 150; ++i) {
    crowd.push_back(std::make_unique<RawClient>(srv.port()));
    crowd.back()->send(json{
        {"type", "hello"}, {"nick", "u" + std::to_string(i)}, {"proto", 1}, {"summaries", true}});
    ASSERT_TRUE(crowd.back()->recv_type("welcome"));
  }
  ClientHarness c(config_for(srv.port(), "alice"));
  auto w = c.wait_for<net::ClientWelcome>();
  ASSERT_TRUE(w);
  EXPECT_EQ(w->welcome.members, 151u);
  EXPECT_EQ(w->welcome.users.size(), 100u) << "a large room's welcome lists the first 100";
  auto all = c.wait_for<net::ClientSnapshot>();
  ASSERT_TRUE(all) << "then the client fetches the rest in pages";
  ASSERT_EQ(all->users.size(), 151u);
  EXPECT_EQ(all->users.front(), "u0");
  EXPECT_EQ(all->users.back(), "alice");

  // Once the summary that counts alice is out (u0 reads it too), a leave gets its own.
  for (;;) {
    auto seen = crowd[0]->recv_type("presence");
    ASSERT_TRUE(seen);
    if ((*seen)["members"] == 151) break;
  }
  crowd[7]->send(json{{"type", "bye"}});
  auto p = c.wait_for<net::ClientPresence>();
  while (p && p->presence.leaves == 0) p = c.wait_for<net::ClientPresence>();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->presence.members, 150u);
  ASSERT_EQ(p->presence.left.size(), 1u) << proto::encode(p->presence);
  EXPECT_EQ(p->presence.left[0].nick, "u7");
  EXPECT_EQ(net::describe_presence(p->presence), "u7 left (150 in the room)");
}
