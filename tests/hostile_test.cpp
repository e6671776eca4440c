// A room no client can hurt: the server tried as a hostile or careless LAN client would,
// over real sockets on 127.0.0.1 (raw JSON, no lanchat client code).
#include <gtest/gtest.h>

#include <thread>

#include "net/connection.hpp"
#include "tests/support.hpp"

using namespace lanchat::test;
using lanchat::net::ServerConfig;

namespace {

json hello(const std::string& nick) {
  return {{"type", "hello"}, {"nick", nick}, {"proto", 1}};
}
json say(const std::string& text) {
  return {{"type", "say"}, {"text", text}};
}
// Skips lines until a msg with this text arrives.
bool got_msg(RawClient& c, const std::string& text) {
  for (;;) {
    auto m = c.recv_type("msg");
    if (!m) return false;
    if ((*m)["text"] == text) return true;
  }
}
bool any_line(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST(Hostile, NothingAClientSendsCanForgeALogLine) {
  TestServer srv;
  RawClient a(srv.port());
  a.send_raw(R"({"type":"x\n[12:00:00] #99 joined as admin"})"
             "\n");
  auto e = a.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "unknown_type");
  // Bidi overrides and C1 controls in a type are escaped too.
  a.send({{"type", "\u202Enimda sa denioj\u0085x"}});
  EXPECT_EQ((*a.recv())["code"], "unknown_type");
  a.send(hello("alice"));
  ASSERT_TRUE(a.recv_type("welcome"));
  for (const auto& line : srv.log_lines()) {
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find("\u202E"), std::string::npos) << line;
    EXPECT_EQ(line.find("\u0085"), std::string::npos) << line;
    EXPECT_EQ(line.rfind("[12:00:00]", 0), std::string::npos) << line;
  }
  EXPECT_TRUE(any_line(srv.log_lines(), R"(unknown message type "x\n[12:00:00] #99 joined)"));
  EXPECT_TRUE(any_line(srv.log_lines(), R"(\u202E)"));
}

TEST(Hostile, PasswordGuessingIsLockedOutAfterFiveTriesAndEveryTryIsCounted) {
  ServerConfig cfg;
  cfg.password = "1234";
  cfg.lockout = std::chrono::seconds(2);
  TestServer srv(cfg);
  RawClient a(srv.port());
  for (int i = 1; i <= 5; ++i) {
    a.send({{"type", "hello"}, {"nick", "mallory"}, {"proto", 1}, {"password", std::to_string(i)}});
    auto e = a.recv();
    ASSERT_TRUE(e) << "try " << i;
    EXPECT_EQ((*e)["code"], "bad_password") << "try " << i;
    if (i == 5) {
      EXPECT_NE((*e)["message"].get<std::string>().find("try again in 2 s"), std::string::npos);
    }
  }
  EXPECT_TRUE(a.wait_closed()) << "the fifth wrong password closes the connection";
  // The address is locked out: even the right password is refused, and closed.
  for (int i = 0; i < 3; ++i) {
    RawClient b(srv.port());
    b.send({{"type", "hello"}, {"nick", "mallory"}, {"proto", 1}, {"password", "1234"}});
    auto e = b.recv();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["code"], "rate_limited");
    EXPECT_TRUE(b.wait_closed());
  }
  auto lines = srv.log_lines();
  EXPECT_TRUE(any_line(lines, "5 in the last minute"));
  EXPECT_TRUE(any_line(lines, "127.0.0.1 locked out for 2 s after 5 wrong passwords"));
  for (const auto& l : lines) EXPECT_EQ(l.find("1234"), std::string::npos) << "never the password";
  // Once the lockout is over, the refusals are counted in the log and the right password works.
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  RawClient c(srv.port());
  c.send({{"type", "hello"}, {"nick", "alice"}, {"proto", 1}, {"password", "1234"}});
  EXPECT_EQ((*c.recv())["type"], "welcome");
  ASSERT_TRUE(
      eventually([&] { return any_line(srv.log_lines(), "3 hellos were refused during it"); }));
}

TEST(Hostile, ConnectionsThatNeverJoinAreClosedAtTheHelloDeadline) {
  ServerConfig cfg;
  cfg.hello_timeout = std::chrono::seconds(1);
  TestServer srv(cfg);
  RawClient idle(srv.port());
  RawClient member(srv.port());
  member.join("alice");
  auto e = idle.recv(3s);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "hello_timeout");
  EXPECT_TRUE(idle.wait_closed());
  member.send(say("still here"));
  EXPECT_EQ((*member.recv_type("msg"))["text"], "still here") << "members are never timed out";
  EXPECT_TRUE(any_line(srv.log_lines(), "closed: no hello within 1 s"));
}

TEST(Hostile, UnjoinedConnectionsHaveTheirOwnCapPerAddress) {
  ServerConfig cfg;
  cfg.max_unjoined_per_ip = 2;
  TestServer srv(cfg);
  RawClient a(srv.port()), b(srv.port());
  RawClient c(srv.port());
  auto e = c.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "server_full");
  EXPECT_NE((*e)["message"].get<std::string>().find("not joined yet"), std::string::npos);
  EXPECT_TRUE(c.wait_closed());
  c.close();
  ASSERT_TRUE(eventually([&] { return srv.connections() == 2; }));
  a.join("alice");  // a joined connection no longer counts
  RawClient d(srv.port());
  EXPECT_EQ(d.join("dave")["type"], "welcome");
}

TEST(Hostile, EveryInboundLineCostsFromABudgetAndPersistentFloodingIsDisconnected) {
  ServerConfig cfg;
  cfg.max_line_rate = 10;  // bursts of 40 lines
  cfg.max_refusals = 20;
  TestServer srv(cfg);
  RawClient member(srv.port());
  member.join("alice");
  RawClient flood(srv.port());
  flood.join("mallory");
  member.recv_type("join");
  // Pings, garbage and refused hellos are lines like any other.
  std::string burst;
  for (int i = 0; i < 100; ++i) {
    burst += i % 3 == 0   ? R"({"type":"ping","id":1})"
                            "\n"
             : i % 3 == 1 ? "garbage\n"
                          : hello("x").dump() + "\n";
  }
  flood.send_raw(burst);
  int pongs = 0, limited = 0, others = 0;
  bool closed = false;
  for (;;) {
    auto line = flood.recv(3s);
    if (!line) {
      closed = flood.wait_closed(1s);
      break;
    }
    if ((*line)["type"] == "pong")
      ++pongs;
    else if ((*line)["code"] == "rate_limited")
      ++limited;
    else
      ++others;
  }
  EXPECT_LE(pongs + others, 41) << "no more than the burst was handled";
  EXPECT_GT(limited, 20);
  EXPECT_TRUE(closed) << "kept flooding after 20 refusals: disconnected";
  auto leave = member.recv_type("leave");
  ASSERT_TRUE(leave);
  EXPECT_EQ((*leave)["nick"], "mallory");
  EXPECT_TRUE(any_line(srv.log_lines(), "disconnected: still sending after 20 refusals"));
  member.send(say("the room is fine"));
  EXPECT_EQ((*member.recv_type("msg"))["text"], "the room is fine");
}

TEST(Hostile, APingIdOverOneKibIsRefusedWithoutAPong) {
  TestServer srv;
  RawClient a(srv.port());
  a.send({{"type", "ping"}, {"id", std::string(1025, 'x')}});
  auto e = a.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "error");
  EXPECT_EQ((*e)["code"], "bad_message");
  a.send({{"type", "ping"}, {"id", json::array({std::string(600, 'a'), std::string(600, 'b')})}});
  EXPECT_EQ((*a.recv())["code"], "bad_message");
  a.send({{"type", "ping"}, {"id", std::string(1000, 'y')}});
  EXPECT_EQ((*a.recv())["type"], "pong") << "up to 1 KiB is echoed";
}

TEST(Hostile, TheServersOutputMemoryIsCappedByDroppingTheLargestBacklogFirst) {
  ServerConfig cfg;
  cfg.max_msg_rate = 0;
  cfg.max_line_rate = 0;
  cfg.max_backlog_bytes = 64u << 20;  // the per-reader bound is not what stops them here
  cfg.max_memory_bytes = 3u << 20;
  TestServer srv(cfg);
  RawClient sender(srv.port());
  sender.join("sender");
  const std::string text(3000, 'z');
  // Sends n messages and reads their echoes, so the sender itself never falls behind.
  auto send_n = [&](int n) {
    for (int i = 0; i < n; ++i) sender.send(say(text));
    for (int got = 0; got < n;) {
      auto m = sender.recv(10s);
      ASSERT_TRUE(m);
      if ((*m)["type"] == "msg") ++got;
    }
  };
  // Two readers that never read; "big" is there from the start, "small" only later, so
  // big's backlog is always the larger one.
  RawClient big(srv.port(), 4096);
  big.join("big");
  send_n(400);
  RawClient small(srv.port(), 4096);
  small.join("small");
  send_n(600);
  auto lines = srv.log_lines();
  EXPECT_TRUE(
      any_line(lines, "(big) dropped: the server's output reached its memory limit (3 MiB)"))
      << "the largest backlog goes first";
  EXPECT_FALSE(any_line(lines, "(small) dropped")) << "and only as many as needed";
  EXPECT_LE(srv.queued(), cfg.max_memory_bytes);
}

TEST(Hostile, AnExceptionWhileHandlingOneConnectionClosesOnlyThatOne) {
  ServerConfig cfg;
  cfg.fault_hook = [](std::string_view where, std::uint64_t conn, std::string_view line) {
    if (where == "line" && line.find("boom") != std::string_view::npos) {
      throw std::runtime_error("injected fault");
    }
    // Only connection #3 (carol) fails to start its write of this line.
    if (where == "write" && conn == 3 && line.find("explode on write") != std::string_view::npos) {
      throw std::runtime_error("injected write fault");
    }
  };
  TestServer srv(cfg);
  RawClient a(srv.port()), victim(srv.port()), c(srv.port());
  a.join("alice");
  victim.join("victim");
  c.join("carol");
  a.recv_type("join");
  a.recv_type("join");
  victim.send(say("boom"));
  EXPECT_TRUE(victim.wait_closed());
  auto leave = a.recv_type("leave");
  ASSERT_TRUE(leave);
  EXPECT_EQ((*leave)["nick"], "victim");
  EXPECT_TRUE(
      any_line(srv.log_lines(), "internal error while reading for #2 (victim) from 127.0.0.1:"));
  // The room is consistent: the nick is free again and the others chat on.
  RawClient again(srv.port());
  EXPECT_EQ(again.join("victim")["type"], "welcome");
  a.send(say("after the fault"));
  EXPECT_TRUE(got_msg(c, "after the fault"));
  // A fault while starting one connection's write: that one is closed, the flush goes on.
  a.send(say("explode on write"));
  EXPECT_TRUE(got_msg(a, "explode on write")) << "others still get it";
  EXPECT_TRUE(got_msg(again, "explode on write"));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(any_line(srv.log_lines(), "internal error while writing for #3 (carol)"));
  a.send(say("and flushing still works"));
  EXPECT_TRUE(got_msg(a, "and flushing still works"));
  EXPECT_TRUE(got_msg(again, "and flushing still works"));
}

TEST(Hostile, GuessingFromTheHostsMachineNeverLocksTheHostOut) {
  ServerConfig cfg;
  cfg.password = "pw";
  TestServer srv(cfg);
  RawClient host(srv.port());
  srv.treat_as_host(host);
  RawClient guesser(srv.port());
  for (int i = 0; i < 5; ++i) {
    guesser.send({{"type", "hello"}, {"nick", "m"}, {"proto", 1}, {"password", "no"}});
    guesser.recv();
  }
  RawClient other(srv.port());
  other.send({{"type", "hello"}, {"nick", "o"}, {"proto", 1}, {"password", "pw"}});
  EXPECT_EQ((*other.recv())["code"], "rate_limited") << "127.0.0.1 is locked out";
  host.send({{"type", "hello"}, {"nick", "host"}, {"proto", 1}, {"password", "pw"}});
  EXPECT_EQ((*host.recv())["type"], "welcome") << "but not the host's own connection";
}
