// Protocol v1 contract, rule by rule, against the real server on 127.0.0.1 with raw
// sockets (no lanchat client code involved).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "tests/support.hpp"

using namespace lanchat::test;
using lanchat::net::ServerConfig;

namespace {
json say(const std::string& text) {
  return {{"type", "say"}, {"text", text}};
}
std::int64_t now_ms() {
  return lanchat::net::now_ms();
}
// For tests about other rules that send faster than any person: no flood control.
ServerConfig unlimited() {
  ServerConfig c;
  c.max_msg_rate = 0;
  c.max_msg_burst = 0;
  c.max_line_rate = 0;
  c.max_per_ip = 0;
  c.max_unjoined_per_ip = 0;
  return c;
}
// Reads `count` chat messages whose texts count up from "0" per sender, checking each
// sender's order; the ids in the order they came (fewer if some never came).
std::vector<std::int64_t> read_counted(RawClient& c, std::size_t count) {
  std::vector<std::int64_t> ids;
  std::map<std::string, int> next;  // per sender, the number expected next
  while (ids.size() < count) {
    auto m = c.recv_type("msg", 10s);
    if (!m) {
      ADD_FAILURE() << "missing messages: got " << ids.size() << " of " << count;
      break;
    }
    const std::string from = (*m)["from"];
    EXPECT_EQ(std::to_string(next[from]++), (*m)["text"].get<std::string>()) << "sender order";
    ids.push_back((*m)["id"]);
  }
  return ids;
}
}  // namespace

TEST(Server, WelcomeCarriesNickRoomProtoUsersAndHistory) {
  ServerConfig cfg;
  cfg.room = "Aula 3";
  TestServer srv(cfg);
  RawClient a(srv.port());
  json wa = a.join("alice");
  EXPECT_EQ(wa["nick"], "alice");
  EXPECT_EQ(wa["server"], "Aula 3");
  EXPECT_EQ(wa["proto"], 1);
  EXPECT_EQ(wa["users"], json::array({"alice"}));
  EXPECT_EQ(wa["history"], json::array());
  RawClient b(srv.port());
  json wb = b.join("bob");
  EXPECT_EQ(wb["users"], json::array({"alice", "bob"})) << "users includes the joiner";
}

TEST(Server, JoinGoesToOthersNotTheJoiner) {
  TestServer srv;
  RawClient a(srv.port());
  a.join("alice");
  RawClient b(srv.port());
  b.join("bob");
  auto j = a.recv();
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["type"], "join");
  EXPECT_EQ((*j)["nick"], "bob");
  EXPECT_NEAR(static_cast<double>((*j)["ts"].get<std::int64_t>()), static_cast<double>(now_ms()),
              5000);
  EXPECT_TRUE(b.silent_for(200ms)) << "the joiner gets no join about itself";
}

TEST(Server, MsgReachesEveryJoinedClientIncludingSender) {
  TestServer srv;
  RawClient a(srv.port()), b(srv.port()), lurker(srv.port());
  a.join("alice");
  b.join("bob");
  a.recv_type("join");
  a.send(say("hello\nworld"));
  for (RawClient* c : {&a, &b}) {
    auto m = c->recv_type("msg");
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)["from"], "alice");
    EXPECT_EQ((*m)["text"], "hello\nworld");
    EXPECT_TRUE((*m)["id"].is_number_integer());
    EXPECT_NEAR(static_cast<double>((*m)["ts"].get<std::int64_t>()), static_cast<double>(now_ms()),
                5000);
  }
  EXPECT_TRUE(lurker.silent_for(200ms)) << "a connection that has not joined gets no msg";
}

TEST(Server, MessageIdsStrictlyIncrease) {
  TestServer srv(unlimited());
  RawClient a(srv.port());
  a.join("alice");
  std::int64_t last = 0;
  for (int i = 0; i < 50; ++i) a.send(say("m" + std::to_string(i)));
  for (int i = 0; i < 50; ++i) {
    auto m = a.recv_type("msg");
    ASSERT_TRUE(m);
    EXPECT_GT((*m)["id"].get<std::int64_t>(), last);
    last = (*m)["id"];
  }
}

TEST(Server, SayBeforeHelloIsNotJoinedAndConnectionStaysUsable) {
  TestServer srv;
  RawClient a(srv.port());
  a.send(say("hi"));
  auto e = a.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "error");
  EXPECT_EQ((*e)["code"], "not_joined");
  EXPECT_FALSE((*e)["message"].get<std::string>().empty());
  a.join("alice");
}

TEST(Server, PingIsAnsweredJoinedOrNotWithIdenticalId) {
  TestServer srv;
  RawClient a(srv.port());
  const json id = json::parse(R"({"k":[1,"two",null,{"x":3.5}]})");
  a.send({{"type", "ping"}, {"id", id}});
  auto p = a.recv();
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["type"], "pong");
  EXPECT_EQ((*p)["id"], id);
  a.join("alice");
  a.send({{"type", "ping"}, {"id", "abc"}});
  EXPECT_EQ((*a.recv_type("pong"))["id"], "abc");
}

TEST(Server, SecondHelloIsAlreadyJoined) {
  TestServer srv;
  RawClient a(srv.port());
  a.join("alice");
  a.send({{"type", "hello"}, {"nick", "other"}, {"proto", 1}});
  auto e = a.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "already_joined");
  a.send(say("still here"));
  EXPECT_EQ((*a.recv_type("msg"))["from"], "alice");
}

TEST(Server, NickTakenIsCaseInsensitiveAndRetryWorks) {
  TestServer srv;
  RawClient a(srv.port()), b(srv.port());
  a.join("Bob");
  b.send({{"type", "hello"}, {"nick", "bOB"}, {"proto", 1}});
  auto e = b.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "nick_taken");
  json w = b.join("bob2");
  EXPECT_EQ(w["nick"], "bob2");
}

TEST(Server, NickFreedWhenItsOwnerLeaves) {
  TestServer srv;
  {
    RawClient a(srv.port());
    a.join("carol");
    a.send({{"type", "bye"}});
    EXPECT_TRUE(a.wait_closed());
  }
  RawClient b(srv.port());
  EXPECT_EQ(b.join("Carol")["nick"], "Carol");
}

TEST(Server, BadNickAndReservedNicksAreRefused) {
  TestServer srv;
  RawClient a(srv.port());
  for (const char* n :
       {"", "has space", "ADMIN", "System", "server", "aaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    a.send({{"type", "hello"}, {"nick", n}, {"proto", 1}});
    auto e = a.recv();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["code"], "bad_nick") << n;
  }
  a.join("fine");
}

TEST(Server, BadTextIsRefusedAndNotBroadcast) {
  TestServer srv;
  RawClient a(srv.port()), b(srv.port());
  a.join("alice");
  b.join("bob");
  a.recv_type("join");
  for (const json& t : {json(""), json("   "), json(std::string(4001, 'x')), json(5)}) {
    a.send({{"type", "say"}, {"text", t}});
    auto e = a.recv();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["code"], "bad_text");
  }
  EXPECT_TRUE(b.silent_for(200ms));
  a.send(say(std::string(4000, 'x')));
  EXPECT_EQ((*b.recv_type("msg"))["text"].get<std::string>().size(), 4000u);
}

TEST(Server, GarbageGetsTheRightErrorAndTheConnectionStaysOpen) {
  TestServer srv;
  RawClient a(srv.port());
  a.join("alice");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"this is not json", "bad_json"},
      {"{\"type\":\"say\",\"text\":\"\xff\"}", "bad_json"},
      {"[1,2,3]", "bad_message"},
      {"{\"text\":\"no type\"}", "bad_message"},
      {"{\"type\":\"shout\"}", "unknown_type"},
      {"{\"type\":\"Say\",\"text\":\"x\"}", "unknown_type"},
  };
  for (const auto& [line, code] : cases) {
    a.send_raw(line + "\n");
    auto e = a.recv();
    ASSERT_TRUE(e) << line;
    EXPECT_EQ((*e)["type"], "error");
    EXPECT_EQ((*e)["code"], code) << line;
  }
  a.send(say("survived"));
  EXPECT_EQ((*a.recv_type("msg"))["text"], "survived");
}

TEST(Server, CrLfLinesAndUnknownFieldsAreAccepted) {
  TestServer srv;
  RawClient a(srv.port());
  a.send_raw("{\"type\":\"hello\",\"nick\":\"win\",\"proto\":1,\"client\":\"putty\"}\r\n");
  EXPECT_EQ((*a.recv())["type"], "welcome");
  a.send_raw("{\"type\":\"say\",\"text\":\"crlf\",\"colour\":\"blue\"}\r\n");
  EXPECT_EQ((*a.recv_type("msg"))["text"], "crlf");
}

TEST(Server, PipelinedAndFragmentedInput) {
  TestServer srv;
  RawClient a(srv.port());
  // hello and three says in one segment...
  a.send_raw(R"({"type":"hello","nick":"fast","proto":1})"
             "\n"
             R"({"type":"say","text":"1"})"
             "\n"
             R"({"type":"say","text":"2"})"
             "\n"
             R"({"type":"say","text":"3"})"
             "\n");
  EXPECT_EQ((*a.recv())["type"], "welcome");
  for (const char* t : {"1", "2", "3"}) EXPECT_EQ((*a.recv())["text"], t);
  // ...and one say trickled byte by byte.
  const std::string slow = R"({"type":"say","text":"slow"})"
                           "\n";
  for (char c : slow) {
    a.send_raw(std::string(1, c));
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ((*a.recv())["text"], "slow");
}

TEST(Server, OverlongLineIsDiscardedWithTooLongAndNextLineWorks) {
  TestServer srv;
  RawClient a(srv.port()), b(srv.port());
  a.join("alice");
  b.join("bob");
  a.recv_type("join");
  // A say whose line is 65,537 bytes with its newline: one byte over.
  std::string text(65537 - 1 - std::string(R"({"type":"say","text":""})").size(), 'x');
  std::string line = say(text).dump();
  ASSERT_EQ(line.size() + 1, 65537u);
  a.send_raw(line + "\n" + say("after").dump() + "\n");
  auto e = a.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "too_long");
  EXPECT_EQ((*a.recv_type("msg"))["text"], "after");
  EXPECT_EQ((*b.recv_type("msg"))["text"], "after") << "nothing of the long line reached others";
}

TEST(Server, LineOfExactlyTheLimitIsAccepted) {
  TestServer srv;
  RawClient a(srv.port());
  a.join("alice");
  // A say whose line is exactly 65,536 bytes including "\n" (an unknown field pads it).
  const std::string head = R"({"type":"say","text":"fits","pad":")";
  const std::string tail = R"("})";
  const std::string line = head + std::string(65535 - head.size() - tail.size(), 'p') + tail;
  ASSERT_EQ(line.size() + 1, 65536u);
  a.send_raw(line + "\n");
  auto m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "msg");
  EXPECT_EQ((*m)["text"], "fits");
}

TEST(Server, HistoryHoldsTheLast100MessagesOldestFirst) {
  TestServer srv(unlimited());
  RawClient a(srv.port());
  a.join("alice");
  for (int i = 1; i <= 105; ++i) a.send(say("m" + std::to_string(i)));
  for (int i = 1; i <= 105; ++i) ASSERT_TRUE(a.recv_type("msg"));
  RawClient b(srv.port());
  json w = b.join("bob");
  ASSERT_EQ(w["history"].size(), 100u);
  EXPECT_EQ(w["history"][0]["text"], "m6");
  EXPECT_EQ(w["history"][99]["text"], "m105");
  EXPECT_EQ(w["history"][0]["type"], "msg");
  EXPECT_EQ(w["history"][0]["from"], "alice");
  for (std::size_t i = 1; i < 100; ++i) {
    EXPECT_LT(w["history"][i - 1]["id"].get<std::int64_t>(),
              w["history"][i]["id"].get<std::int64_t>());
  }
}

TEST(Server, ByeBroadcastsLeaveQuitAndCloses) {
  TestServer srv;
  RawClient a(srv.port()), b(srv.port());
  a.join("alice");
  b.join("bob");
  a.recv_type("join");
  b.send({{"type", "bye"}});
  EXPECT_TRUE(b.wait_closed()) << "the server closes after bye";
  auto l = a.recv_type("leave");
  ASSERT_TRUE(l);
  EXPECT_EQ((*l)["nick"], "bob");
  EXPECT_EQ((*l)["reason"], "quit");
}

TEST(Server, ClosedAndResetConnectionsLeaveWithDisconnect) {
  TestServer srv;
  RawClient a(srv.port());
  a.join("alice");
  {
    RawClient b(srv.port());
    b.join("bob");
    a.recv_type("join");
  }  // FIN
  auto l1 = a.recv_type("leave");
  ASSERT_TRUE(l1);
  EXPECT_EQ((*l1)["nick"], "bob");
  EXPECT_EQ((*l1)["reason"], "disconnect");
  RawClient c(srv.port());
  c.join("carol");
  a.recv_type("join");
  c.close_with_rst();
  auto l2 = a.recv_type("leave");
  ASSERT_TRUE(l2);
  EXPECT_EQ((*l2)["nick"], "carol");
  EXPECT_EQ((*l2)["reason"], "disconnect");
}

TEST(Server, ConnectionsThatNeverJoinCauseNoJoinOrLeave) {
  TestServer srv;
  RawClient a(srv.port());
  a.join("alice");
  {
    RawClient ghost(srv.port());
    ghost.send_raw("garbage\n");
    ghost.send({{"type", "hello"}, {"nick", "alice"}, {"proto", 1}});  // nick_taken
    ghost.recv();
    ghost.recv();
  }
  {
    RawClient rst(srv.port());
    rst.close_with_rst();
  }
  a.send(say("marker"));
  auto m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "msg") << "got " << m->dump() << " before the marker";
}

TEST(Server, ShutdownReachesEveryConnectionJoinedOrNotThenCloses) {
  TestServer srv;
  RawClient a(srv.port()), b(srv.port()), idle(srv.port());
  a.join("alice");
  b.join("bob");
  ASSERT_TRUE(eventually([&] { return srv.connections() == 3; }));
  srv.stop("maintenance at noon");
  for (RawClient* c : {&a, &b, &idle}) {
    auto s = c->recv_type("shutdown");
    ASSERT_TRUE(s);
    EXPECT_EQ((*s)["reason"], "maintenance at noon");
    EXPECT_TRUE(c->wait_closed());
  }
}

TEST(Server, PasswordIsCheckedWhenSet) {
  ServerConfig cfg;
  cfg.password = "s3cret";
  TestServer srv(cfg);
  RawClient a(srv.port());
  a.send({{"type", "hello"}, {"nick", "alice"}, {"proto", 1}});
  EXPECT_EQ((*a.recv())["code"], "bad_password");
  a.send({{"type", "hello"}, {"nick", "alice"}, {"proto", 1}, {"password", "wrong"}});
  EXPECT_EQ((*a.recv())["code"], "bad_password");
  a.send({{"type", "hello"}, {"nick", "alice"}, {"proto", 1}, {"password", "s3cret"}});
  EXPECT_EQ((*a.recv())["type"], "welcome");
  for (const auto& line : srv.log_lines()) EXPECT_EQ(line.find("s3cret"), std::string::npos);
}

TEST(Server, OneTotalOrderNoLossNoDuplicates) {
  TestServer srv(unlimited());
  constexpr int kSenders = 4, kPerSender = 300;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kSenders; ++i) {
    clients.push_back(std::make_unique<RawClient>(srv.port()));
    clients.back()->join("s" + std::to_string(i));
  }
  auto watcher = std::make_unique<RawClient>(srv.port());
  watcher->join("watcher");
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      std::string burst;
      for (int k = 0; k < kPerSender; ++k) burst += say(std::to_string(k)).dump() + "\n";
      clients[static_cast<std::size_t>(i)]->send_raw(burst);
    });
  }
  for (auto& t : senders) t.join();
  clients.push_back(std::move(watcher));
  std::vector<std::vector<std::int64_t>> orders;
  for (auto& c : clients) {
    orders.push_back(read_counted(*c, kSenders * kPerSender));
    EXPECT_TRUE(c->silent_for(100ms)) << "no duplicates after the last message";
  }
  for (std::size_t i = 1; i < orders.size(); ++i) EXPECT_EQ(orders[i], orders[0]);
  std::set<std::int64_t> unique(orders[0].begin(), orders[0].end());
  EXPECT_EQ(unique.size(), orders[0].size());
}

// In a room of 100 or more, write passes that follow each other closely are spaced a few
// milliseconds apart (WritePacer), and lines arriving meanwhile leave together. Senders here
// send one line at a time, a millisecond apart, so that lines land across many spaced
// passes: every member still gets every line once, in one order, each sender's in its order.
TEST(Server, ABusyLargeRoomGathersWritesAndKeepsOneOrder) {
  lanchat::net::raise_fd_limit();
  ServerConfig config = unlimited();
  config.large_write_pass = 100;
  config.write_gap = std::chrono::milliseconds(10);
  TestServer srv(config);
  constexpr int kMembers = 120, kSenders = 3, kPerSender = 60;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kMembers; ++i) {
    clients.push_back(std::make_unique<RawClient>(srv.port()));
    clients.back()->join("m" + std::to_string(i));
  }
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      for (int k = 0; k < kPerSender; ++k) {
        clients[static_cast<std::size_t>(i)]->send(say(std::to_string(k)));
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  for (auto& t : senders) t.join();
  const std::vector<std::int64_t> first = read_counted(*clients.front(), kSenders * kPerSender);
  ASSERT_EQ(first.size(), std::size_t{kSenders * kPerSender});
  for (std::size_t i = 1; i < clients.size(); ++i) {
    EXPECT_EQ(read_counted(*clients[i], kSenders * kPerSender), first) << "one order for everyone";
  }
  EXPECT_TRUE(clients.back()->silent_for(100ms)) << "no duplicates after the last message";
}

TEST(Server, SlowReaderIsDroppedAsTooSlowWithoutStallingOthers) {
  ServerConfig cfg = unlimited();
  cfg.max_backlog_bytes = 256 * 1024;
  TestServer srv(cfg);
  RawClient fast(srv.port());
  fast.join("fast");
  RawClient slow(srv.port(), /*rcvbuf=*/4096);
  slow.join("slow");
  fast.recv_type("join");
  RawClient sender(srv.port());
  sender.join("sender");
  fast.recv_type("join");
  // ~12 MB of messages, far beyond the slow reader's kernel buffers plus the backlog
  // bound. The flood is paced by both readers that keep up (the fast one and the sender
  // reading its own echoes: at most ~50 messages ahead of either), so "fast" means what
  // it says however busy the machine is; the slow one reads nothing.
  constexpr int kMessages = 4000;
  const std::string text(3000, 'z');
  std::atomic<int> fast_got{0};
  std::atomic<int> sender_got{0};
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    for (int i = 0; i < kMessages && !stop; ++i) {
      while (i - std::min(fast_got.load(), sender_got.load()) > 50 && !stop) {
        std::this_thread::sleep_for(1ms);
      }
      sender.send(say(text));
    }
  });
  // The sender reads its own echoes (a sender that did not would be too slow as well).
  std::thread sender_reads([&] {
    while (sender_got < kMessages && !stop) {
      auto m = sender.recv(1s);
      if (m && (*m)["type"] == "msg") ++sender_got;
    }
  });
  bool saw_leave = false;
  while (fast_got < kMessages) {
    auto m = fast.recv(10s);
    if (!m) {
      ADD_FAILURE() << "fast reader stalled after " << fast_got;
      break;
    }
    if ((*m)["type"] == "msg") ++fast_got;
    if ((*m)["type"] == "leave") {
      EXPECT_EQ((*m)["nick"], "slow");
      EXPECT_EQ((*m)["reason"], "too_slow");
      saw_leave = true;
    }
  }
  stop = true;
  flood.join();
  sender_reads.join();
  EXPECT_TRUE(saw_leave);
  EXPECT_EQ(srv.members(), 2u);
}

TEST(Server, LogRecordsListeningConnectionsJoinsLeavesErrorsAndStop) {
  TestServer srv;
  {
    RawClient a(srv.port());
    a.join("alice");
    a.send_raw("oops\n");
    a.recv();
    a.send({{"type", "say"}, {"text", "private words"}});
    a.recv();
  }
  ASSERT_TRUE(eventually([&] { return srv.connections() == 0; }));
  srv.stop("done");
  auto lines = srv.log_lines();
  auto has = [&](const std::string& needle) {
    for (const auto& l : lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("listening on 127.0.0.1:"));
  EXPECT_TRUE(has("connection from 127.0.0.1:"));
  EXPECT_TRUE(has("joined as alice"));
  EXPECT_TRUE(has("bad_json"));
  EXPECT_TRUE(has("alice left (disconnect)"));
  EXPECT_TRUE(has("stopping: done"));
  EXPECT_TRUE(has("server stopped"));
  EXPECT_FALSE(has("private words")) << "message texts are not logged";
}

TEST(Server, ListeningOnABusyPortFailsWithAClearMessage) {
  TestServer first;
  lanchat::net::EventQueue q;
  asio::io_context io;
  ServerConfig cfg;
  cfg.bind_address = "127.0.0.1";
  cfg.port = first.port();
  auto second = lanchat::net::Server::create(io, cfg, q);
  auto err = second->start();
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("already in use"), std::string::npos) << *err;
}

// Join notices may wait for a presence batch, but never behind a message sent after them.
TEST(Server, JoinNoticeArrivesBeforeTheJoinersFirstMessage) {
  TestServer srv(unlimited());
  RawClient alice(srv.port());
  alice.join("alice");
  for (int i = 0; i < 20; ++i) {
    RawClient bob(srv.port());
    const std::string nick = "bob" + std::to_string(i);
    bob.send({{"type", "hello"}, {"nick", nick}, {"proto", 1}});
    bob.send(say("hi from " + nick));  // pipelined: same read as the hello
    auto first = alice.recv();
    ASSERT_TRUE(first);
    EXPECT_EQ((*first)["type"], "join") << first->dump();
    EXPECT_EQ((*first)["nick"], nick);
    auto second = alice.recv();
    ASSERT_TRUE(second);
    EXPECT_EQ((*second)["type"], "msg") << second->dump();
    EXPECT_EQ((*second)["text"], "hi from " + nick);
    bob.close();
    auto leave = alice.recv_type("leave");
    ASSERT_TRUE(leave);
    EXPECT_EQ((*leave)["nick"], nick);
  }
}

// A storm of joins: every member still sees every join, once, in join order.
TEST(Server, StormOfJoinsReachesEveryMemberInOrder) {
  lanchat::net::raise_fd_limit();
  TestServer srv(unlimited());
  constexpr int kClients = 300;
  std::vector<std::unique_ptr<RawClient>> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(srv.port()));
    clients.back()->send({{"type", "hello"}, {"nick", "s" + std::to_string(i)}, {"proto", 1}});
  }
  std::vector<json> welcomes;
  for (auto& c : clients) {
    auto w = c->recv_type("welcome");
    ASSERT_TRUE(w);
    welcomes.push_back(*w);
  }
  clients[0]->send(say("done"));
  for (int i = 0; i < kClients; ++i) {
    // Everyone who joined after i appears in i's stream as a join, in the server's order.
    const auto& users = welcomes[static_cast<std::size_t>(i)]["users"];
    std::vector<std::string> seen;
    for (;;) {
      auto line = clients[static_cast<std::size_t>(i)]->recv();
      ASSERT_TRUE(line) << "client " << i;
      if ((*line)["type"] == "msg") break;
      ASSERT_EQ((*line)["type"], "join");
      seen.push_back((*line)["nick"]);
    }
    EXPECT_EQ(users.size() + seen.size(), static_cast<std::size_t>(kClients)) << "client " << i;
    std::vector<std::string> order;
    for (const auto& u : welcomes.back()["users"]) order.push_back(u);
    const std::vector<std::string> tail(order.end() - static_cast<std::ptrdiff_t>(seen.size()),
                                        order.end());
    EXPECT_EQ(seen, tail) << "client " << i;
  }
}

TEST(Server, AThousandClientsJoinAndChat) {
  lanchat::net::raise_fd_limit();
  TestServer srv(unlimited());  // 1,000 clients from one address: no per-address cap
  constexpr int kClients = 1000;
  std::vector<std::unique_ptr<RawClient>> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(srv.port()));
    clients.back()->send({{"type", "hello"}, {"nick", "c" + std::to_string(i)}, {"proto", 1}});
  }
  for (auto& c : clients) ASSERT_EQ((*c->recv_type("welcome"))["type"], "welcome");
  ASSERT_EQ(srv.members(), static_cast<std::size_t>(kClients));
  for (int k = 0; k < 20; ++k) clients[0]->send(say("to all " + std::to_string(k)));
  for (auto& c : clients) {
    for (int k = 0; k < 20; ++k) {
      auto m = c->recv_type("msg");
      ASSERT_TRUE(m);
      EXPECT_EQ((*m)["text"], "to all " + std::to_string(k));
    }
  }
}

TEST(Limits, FloodIsRateLimitedClearlyAndOthersGetOnlyWhatPassed) {
  ServerConfig cfg;
  cfg.max_msg_rate = 2;
  cfg.max_msg_burst = 3;
  TestServer srv(cfg);
  RawClient a(srv.port()), b(srv.port());
  a.join("flooder");
  b.join("reader");
  a.recv_type("join");
  for (int i = 0; i < 6; ++i) a.send(say("m" + std::to_string(i)));
  int msgs = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = a.recv();
    ASSERT_TRUE(r);
    if ((*r)["type"] == "msg") ++msgs;
    if ((*r)["type"] == "error") {
      EXPECT_EQ((*r)["code"], "rate_limited");
      EXPECT_NE((*r)["message"].get<std::string>().find("not sent"), std::string::npos);
      ++limited;
    }
  }
  EXPECT_EQ(msgs, 3) << "the burst passes";
  EXPECT_EQ(limited, 3) << "the rest is refused, each one told";
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*b.recv_type("msg"))["text"], "m" + std::to_string(i));
  EXPECT_TRUE(b.silent_for(200ms)) << "refused messages reach nobody";
  b.send(say("the reader is not limited by the flooder"));
  EXPECT_EQ((*b.recv_type("msg"))["from"], "reader");
  std::this_thread::sleep_for(600ms);  // tokens refill at 2/s
  a.send(say("later"));
  EXPECT_EQ((*b.recv_type("msg"))["text"], "later");
}

TEST(Limits, ServerFullIsToldThenClosedAndMembersAreUndisturbed) {
  ServerConfig cfg;
  cfg.max_clients = 2;
  TestServer srv(cfg);
  RawClient a(srv.port()), b(srv.port());
  a.join("a");
  b.join("b");
  RawClient c(srv.port());
  auto e = c.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "server_full");
  EXPECT_NE((*e)["message"].get<std::string>().find("2 connections"), std::string::npos);
  EXPECT_TRUE(c.wait_closed());
  a.send(say("still fine"));
  EXPECT_EQ((*b.recv_type("msg"))["text"], "still fine");
  a.close();
  ASSERT_TRUE(eventually([&] { return srv.connections() == 1; }));
  RawClient d(srv.port());
  EXPECT_EQ(d.join("d")["type"], "welcome") << "a freed place can be taken";
}

TEST(Limits, PerAddressCapIsToldAndReleasedOnClose) {
  ServerConfig cfg;
  cfg.max_per_ip = 1;
  TestServer srv(cfg);
  auto first = std::make_unique<RawClient>(srv.port());
  first->join("first");
  RawClient second(srv.port());
  auto e = second.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "server_full");
  EXPECT_NE((*e)["message"].get<std::string>().find("127.0.0.1"), std::string::npos);
  EXPECT_TRUE(second.wait_closed());
  first.reset();
  ASSERT_TRUE(eventually([&] { return srv.connections() == 0; }));
  RawClient third(srv.port());
  EXPECT_EQ(third.join("third")["type"], "welcome");
}

// ---- large rooms (docs/PROTOCOL.md, "Large rooms") -------------------------------------

namespace {
json hello_with_summaries(const std::string& nick) {
  return json{{"type", "hello"}, {"nick", nick}, {"proto", 1}, {"summaries", true}};
}
}  // namespace

TEST(Server, ALargeRoomSummarizesJoinsForClientsThatAskAndAProtocolOneClientHearsEachOne) {
  ServerConfig cfg;
  cfg.large_room = 3;
  TestServer srv(cfg);
  RawClient classic(srv.port());
  classic.join("alice");  // protocol 1, as documented before large rooms
  RawClient sum(srv.port());
  sum.send(hello_with_summaries("bob"));
  auto wb = sum.recv_type("welcome");
  ASSERT_TRUE(wb);
  EXPECT_FALSE(wb->contains("members")) << "two people: not a large room yet";

  std::vector<std::unique_ptr<RawClient>> more;
  for (const char* nick : {"carol", "dave"}) {
    more.push_back(std::make_unique<RawClient>(srv.port()));
    more.back()->send(hello_with_summaries(nick));
    auto w = more.back()->recv_type("welcome");
    ASSERT_TRUE(w);
  }
  // With carol the room has 3: large. bob hears of carol and dave in summaries (one, or
  // two if the summary period ended between their joins), never in join lines.
  std::vector<std::string> joined;
  json p;
  while (joined.size() < 2) {
    auto line = sum.recv();
    ASSERT_TRUE(line);
    ASSERT_EQ((*line)["type"], "presence") << line->dump();
    EXPECT_EQ((*line)["left"], json::array());
    for (const auto& n : (*line)["joined"]) joined.push_back(n);
    p = *line;
  }
  EXPECT_EQ(joined, (std::vector<std::string>{"carol", "dave"}));
  EXPECT_EQ(p["members"], 4);

  // The protocol-1 client hears every join on its own line, as ever.
  auto j1 = classic.recv_type("join");
  auto j2 = classic.recv_type("join");
  auto j3 = classic.recv_type("join");
  ASSERT_TRUE(j1 && j2 && j3);
  EXPECT_EQ((*j3)["nick"], "dave");
  EXPECT_TRUE(classic.silent_for(300ms)) << "and never a presence summary";

  more.back()->send(json{{"type", "bye"}});
  auto left = sum.recv_type("presence");
  ASSERT_TRUE(left);
  EXPECT_EQ((*left)["members"], 3);
  EXPECT_EQ((*left)["left"], json::array({json{{"nick", "dave"}, {"reason", "quit"}}}));
  auto l = classic.recv_type("leave");
  ASSERT_TRUE(l);
  EXPECT_EQ((*l)["nick"], "dave");
}

TEST(Server, MembersArePagedAndSearchedAndAnsweredOnlyAfterJoining) {
  ServerConfig cfg;
  cfg.large_room = 2;
  TestServer srv(cfg);
  RawClient early(srv.port());
  early.send(json{{"type", "members"}, {"ref", 1}});
  auto e = early.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "not_joined");
  EXPECT_EQ((*e)["ref"], 1);

  std::vector<std::unique_ptr<RawClient>> clients;
  for (const char* nick : {"alice", "bob", "Carla", "carol"}) {
    clients.push_back(std::make_unique<RawClient>(srv.port()));
    clients.back()->send(hello_with_summaries(nick));
    ASSERT_TRUE(clients.back()->recv_type("welcome"));
  }
  RawClient& last = *clients.back();
  last.send(json{{"type", "members"}, {"offset", 1}, {"limit", 2}, {"ref", "p"}});
  auto page = last.recv_type("members");
  ASSERT_TRUE(page);
  EXPECT_EQ((*page)["members"], 4);
  EXPECT_EQ((*page)["offset"], 1);
  EXPECT_EQ((*page)["users"], json::array({"bob", "Carla"}));
  EXPECT_EQ((*page)["more"], true);
  EXPECT_EQ((*page)["ref"], "p");
  last.send(json{{"type", "members"}, {"match", "CAR"}});
  page = last.recv_type("members");
  ASSERT_TRUE(page);
  EXPECT_EQ((*page)["users"], json::array({"Carla", "carol"}));
  EXPECT_EQ((*page)["more"], false);
  last.send(json{{"type", "members"}, {"limit", 5000}});
  auto bad = last.recv_type("error");
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["code"], "bad_message");

  // A large room's welcome to one who asked for summaries: the first members and the count.
  RawClient late(srv.port());
  late.send(hello_with_summaries("erin"));
  auto w = late.recv_type("welcome");
  ASSERT_TRUE(w);
  EXPECT_EQ((*w)["members"], 5);
  EXPECT_EQ((*w)["users"].size(), 5u) << "100 are listed: all five here";
}
