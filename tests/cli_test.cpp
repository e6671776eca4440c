// The built `lanchat` binary, run as a user would run it from a terminal or a script.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "net/fingerprint.hpp"
#include "tests/support.hpp"

using namespace lanchat::test;

extern char** environ;

namespace {

// Each test process gets its own XDG data and config folders, so no test reads or writes
// the user's rooms or settings, and tests running side by side never share a store.
struct TestHome {
  std::filesystem::path dir;
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  TestHome() {
    char tmpl[] = "/tmp/lanchat-cli-XXXXXX";
    dir = ::mkdtemp(tmpl);
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view v(*e);
      if (v.rfind("XDG_DATA_HOME=", 0) == 0 || v.rfind("XDG_CONFIG_HOME=", 0) == 0) continue;
      env_strings.emplace_back(v);
    }
    env_strings.push_back("XDG_DATA_HOME=" + (dir / "data").string());
    env_strings.push_back("XDG_CONFIG_HOME=" + (dir / "config").string());
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
  }
  ~TestHome() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path data() const { return dir / "data" / "lanchat"; }
};
TestHome& test_home() {
  static TestHome home;
  return home;
}

// A child process with pipes on stdin, stdout and stderr.
class Proc {
 public:
  // Runs `lanchat ARGS`; with a shell prefix, runs `sh -c 'PREFIX exec lanchat ARGS'` (a
  // ulimit, say), or the prefix with {cmd} replaced by the quoted command line.
  explicit Proc(std::vector<std::string> args, const std::string& shell_prefix = "") {
    int in[2], out[2], err[2];
    if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      posix_spawn_file_actions_addclose(&fa, fd);
    }
    args.insert(args.begin(), LANCHAT_BINARY);
    if (!shell_prefix.empty()) {
      std::string quoted;
      for (const auto& a : args) quoted += (quoted.empty() ? "'" : " '") + a + "'";
      std::string cmd = shell_prefix;
      if (const auto at = cmd.find("{cmd}"); at != std::string::npos) {
        cmd.replace(at, 5, quoted);
      } else {
        cmd += " exec " + quoted;
      }
      args = {"/bin/sh", "-c", cmd};
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), test_home().env.data()) != 0) {
      throw std::runtime_error("spawn failed");
    }
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
  }
  ~Proc() {
    close_stdin();
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
    ::close(err_);
  }

  void write(const std::string& s) { (void)!::write(in_, s.data(), s.size()); }
  void close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }
  void signal(int sig) { kill(pid_, sig); }
  pid_t pid() const { return pid_; }

  // Next stdout line, or nothing after the timeout.
  std::optional<std::string> line(std::chrono::milliseconds timeout = 5s) {
    return next_line(out_, out_buf_, timeout);
  }
  // Waits for a stdout line containing `needle`; returns it.
  std::optional<std::string> line_with(const std::string& needle,
                                       std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto l = line(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!l) return std::nullopt;
      if (l->find(needle) != std::string::npos) return l;
    }
    return std::nullopt;
  }
  // Exit status, or -1 if still running after the timeout.
  int wait(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  // Everything on stderr so far.
  std::string stderr_text() {
    char buf[4096];
    fcntl(err_, F_SETFL, O_NONBLOCK);
    for (ssize_t n; (n = ::read(err_, buf, sizeof buf)) > 0;)
      err_buf_.append(buf, static_cast<std::size_t>(n));
    return err_buf_;
  }

 private:
  static std::optional<std::string> next_line(int fd, std::string& buf,
                                              std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char tmp[4096];
      const ssize_t n = ::read(fd, tmp, sizeof tmp);
      if (n <= 0) return std::nullopt;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_buf_, err_buf_;
  bool exited_ = false;
};

// Starts a headless host on a free loopback port; returns the port.
std::uint16_t start_host(Proc& host) {
  auto first = host.line();
  EXPECT_TRUE(first) << "no startup line";
  if (!first) return 0;
  std::smatch m;
  EXPECT_TRUE(std::regex_match(*first, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))")))
      << "first line was: " << *first;
  return m.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(m[1]));
}

}  // namespace

TEST(Cli, HostPrintsTheRealPortFirstThenTimestampedLog) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = start_host(host);
  ASSERT_GT(port, 0);
  RawClient c(port);
  c.join("alice");
  auto l = host.line_with("joined as alice");
  ASSERT_TRUE(l);
  EXPECT_TRUE(std::regex_search(*l, std::regex(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] )"))) << *l;
}

TEST(Cli, SigtermSendsShutdownToEveryConnectionAndExitsZero) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = start_host(host);
  RawClient joined(port), idle(port);
  joined.join("alice");
  ASSERT_TRUE(host.line_with("connection from", 5s));
  host.signal(SIGTERM);
  for (RawClient* c : {&joined, &idle}) {
    auto s = c->recv_type("shutdown");
    ASSERT_TRUE(s);
    EXPECT_FALSE((*s)["reason"].get<std::string>().empty());
    EXPECT_TRUE(c->wait_closed());
  }
  EXPECT_EQ(host.wait(), 0);
}

TEST(Cli, SigintAlsoExitsZero) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  start_host(host);
  host.signal(SIGINT);
  EXPECT_EQ(host.wait(), 0) << host.stderr_text();
}

TEST(Cli, PortInUseIsAClearErrorAndNonZeroExit) {
  TestServer busy;
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", std::to_string(busy.port())});
  const int code = host.wait();
  EXPECT_NE(code, 0);
  EXPECT_NE(host.stderr_text().find("already in use"), std::string::npos) << host.stderr_text();
}

TEST(Cli, BadBindAddressAndBadPortAreClearErrors) {
  Proc bad_addr({"host", "--headless", "--bind", "300.1.2.3", "--port", "0"});
  EXPECT_NE(bad_addr.wait(), 0);
  EXPECT_NE(bad_addr.stderr_text().find("300.1.2.3"), std::string::npos) << bad_addr.stderr_text();
  Proc bad_port({"host", "--headless", "--port", "99999"});
  EXPECT_NE(bad_port.wait(), 0);
  EXPECT_NE(bad_port.stderr_text().find("65535"), std::string::npos) << bad_port.stderr_text();
}

TEST(Cli, TwoHeadlessClientsAndNcStyleRawClientChat) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--name", "lab"});
  const std::uint16_t port = start_host(host);
  const std::string target = "127.0.0.1:" + std::to_string(port);
  Proc bob({"join", target, "--nick", "bob", "--headless"});
  auto welcome = bob.line_with("you joined");
  ASSERT_TRUE(welcome);
  EXPECT_NE(welcome->find("lab"), std::string::npos) << *welcome;

  Proc carol({"join", target, "--nick", "carol", "--headless"});
  ASSERT_TRUE(carol.line_with("you joined"));
  auto joined = bob.line_with("* carol joined");
  ASSERT_TRUE(joined);
  EXPECT_TRUE(std::regex_match(*joined, std::regex(R"(\[\d\d:\d\d:\d\d\] \* carol joined)")))
      << *joined;

  RawClient nc(port);
  nc.join("nc");
  bob.write("hi from bob\n");
  auto seen = carol.line_with("<bob> hi from bob");
  ASSERT_TRUE(seen);
  EXPECT_TRUE(std::regex_match(*seen, std::regex(R"(\[\d\d:\d\d:\d\d\] <bob> hi from bob)")))
      << *seen;
  EXPECT_EQ((*nc.recv_type("msg"))["text"], "hi from bob");

  nc.send({{"type", "say"}, {"text", "hello from nc"}});
  ASSERT_TRUE(bob.line_with("<nc> hello from nc"));

  carol.close_stdin();  // EOF: bye, exit 0
  EXPECT_EQ(carol.wait(), 0);
  auto left = bob.line_with("* carol left (quit)");
  EXPECT_TRUE(left);
}

TEST(Cli, HeadlessJoinExitsNonZeroWhenTheServerShutsDown) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = start_host(host);
  Proc bob({"join", "127.0.0.1:" + std::to_string(port), "--nick", "bob", "--headless"});
  ASSERT_TRUE(bob.line_with("you joined"));
  host.signal(SIGTERM);
  const int code = bob.wait();
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1);
  EXPECT_NE(bob.stderr_text().find("shut down"), std::string::npos) << bob.stderr_text();
  EXPECT_EQ(host.wait(), 0);
}

TEST(Cli, HeadlessJoinToAClosedPortSaysSoAndExitsNonZero) {
  std::uint16_t port;
  {
    TestServer tmp;
    port = tmp.port();
  }
  Proc bob({"join", "127.0.0.1:" + std::to_string(port), "--nick", "bob", "--headless"});
  const int code = bob.wait();
  EXPECT_NE(code, 0);
  EXPECT_NE(bob.stderr_text().find("cannot connect"), std::string::npos) << bob.stderr_text();
}

TEST(Cli, HeadlessJoinExitsNonZeroWhenTheConnectionIsLost) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = start_host(host);
  Proc bob({"join", "127.0.0.1:" + std::to_string(port), "--nick", "bob", "--headless"});
  ASSERT_TRUE(bob.line_with("you joined"));
  host.signal(SIGKILL);  // the server vanishes: no shutdown notice
  const int code = bob.wait();
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1);
  EXPECT_NE(bob.stderr_text().find("lost"), std::string::npos) << bob.stderr_text();
}

TEST(Cli, NickTakenAndBadNickAreReported) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = start_host(host);
  RawClient a(port);
  a.join("dup");
  Proc dup({"join", "127.0.0.1:" + std::to_string(port), "--nick", "DUP", "--headless"});
  EXPECT_NE(dup.wait(), 0);
  EXPECT_NE(dup.stderr_text().find("nick_taken"), std::string::npos) << dup.stderr_text();
  Proc bad({"join", "127.0.0.1:" + std::to_string(port), "--nick", "two words", "--headless"});
  EXPECT_NE(bad.wait(), 0);
  EXPECT_NE(bad.stderr_text().find("spaces"), std::string::npos) << bad.stderr_text();
}

// Ctrl-C (or SIGTERM) in a headless join leaves as the end of input does: the room hears
// a bye, not a dropped connection, and the exit status is 0. It used to kill the client.
TEST(Cli, CtrlCInAHeadlessJoinSaysByeAndExitsZero) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = start_host(host);
  RawClient watcher(port);
  watcher.join("watcher");
  for (int sig : {SIGINT, SIGTERM}) {
    Proc member({"join", "127.0.0.1:" + std::to_string(port), "--nick", "pat", "--headless"});
    ASSERT_TRUE(member.line_with("you joined", 10s)) << member.stderr_text();
    member.signal(sig);
    EXPECT_EQ(member.wait(), 0) << "signal " << sig << ": " << member.stderr_text();
    const auto leave = watcher.recv_type("leave");
    ASSERT_TRUE(leave);
    EXPECT_EQ((*leave)["nick"], "pat");
    EXPECT_EQ((*leave)["reason"], "quit") << "signal " << sig;
  }
}

TEST(Cli, PipedStdinIsDeliveredBeforeByeAndMultilineIsIndented) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0"});
  const std::uint16_t port = start_host(host);
  RawClient watcher(port);
  watcher.join("watcher");
  Proc bot({"join", "127.0.0.1:" + std::to_string(port), "--nick", "bot", "--headless"});
  bot.write("first\nsecond\n");
  bot.close_stdin();
  EXPECT_EQ((*watcher.recv_type("msg"))["text"], "first");
  EXPECT_EQ((*watcher.recv_type("msg"))["text"], "second");
  EXPECT_EQ((*watcher.recv_type("leave"))["reason"], "quit");
  EXPECT_EQ(bot.wait(), 0);
}

TEST(Cli, WindowWithoutADisplaySuggestsHeadless) {
#ifndef LANCHAT_HAVE_UI
  GTEST_SKIP() << "built without the window";
#endif
  const char* saved = std::getenv("DISPLAY");
  const std::string keep = saved ? saved : "";
  unsetenv("DISPLAY");
  unsetenv("WAYLAND_DISPLAY");
  Proc win({});
  if (saved) setenv("DISPLAY", keep.c_str(), 1);
  const int code = win.wait();
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1);
  const std::string err = win.stderr_text();
  EXPECT_NE(err.find("DISPLAY"), std::string::npos) << err;
  EXPECT_NE(err.find("--headless"), std::string::npos) << err;
}

// `lanchat host --headless` probed as a hostile or careless LAN client would (issue 9):
// no forged log line, guessing closed after 5 tries, look-alike nicks refused, idle
// connections closed at the hello deadline.
TEST(Cli, HeadlessHostProbedAsAHostileClientWouldGivesNothingAway) {
  // Plain JSON on purpose: the probe is about what the lines can do (issue 12 makes a room
  // with a password TLS-only unless the host allows this).
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--password", "1234",
             "--allow-plaintext-password", "--hello-timeout", "2"});
  const std::uint16_t port = start_host(host);
  ASSERT_GT(port, 0);
  RawClient idle(port);

  RawClient forger(port);
  forger.send_raw(R"({"type":"x\n[12:00:00] #99 joined as admin"})"
                  "\n");
  EXPECT_EQ((*forger.recv())["code"], "unknown_type");

  RawClient alice(port);
  alice.send({{"type", "hello"}, {"nick", "alice"}, {"proto", 1}, {"password", "1234"}});
  ASSERT_EQ((*alice.recv())["type"], "welcome");
  RawClient lookalike(port);
  for (const char* nick : {"\u0430lice", "\u0430dmin"}) {
    lookalike.send({{"type", "hello"}, {"nick", nick}, {"proto", 1}, {"password", "1234"}});
    const auto e = lookalike.recv();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["code"], std::string(nick) == "\u0430lice" ? "nick_taken" : "bad_nick");
  }

  RawClient guesser(port);
  int tries = 0;
  for (int pin = 0; pin < 2000; ++pin) {
    guesser.send(
        {{"type", "hello"}, {"nick", "g"}, {"proto", 1}, {"password", std::to_string(pin)}});
    auto e = guesser.recv(2s);
    if (!e) break;
    ++tries;
  }
  EXPECT_EQ(tries, 5) << "the fifth wrong password closes the connection";
  EXPECT_TRUE(guesser.wait_closed());

  auto timeout = idle.recv(5s);
  ASSERT_TRUE(timeout);
  EXPECT_EQ((*timeout)["code"], "hello_timeout");
  EXPECT_TRUE(idle.wait_closed());

  host.signal(SIGTERM);
  ASSERT_EQ(host.wait(), 0);
  std::vector<std::string> lines;
  while (auto l = host.line(200ms)) lines.push_back(*l);
  bool locked = false;
  for (const auto& l : lines) {
    EXPECT_FALSE(std::regex_search(l, std::regex(R"(^\[12:00:00\])"))) << "forged: " << l;
    EXPECT_EQ(l.find("1234"), std::string::npos) << "the password is never logged: " << l;
    locked |= l.find("locked out for 60 s after 5 wrong passwords") != std::string::npos;
  }
  EXPECT_TRUE(locked);
}

// ---- a room that remembers (issue 10), with the real binary and its real files ----------

namespace {

// A data folder of this test's own (tests of one binary may also run in one process).
std::filesystem::path fresh_data_dir(const std::string& name) {
  const auto dir = test_home().dir / name;
  std::filesystem::remove_all(dir);
  return dir;
}
std::filesystem::path store_in(const std::filesystem::path& data_dir) {
  return data_dir / "rooms" / "lanchat.sqlite3";
}

std::set<int> stored_numbers(const std::filesystem::path& file, const std::string& prefix) {
  std::set<int> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) return out;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT text FROM messages", -1, &s, nullptr);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const std::string t = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    if (t.rfind(prefix, 0) == 0) out.insert(std::stoi(t.substr(prefix.size())));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST(Cli, AKilledHostLosesAtMostTheLast250MillisecondsOfMessages) {
  const auto data = fresh_data_dir("kill9");
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--max-msg-rate", "0",
             "--max-line-rate", "0", "--data-dir", data.string()});
  const std::uint16_t port = start_host(host);
  ASSERT_GT(port, 0);
  RawClient a(port);
  a.join("alice");
  // Say k0, k1, ... every 2 ms; note when each echo (the broadcast) came back.
  std::vector<std::pair<int, std::chrono::steady_clock::time_point>> echoed;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      auto m = a.recv(200ms);
      if (m && (*m)["type"] == "msg") {
        echoed.emplace_back(std::stoi((*m)["text"].get<std::string>().substr(1)),
                            std::chrono::steady_clock::now());
      }
    }
  });
  const auto start = std::chrono::steady_clock::now();
  int sent = 0;
  while (std::chrono::steady_clock::now() - start < 1500ms) {
    a.send({{"type", "say"}, {"text", "k" + std::to_string(sent++)}});
    std::this_thread::sleep_for(2ms);
  }
  const auto killed_at = std::chrono::steady_clock::now();
  host.signal(SIGKILL);
  EXPECT_EQ(host.wait(), 128 + SIGKILL);
  stop = true;
  reader.join();
  const auto stored = stored_numbers(store_in(data), "k");
  int must = 0, lost = 0;
  for (const auto& [k, at] : echoed) {
    if (at <= killed_at - 250ms) {
      ++must;
      if (!stored.contains(k)) ++lost;
    }
  }
  EXPECT_GT(must, 300);
  EXPECT_EQ(lost, 0) << "every message broadcast more than 250 ms before kill -9 is stored";
  std::cout << "kill -9: " << echoed.size() << " broadcast, " << stored.size()
            << " stored, the last " << echoed.size() - stored.size() << " lost\n";
}

// Ctrl-C in the first milliseconds, while the host's threads are still starting, stops it
// like any other. With an asynchronous handler, under ThreadSanitizer a host now and then
// lost that first signal and served on (1 in 40 when three started at once, from a script;
// this test caught it in 1 run of 8). The TSan stage runs it too.
TEST(Cli, ACtrlCWhileTheHostIsStillStartingIsNeverLost) {
  int started = 0;
  for (int delay_ms : {0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 5, 5, 10, 20}) {
    std::vector<std::unique_ptr<Proc>> hosts;
    for (int i = 0; i < 3; ++i) {
      // A new data folder each time: a first start (new store, new identity) lost it most.
      const auto data = fresh_data_dir("ctrl-c-" + std::to_string(++started));
      hosts.push_back(std::make_unique<Proc>(
          std::vector<std::string>{"host", "--headless", "--bind", "127.0.0.1", "--port", "0",
                                   "--data-dir", data.string()}));
    }
    for (auto& host : hosts) {
      start_host(*host);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      host->signal(SIGINT);
    }
    for (auto& host : hosts) {
      const int code = host->wait();
      ASSERT_EQ(code, 0) << "SIGINT " << delay_ms << " ms after the first line; "
                         << host->stderr_text();
    }
  }
}

TEST(Cli, ACleanStopStoresEveryMessageThatWasBroadcast) {
  for (int sig : {SIGTERM, SIGINT}) {
    const auto data = fresh_data_dir("clean-stop");
    Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--max-msg-rate", "0",
               "--max-line-rate", "0", "--data-dir", data.string()});
    const std::uint16_t port = start_host(host);
    RawClient a(port);
    a.join("alice");
    std::string burst;
    for (int i = 0; i < 700; ++i)
      burst += json{{"type", "say"}, {"text", "c" + std::to_string(i)}}.dump() + "\n";
    a.send_raw(burst);
    for (int i = 0; i < 700; ++i) ASSERT_TRUE(a.recv_type("msg")) << i;
    host.signal(sig);  // right after the last broadcast: most of it is not written yet
    ASSERT_EQ(host.wait(10s), 0);
    EXPECT_EQ(stored_numbers(store_in(data), "c").size(), 700u) << "signal " << sig;
  }
}

TEST(Cli, AHistoryOnlyInMemoryIsNeverWrittenAnywhere) {
  const auto data = fresh_data_dir("memory");
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--no-store", "--data-dir",
             data.string()});
  const std::uint16_t port = start_host(host);
  ASSERT_TRUE(host.line_with("history: kept in memory only"));
  RawClient a(port);
  a.join("alice");
  a.send({{"type", "say"}, {"text", "ephemeral"}});
  ASSERT_TRUE(a.recv_type("msg"));
  host.signal(SIGTERM);
  ASSERT_EQ(host.wait(), 0);
  // Only the host identity is kept (clients pin it, so it must outlive the run); no history.
  EXPECT_FALSE(std::filesystem::exists(data / "rooms"));
  EXPECT_TRUE(std::filesystem::exists(data / "identity" / "cert.pem"));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    ++entries;
  }
  EXPECT_EQ(entries, 3u) << "identity/, key.pem and cert.pem, nothing else";
}

TEST(Cli, AStoreThatCannotBeReadStopsTheStartWithTheFileAndTheFixAndIsLeftAlone) {
  const auto data = fresh_data_dir("unreadable");
  const auto file = store_in(data);
  std::filesystem::create_directories(file.parent_path());
  const std::string junk = "this is not a database, but somebody's notes\n";
  std::ofstream(file) << junk;
  Proc host(
      {"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--data-dir", data.string()});
  EXPECT_EQ(host.wait(), 1);
  const std::string err = host.stderr_text();
  EXPECT_NE(err.find(file.string()), std::string::npos) << err;
  EXPECT_NE(err.find("left as it is"), std::string::npos) << err;
  EXPECT_NE(err.find("--data-dir"), std::string::npos) << err;
  std::ifstream in(file);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()),
            junk);
  // --no-store still lets the room run.
  Proc memory({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--no-store",
               "--data-dir", data.string()});
  EXPECT_GT(start_host(memory), 0);
}

// A second host of a room that is in use says at once that it waits for the first, and
// Ctrl-C ends that wait (a host still starting cannot read its signals yet).
TEST(Cli, ASecondHostOfARoomSaysItWaitsAndCtrlCEndsTheWait) {
  const auto data = fresh_data_dir("held");
  Proc first(
      {"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--data-dir", data.string()});
  ASSERT_GT(start_host(first), 0);
  Proc second(
      {"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--data-dir", data.string()});
  const std::string waiting = "waiting for another lanchat host (process " +
                              std::to_string(first.pid()) + ") to let go of this room's history";
  ASSERT_TRUE(eventually([&] { return second.stderr_text().find(waiting) != std::string::npos; }))
      << second.stderr_text();
  second.signal(SIGINT);
  EXPECT_EQ(second.wait(), 0) << second.stderr_text();
  EXPECT_NE(second.stderr_text().find("stopped before the server started"), std::string::npos)
      << second.stderr_text();
  EXPECT_FALSE(second.line(100ms)) << "no listening line: it never served";

  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(), 0) << first.stderr_text();
}

TEST(Cli, AFolderThatCannotBeWrittenIsAClearErrorAtStart) {
  const auto dir = test_home().dir / "readonly";
  std::filesystem::create_directories(dir);
  // Root writes anywhere chmod forbids, so as root the folder is made read-only for real:
  // a read-only bind mount in a mount namespace of the child's own.
  std::string prefix;
  if (::geteuid() == 0) {
    prefix = "unshare -m sh -c \"mount --bind -o ro " + dir.string() + " " + dir.string() +
             " && exec {cmd}\"";
  } else {
    std::filesystem::permissions(
        dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  }
  Proc host(
      {"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--data-dir", dir.string()},
      prefix);
  EXPECT_EQ(host.wait(), 1);
  const std::string err = host.stderr_text();
  EXPECT_NE(err.find(dir.string()), std::string::npos) << err;
  EXPECT_NE(err.find("--data-dir"), std::string::npos) << err;
  EXPECT_NE(err.find("--no-store"), std::string::npos) << err;
}

TEST(Cli, ADiskThatFillsUpMidRunIsLoggedOnceAndChatGoesOn) {
  // ulimit -f caps the files the host may write at 1 MiB: the store's writes start failing
  // part way through, as on a full disk.
  const auto data = fresh_data_dir("full");
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--max-msg-rate", "0",
             "--max-line-rate", "0", "--data-dir", data.string()},
            "ulimit -f 1024;");
  const std::uint16_t port = start_host(host);
  ASSERT_GT(port, 0);
  RawClient a(port), b(port);
  a.join("alice");
  b.join("bob");
  a.recv_type("join");
  const std::string text(3000, 'f');
  for (int round = 0; round < 10; ++round) {
    std::string burst;
    for (int i = 0; i < 100; ++i) burst += json{{"type", "say"}, {"text", text}}.dump() + "\n";
    a.send_raw(burst);
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(b.recv_type("msg")) << "chat goes on, round " << round;
    for (int i = 0; i < 100; ++i) a.recv_type("msg");
    std::this_thread::sleep_for(150ms);
  }
  host.signal(SIGTERM);
  ASSERT_EQ(host.wait(10s), 0);
  std::vector<std::string> lines;
  while (auto l = host.line(200ms)) lines.push_back(*l);
  int failing = 0;
  bool unsaved = false;
  for (const auto& l : lines) {
    failing += l.find("cannot write the room's history") != std::string::npos;
    unsaved |= l.find("could not be written to") != std::string::npos;
  }
  EXPECT_EQ(failing, 1) << "logged once, not once per batch";
  EXPECT_TRUE(unsaved) << "and what was lost is said at the stop";
}

TEST(Cli, HeadlessJoinUnderstandsMeMsgAndNickAndShowsThemReadably) {
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--no-store"});
  const std::uint16_t port = start_host(host);
  RawClient carol(port);
  carol.join("carol");
  Proc bob({"join", "127.0.0.1:" + std::to_string(port), "--nick", "bob", "--headless"});
  ASSERT_TRUE(bob.line_with("you joined"));
  bob.write("/me waves\n/msg carol just between us\n/nick robert\n");
  const auto action = carol.recv_type("msg");
  ASSERT_TRUE(action);
  EXPECT_EQ((*action)["action"], true);
  const auto direct = carol.recv_type("msg");
  ASSERT_TRUE(direct);
  EXPECT_EQ((*direct)["to"], "carol");
  ASSERT_TRUE(carol.recv_type("nick"));
  EXPECT_TRUE(bob.line_with("* bob waves"));
  EXPECT_TRUE(bob.line_with("<bob → carol> just between us"));
  EXPECT_TRUE(bob.line_with("* bob is now known as robert"));
  carol.send({{"type", "say"}, {"text", "ok"}, {"to", "robert"}, {"action", true}});
  EXPECT_TRUE(bob.line_with("* carol → robert ok"));
  bob.close_stdin();
  EXPECT_EQ(bob.wait(), 0);
}

// Issue 12 from the command line: the host names its identity; `lanchat join` trusts a host
// on first use (as ssh does), then refuses another identity, or a host that stopped
// offering encryption, with both fingerprints and the way out; --fingerprint and
// --plaintext are the explicit choices.
TEST(Cli, HeadlessJoinTrustsOnFirstUseAndRefusesAnotherIdentity) {
  const auto fingerprint_in = [](Proc& host) {
    const auto line = host.line_with("fingerprint SHA-256");
    EXPECT_TRUE(line);
    std::smatch m;
    const std::string text = line.value_or("");
    EXPECT_TRUE(std::regex_search(text, m, std::regex("SHA-256 ((?:[0-9A-F]{4} ?){16})")));
    return m.empty() ? std::string() : std::regex_replace(m[1].str(), std::regex(" "), "");
  };
  const auto grouped = [](const std::string& hex) {
    return lanchat::net::grouped_fingerprint(hex);
  };
  const auto join = [](std::uint16_t port, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"join", "127.0.0.1:" + std::to_string(port), "--nick", "pat",
                                  "--headless"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Proc>(args);
    p->write("hello\n");
    p->close_stdin();
    return p;
  };
  const auto dir_a = fresh_data_dir("identity-a"), dir_b = fresh_data_dir("identity-b");
  std::uint16_t port = 0;
  std::string first;
  {
    Proc host(
        {"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--data-dir", dir_a.string()});
    port = start_host(host);
    first = fingerprint_in(host);
    ASSERT_EQ(first.size(), 64u);
    auto once = join(port, {});
    ASSERT_EQ(once->wait(10s), 0);
    const std::string said = once->stderr_text();
    EXPECT_NE(said.find("is new here"), std::string::npos) << said;
    EXPECT_NE(said.find(grouped(first)), std::string::npos) << said;
    std::ifstream kh(test_home().dir / "config" / "lanchat" / "known_hosts");
    const std::string file((std::istreambuf_iterator<char>(kh)), std::istreambuf_iterator<char>());
    EXPECT_NE(file.find("127.0.0.1:" + std::to_string(port) + " SHA256:" + first),
              std::string::npos)
        << file;
    auto twice = join(port, {});
    ASSERT_EQ(twice->wait(10s), 0);
    EXPECT_EQ(twice->stderr_text().find("is new here"), std::string::npos);
    host.signal(SIGTERM);
    ASSERT_EQ(host.wait(10s), 0);
  }
  {
    // Someone else on the same address and port, with another identity.
    Proc other({"host", "--headless", "--bind", "127.0.0.1", "--port", std::to_string(port),
                "--data-dir", dir_b.string()});
    ASSERT_EQ(start_host(other), port);
    const std::string second = fingerprint_in(other);
    ASSERT_NE(second, first);
    auto refused = join(port, {});
    EXPECT_EQ(refused->wait(10s), 6);
    const std::string err = refused->stderr_text();
    EXPECT_NE(err.find(grouped(first)), std::string::npos) << err;
    EXPECT_NE(err.find(grouped(second)), std::string::npos) << err;
    EXPECT_NE(err.find("--fingerprint " + second), std::string::npos) << err;
    EXPECT_FALSE(other.line_with("joined as pat", 500ms)) << "nothing was sent to it";
    auto chosen = join(port, {"--fingerprint", grouped(second)});
    EXPECT_EQ(chosen->wait(10s), 0) << chosen->stderr_text();
    other.signal(SIGTERM);
    ASSERT_EQ(other.wait(10s), 0);
  }
  Proc plain({"host", "--headless", "--bind", "127.0.0.1", "--port", std::to_string(port), "--tls",
              "off", "--no-store"});
  ASSERT_EQ(start_host(plain), port);
  auto downgraded = join(port, {});
  EXPECT_EQ(downgraded->wait(10s), 6);
  EXPECT_NE(downgraded->stderr_text().find("no longer offers encryption"), std::string::npos)
      << downgraded->stderr_text();
  auto on_purpose = join(port, {"--plaintext"});
  EXPECT_EQ(on_purpose->wait(10s), 0) << on_purpose->stderr_text();
}

TEST(Cli, APasswordIsNeverSentWhereAnyoneCanReadIt) {
  // --tls off with a password needs the host to say it means it.
  Proc refused({"host", "--headless", "--port", "0", "--tls", "off", "--password", "pw"});
  EXPECT_EQ(refused.wait(), 2);
  EXPECT_NE(refused.stderr_text().find("--allow-plaintext-password"), std::string::npos);
  // With a password the room is TLS only, unless the host allows plain.
  Proc host({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--password", "pw"});
  const std::uint16_t port = start_host(host);
  ASSERT_TRUE(host.line_with("encryption required"));
  RawClient nc(port);
  nc.send({{"type", "hello"}, {"nick", "nc"}, {"proto", 1}, {"password", "pw"}});
  EXPECT_EQ((*nc.recv())["code"], "tls_required");
  Proc member({"join", "127.0.0.1:" + std::to_string(port), "--nick", "pat", "--password", "pw",
               "--headless"});
  ASSERT_TRUE(member.line_with("you joined", 10s)) << member.stderr_text();
  member.close_stdin();
  EXPECT_EQ(member.wait(10s), 0);
  // Our client does not send it to a host that offers no encryption.
  Proc open({"host", "--headless", "--bind", "127.0.0.1", "--port", "0", "--tls", "off",
             "--password", "pw", "--allow-plaintext-password", "--name", "open"});
  const std::uint16_t open_port = start_host(open);
  Proc careful({"join", "127.0.0.1:" + std::to_string(open_port), "--nick", "pat", "--password",
                "pw", "--headless"});
  EXPECT_EQ(careful.wait(10s), 3);
  EXPECT_NE(careful.stderr_text().find("password was not sent"), std::string::npos)
      << careful.stderr_text();
}

// `lanchat list` on a machine with no LAN: nothing to list, exit 0, and the reason and the
// way on on stderr. Run in a network namespace of its own with only loopback, so that the
// test's queries cannot reach the machine's real network.
TEST(Cli, ListWithNoNetworkSaysWhyAndExitsZero) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace of its own";
  Proc list({"list", "--timeout", "0.3"}, "unshare -n sh -c \"exec {cmd}\"");
  EXPECT_EQ(list.wait(), 0);
  EXPECT_EQ(list.line(100ms), std::nullopt);  // no room, no line
  const std::string err = list.stderr_text();
  EXPECT_NE(err.find("no rooms answered within 0.3 s"), std::string::npos) << err;
  EXPECT_NE(err.find("no network interface is up besides loopback"), std::string::npos) << err;
  EXPECT_NE(err.find("--no-announce"), std::string::npos) << err;
  EXPECT_NE(err.find("lanchat join HOST:PORT"), std::string::npos) << err;

  Proc json({"list", "--json", "--timeout", "0.3"}, "unshare -n sh -c \"exec {cmd}\"");
  EXPECT_EQ(json.wait(), 0);
  EXPECT_EQ(json.line(100ms), std::nullopt);
}
