// People in the room (issue 11): direct messages, actions, nick changes and the host's
// moderation, over real sockets with raw JSON clients.
#include <gtest/gtest.h>

#include <thread>

#include "net/commands.hpp"
#include "net/nick.hpp"
#include "tests/support.hpp"

using namespace lanchat::test;
namespace net = lanchat::net;

namespace {

json say(const std::string& text) {
  return {{"type", "say"}, {"text", text}};
}
json dm(const std::string& to, const std::string& text) {
  return {{"type", "say"}, {"text", text}, {"to", to}};
}
bool logged(TestServer& srv, const std::string& needle) {
  return eventually([&] {
    for (const auto& l : srv.log_lines()) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  });
}
// The connection number the server gave to the n-th connection (1-based), as in the panel.
std::uint64_t conn(int n) {
  return static_cast<std::uint64_t>(n);
}
// Three joined members: alice (#1), bob (#2), carol (#3), each having seen the others join.
struct Three {
  explicit Three(TestServer& srv) : a(srv.port()), b(srv.port()), c(srv.port()) {
    a.join("alice");
    b.join("bob");
    c.join("carol");
    a.recv_type("join");
    a.recv_type("join");
    b.recv_type("join");
  }
  RawClient a, b, c;
};

}  // namespace

TEST(People, ADirectMessageReachesTheTwoOfThemOnlyWithAnIdFromTheRoomsSequence) {
  TestServer srv(without_rate_limits());
  Three t(srv);
  t.a.send(say("before"));
  const auto before = t.c.recv_type("msg");
  ASSERT_TRUE(before);
  t.a.send(dm("BOB", "psst"));  // nicks are matched as people read them
  for (RawClient* r : {&t.a, &t.b}) {
    auto m = r->recv_type("msg");
    ASSERT_TRUE(m);
    if ((*m)["text"] == "before") m = r->recv_type("msg");
    EXPECT_EQ((*m)["from"], "alice");
    EXPECT_EQ((*m)["to"], "bob");
    EXPECT_EQ((*m)["text"], "psst");
  }
  t.a.send(say("after"));
  const auto after = t.c.recv_type("msg");
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)["text"], "after") << "carol never saw the direct message";
  EXPECT_EQ((*after)["id"].get<std::uint64_t>(), (*before)["id"].get<std::uint64_t>() + 2)
      << "the direct message took the id in between";
  t.a.send(dm("nobody", "hello?"));
  const auto e = t.a.recv_type("error");
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "no_such_nick");
}

TEST(People, DirectMessagesAreNeverKeptStoredSearchedOrReplayed) {
  TempDir dir;
  net::StoreOptions store;
  store.file = net::room_store_path(dir.path, "Lab 2");
  std::string room_id;
  std::uint64_t last = 0;
  {
    TestServer srv(without_rate_limits(), store);
    RawClient a(srv.port()), b(srv.port());
    room_id = a.join("alice")["room_id"];
    b.join("bob");
    a.recv_type("join");
    a.send(say("public words"));
    a.send(dm("bob", "secret words"));
    ASSERT_TRUE(b.recv_type("msg"));
    const auto secret = b.recv_type("msg");
    ASSERT_TRUE(secret);
    EXPECT_EQ((*secret)["to"], "bob");
    last = (*secret)["id"];
    // Not in a newcomer's welcome, nor in history, nor found.
    RawClient c(srv.port());
    const json w = c.join("carol");
    for (const auto& m : w["history"]) EXPECT_NE(m["text"], "secret words");
    c.send({{"type", "history"}});
    const auto history = c.recv_type("history");
    ASSERT_TRUE(history);
    for (const auto& m : (*history)["msgs"]) EXPECT_NE(m["text"], "secret words");
    c.send({{"type", "search"}, {"text", "secret"}});
    EXPECT_TRUE((*c.recv_type("found"))["msgs"].empty());
    c.send({{"type", "search"}, {"text", "public"}});
    EXPECT_EQ((*c.recv_type("found"))["msgs"].size(), 1u);
  }
  // Whoever takes bob's nick after a restart, resuming from before, gets nothing of it; ids
  // never repeat (the direct message's id is not given out again).
  TestServer srv(without_rate_limits(), store);
  RawClient impostor(srv.port());
  impostor.send(
      {{"type", "hello"}, {"nick", "bob"}, {"proto", 1}, {"room_id", room_id}, {"last_id", 0}});
  const auto w = impostor.recv_type("welcome");
  ASSERT_TRUE(w);
  for (const auto& m : (*w)["history"]) EXPECT_NE(m["text"], "secret words");
  impostor.send(say("new"));
  EXPECT_GT((*impostor.recv_type("msg"))["id"].get<std::uint64_t>(), last);
}

TEST(People, ActionsGoToEveryoneAndAreKept) {
  TestServer srv(without_rate_limits());
  Three t(srv);
  t.a.send({{"type", "say"}, {"text", "waves"}, {"action", true}});
  for (RawClient* r : {&t.a, &t.b, &t.c}) {
    const auto m = r->recv_type("msg");
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)["action"], true);
    EXPECT_EQ((*m)["text"], "waves");
  }
  RawClient d(srv.port());
  const json w = d.join("dave");
  ASSERT_EQ(w["history"].size(), 1u);
  EXPECT_EQ(w["history"][0]["action"], true) << "kept as an action";
  t.a.send({{"type", "say"}, {"text", "plain"}});
  EXPECT_FALSE(t.b.recv_type("msg")->contains("action")) << "plain messages look as in v1";
}

TEST(People, ANickChangeReachesEveryoneInTheTotalOrder) {
  TestServer srv(without_rate_limits());
  Three t(srv);
  t.a.send(say("one"));
  ASSERT_TRUE(t.b.recv_type("msg"));  // "one" is out before bob renames
  t.b.send({{"type", "nick"}, {"nick", "robert"}});
  ASSERT_TRUE(t.b.recv_type("nick"));
  t.a.send(say("two"));
  for (RawClient* r : {&t.a, &t.c}) {
    std::vector<std::string> seen;
    while (seen.size() < 3) {
      const auto l = r->recv();
      ASSERT_TRUE(l);
      if ((*l)["type"] == "msg") seen.push_back((*l)["text"]);
      if ((*l)["type"] == "nick") {
        EXPECT_EQ((*l)["old"], "bob");
        EXPECT_EQ((*l)["new"], "robert");
        EXPECT_TRUE((*l)["ts"].is_number_integer());
        seen.push_back("nick");
      }
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"one", "nick", "two"}));
  }
  // The new nick is the one that counts now.
  t.a.send(dm("robert", "hi robert"));
  auto m = t.b.recv_type("msg");
  if (m && (*m)["text"] == "two") m = t.b.recv_type("msg");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["text"], "hi robert");
  t.a.send(dm("bob", "hi bob"));
  EXPECT_EQ((*t.a.recv_type("error"))["code"], "no_such_nick");
  RawClient d(srv.port());
  EXPECT_EQ(d.join("bob")["type"], "welcome") << "the old nick is free";
  EXPECT_TRUE(logged(srv, "bob is now known as robert"));
}

TEST(People, NickChangesAreCheckedLikeHelloAndRateLimited) {
  TestServer srv(without_rate_limits());
  Three t(srv);
  auto change = [&](const std::string& nick) {
    t.b.send({{"type", "nick"}, {"nick", nick}, {"ref", nick}});
    for (;;) {
      const auto l = t.b.recv();
      if (!l) return std::string("nothing");
      if ((*l)["type"] == "error") {
        EXPECT_EQ((*l)["ref"], nick);
        return (*l)["code"].get<std::string>();
      }
      if ((*l)["type"] == "nick") return std::string("ok");
    }
  };
  EXPECT_EQ(change("Admin"), "bad_nick");
  EXPECT_EQ(change("two words"), "bad_nick");
  EXPECT_EQ(change("\u0430lice"), "nick_taken") << "looks like alice";
  EXPECT_EQ(change("Bob"), "ok") << "a member may change the case of its own nick";
  EXPECT_EQ(change("bobby"), "ok");
  EXPECT_EQ(change("bobbie"), "ok");
  EXPECT_EQ(change("robert"), "rate_limited") << "three at once, then one every 5 seconds";
  RawClient outsider(srv.port());
  outsider.send({{"type", "nick"}, {"nick", "x"}});
  EXPECT_EQ((*outsider.recv())["code"], "not_joined");
}

TEST(People, TheHostKicksAndEveryoneTheKickedOneIncludedIsTold) {
  TestServer srv(without_rate_limits());
  Three t(srv);
  srv.run_on_net([&] { srv.server()->kick(conn(2), "stop spamming"); });
  for (RawClient* r : {&t.a, &t.b, &t.c}) {
    const auto l = r->recv_type("leave");
    ASSERT_TRUE(l);
    EXPECT_EQ((*l)["nick"], "bob");
    EXPECT_EQ((*l)["reason"], "kicked");
    EXPECT_EQ((*l)["message"], "stop spamming");
  }
  EXPECT_TRUE(t.b.wait_closed());
  EXPECT_TRUE(logged(srv, "the host kicked #2 (bob) from 127.0.0.1:"));
  EXPECT_EQ(srv.members(), 2u);
}

TEST(People, AMutedMemberCannotSpeakAndTheRoomIsTold) {
  TestServer srv(without_rate_limits());
  Three t(srv);
  srv.run_on_net([&] { srv.server()->mute(conn(2), true); });
  for (RawClient* r : {&t.a, &t.b, &t.c}) {
    const auto n = r->recv_type("notice");
    ASSERT_TRUE(n);
    EXPECT_EQ((*n)["text"], "bob was muted by the host");
  }
  t.b.send(say("let me talk"));
  EXPECT_EQ((*t.b.recv_type("error"))["code"], "muted");
  t.b.send(dm("alice", "psst"));
  EXPECT_EQ((*t.b.recv_type("error"))["code"], "muted") << "direct messages too";
  // Reconnecting does not unmute.
  t.b.close();
  RawClient b2(srv.port());
  b2.join("bob");
  b2.send(say("am I back?"));
  EXPECT_EQ((*b2.recv_type("error"))["code"], "muted");
  srv.run_on_net([&] { srv.server()->mute(conn(4), false); });
  EXPECT_EQ((*t.a.recv_type("notice"))["text"], "bob can speak again");
  b2.send(say("thanks"));
  EXPECT_EQ((*t.a.recv_type("msg"))["text"], "thanks");
  EXPECT_TRUE(logged(srv, "the host muted #2 (bob)"));
}

TEST(People, ABanKicksThenRefusesTheAddressAndSurvivesARestart) {
  TempDir dir;
  net::StoreOptions store;
  store.file = net::room_store_path(dir.path, "Lab 2");
  {
    TestServer srv(without_rate_limits(), store);
    Three t(srv);
    srv.run_on_net([&] { srv.server()->ban(conn(2), std::chrono::hours(1), "spam"); });
    const auto l = t.b.recv_type("leave");
    ASSERT_TRUE(l);
    EXPECT_EQ((*l)["reason"], "kicked");
    EXPECT_NE((*l)["message"].get<std::string>().find("banned until"), std::string::npos);
    EXPECT_TRUE(t.b.wait_closed());
    RawClient again(srv.port());
    again.send({{"type", "hello"}, {"nick", "bobby"}, {"proto", 1}});
    const auto e = again.recv();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["code"], "banned");
    EXPECT_NE((*e)["message"].get<std::string>().find("until"), std::string::npos);
    EXPECT_NE((*e)["message"].get<std::string>().find("spam"), std::string::npos);
    EXPECT_TRUE(again.wait_closed());
  }
  TestServer srv(without_rate_limits(), store);  // the ban was kept in the store
  RawClient again(srv.port());
  again.send({{"type", "hello"}, {"nick", "bob"}, {"proto", 1}});
  EXPECT_EQ((*again.recv())["code"], "banned");
  srv.run_on_net([&] { srv.server()->unban("127.0.0.1"); });
  RawClient welcome(srv.port());
  EXPECT_EQ(welcome.join("bob")["type"], "welcome");
  EXPECT_TRUE(logged(srv, "the host unbanned 127.0.0.1"));
}

TEST(People, TheHostsOwnConnectionIsNeverKickedMutedOrBanned) {
  TestServer srv(without_rate_limits());
  RawClient host(srv.port());
  srv.treat_as_host(host);
  host.join("teacher");
  srv.run_on_net([&] {
    srv.server()->kick(conn(1), "x");
    srv.server()->mute(conn(1), true);
    srv.server()->ban(conn(1), std::chrono::seconds(0), "x");
  });
  host.send(say("still here"));
  const auto m = host.recv_type("msg");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["text"], "still here");
  EXPECT_TRUE(logged(srv, "cannot kick the host's own connection"));
  EXPECT_TRUE(logged(srv, "cannot ban the host's own connection"));
}

TEST(People, MentionsAreWholeWordsInAnyCaseWithOrWithoutAt) {
  using lanchat::nick::mentions;
  EXPECT_TRUE(mentions("hi bob", "bob"));
  EXPECT_TRUE(mentions("@Bob: look", "bob"));
  EXPECT_TRUE(mentions("BOB!", "bob"));
  EXPECT_TRUE(mentions("ciao Niccolò, come va?", "NICCOLÒ"));
  EXPECT_FALSE(mentions("bobby", "bob"));
  EXPECT_FALSE(mentions("kebob", "bob"));
  EXPECT_FALSE(mentions("bob_2 says", "bob"));
  EXPECT_FALSE(mentions("", "bob"));
}

TEST(People, CommandsAreParsedAsTyped) {
  using namespace lanchat::net::command;
  auto parsed = [](std::string_view s) { return lanchat::net::parse_command(s); };
  EXPECT_TRUE(std::get<Say>(parsed("/me waves")).action);
  EXPECT_EQ(std::get<Say>(parsed("/msg bob hi there")).to, "bob");
  EXPECT_EQ(std::get<Say>(parsed("/msg bob hi there")).text, "hi there");
  EXPECT_EQ(std::get<Nick>(parsed("/nick alicia")).nick, "alicia");
  EXPECT_EQ(std::get<Kick>(parsed("/kick bob be nice")).reason, "be nice");
  EXPECT_FALSE(std::get<Mute>(parsed("/unmute bob")).muted);
  const Ban b = std::get<Ban>(parsed("/ban bob 1h flooding"));
  EXPECT_EQ(b.duration, std::chrono::hours(1));
  EXPECT_EQ(b.reason, "flooding");
  EXPECT_EQ(std::get<Ban>(parsed("/ban bob")).duration.count(), 0);
  EXPECT_EQ(std::get<Say>(parsed("//not a command")).text, "/not a command");
  EXPECT_EQ(std::get<Say>(parsed("plain")).text, "plain");
  EXPECT_TRUE(std::holds_alternative<Invalid>(parsed("/frobnicate")));
  EXPECT_TRUE(std::holds_alternative<Invalid>(parsed("/msg bob")));
}
