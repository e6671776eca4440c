// Encryption (issue 12): the host identity, known hosts, TLS and plain JSON on one port,
// pinning, the password never in clear, and handshakes that try to hurt the server.
// Real sockets on 127.0.0.1; lanchat's own client where the test is about it, raw bytes
// where it is about what the server does with them. (A client with no lanchat code in it,
// Python's ssl, is in tls/python_ssl_test.py.)
#include "net/tls.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "net/known_hosts.hpp"
#include "tests/support.hpp"

using namespace lanchat;
using namespace lanchat::test;
using net::TlsMode;

namespace {

// Forwards one connection from 127.0.0.1:port() to the target and keeps every byte the
// client sent, as someone listening on the network would.
class RecordingProxy {
 public:
  explicit RecordingProxy(std::uint16_t target) : target_(target) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len);
    ::listen(listen_fd_, 4);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RecordingProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  std::string sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  void run() {
    std::vector<std::pair<int, int>> pairs;  // client, server
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (auto [c, s] : pairs) {
        fds.push_back({c, POLLIN, 0});
        fds.push_back({s, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int c = ::accept(listen_fd_, nullptr, nullptr);
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(target_);
        if (c >= 0 && ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          pairs.emplace_back(c, s);
        } else {
          if (c >= 0) ::close(c);
          ::close(s);
        }
        continue;
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const std::size_t p = (i - 1) / 2;
        const bool from_client = (i - 1) % 2 == 0;
        auto [c, s] = pairs[p];
        char buf[16384];
        const ssize_t n = ::read(from_client ? c : s, buf, sizeof buf);
        if (n <= 0) {
          ::close(c);
          ::close(s);
          pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(p));
          break;
        }
        if (from_client) {
          std::lock_guard lock(mutex_);
          sent_.append(buf, static_cast<std::size_t>(n));
        }
        (void)::send(from_client ? s : c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
      }
    }
    for (auto [c, s] : pairs) {
      ::close(c);
      ::close(s);
    }
  }

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::string sent_;
};

net::ClientConfig encrypted(std::uint16_t port, const std::string& nick,
                            const std::string& pin = {}) {
  net::ClientConfig c = config_for(port, nick);
  c.tls = net::TlsContext::client();
  c.fingerprint = pin;
  return c;
}

std::string fingerprint_of(TestServer& srv) {
  for (const auto& e : srv.seen()) {
    if (auto* l = std::get_if<net::ServerListening>(&e.data)) return l->fingerprint;
  }
  srv.log_lines();
  for (const auto& e : srv.seen()) {
    if (auto* l = std::get_if<net::ServerListening>(&e.data)) return l->fingerprint;
  }
  return {};
}

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

}  // namespace

TEST(Tls, TheHostIdentityIsMadeOncePrivateAndReused) {
  TempDir dir;
  const net::Identity first = net::load_or_create_identity(dir.path);
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.fingerprint.size(), 64u);
  EXPECT_EQ(first.dir, dir.path / "identity");
  EXPECT_EQ(mode_of(first.dir), 0700u);
  EXPECT_EQ(mode_of(first.dir / "key.pem"), 0600u);
  EXPECT_EQ(mode_of(first.dir / "cert.pem"), 0600u);
  const net::Identity again = net::load_or_create_identity(dir.path);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.fingerprint, first.fingerprint) << "every room of this host shows one identity";
  // Nothing half-made is left beside it.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(Tls, AKeyOthersCanReadOrABrokenIdentityIsRefusedWithTheFix) {
  TempDir dir;
  const net::Identity id = net::load_or_create_identity(dir.path);
  std::filesystem::permissions(id.dir / "key.pem", std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  try {
    net::load_or_create_identity(dir.path);
    FAIL() << "a key others can read was used";
  } catch (const net::TlsError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find((id.dir / "key.pem").string()), std::string::npos) << what;
    EXPECT_NE(what.find("chmod 600"), std::string::npos) << what;
  }
  std::filesystem::permissions(id.dir / "key.pem", std::filesystem::perms::group_read,
                               std::filesystem::perm_options::remove);
  std::ofstream(id.dir / "cert.pem", std::ios::trunc) << "not a certificate\n";
  EXPECT_THROW(net::load_or_create_identity(dir.path), net::TlsError);
  // It is never replaced behind the person's back: clients trust the old one.
  std::ifstream in(id.dir / "cert.pem");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "not a certificate\n");
}

TEST(Tls, FingerprintsAreReadAsPeoplePasteThem) {
  const std::string hex(64, 'A');
  EXPECT_EQ(net::parse_fingerprint(hex), hex);
  EXPECT_EQ(net::parse_fingerprint("SHA256:" + std::string(64, 'a')), hex);
  EXPECT_EQ(net::parse_fingerprint(net::grouped_fingerprint(hex)), hex);
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += std::string(colons.empty() ? "" : ":") + "aa";
  EXPECT_EQ(net::parse_fingerprint(colons), hex);
  EXPECT_FALSE(net::parse_fingerprint(std::string(63, 'A')));
  EXPECT_FALSE(net::parse_fingerprint(std::string(64, 'G')));
  EXPECT_FALSE(net::parse_fingerprint(""));
  EXPECT_EQ(net::grouped_fingerprint("0123456789ABCDEF"), "0123 4567 89AB CDEF");
  EXPECT_EQ(net::short_fingerprint(hex), "AAAA AAAA AAAA AAAA");
}

TEST(Tls, KnownHostsRemembersForgetsAndRefusesNonsense) {
  TempDir dir;
  net::KnownHosts known(dir.path / "config" / "known_hosts");
  const std::string a(64, 'A'), b(64, 'B');
  EXPECT_EQ(net::KnownHosts::key("Lab-PC", 5555), "lab-pc:5555");
  EXPECT_EQ(net::KnownHosts::key("::1", 5555), "[::1]:5555");
  EXPECT_FALSE(known.find("lab-pc:5555"));  // no file yet: nobody known
  known.remember("lab-pc:5555", a);
  known.remember("10.0.0.2:5555", b);
  EXPECT_EQ(known.find("lab-pc:5555"), a);
  EXPECT_EQ(known.find("10.0.0.2:5555"), b);
  EXPECT_EQ(mode_of(known.file()), 0600u);
  known.remember("lab-pc:5555", b);  // the person trusted the new identity
  EXPECT_EQ(known.find("lab-pc:5555"), b);
  known.forget("lab-pc:5555");
  EXPECT_FALSE(known.find("lab-pc:5555"));
  EXPECT_EQ(known.find("10.0.0.2:5555"), b);
  std::ofstream(known.file(), std::ios::app) << "lab-pc:5555 not-a-fingerprint\n";
  EXPECT_THROW(known.find("lab-pc:5555"), net::KnownHostsError)
      << "a damaged file is not a reason to trust anyone anew";
}

TEST(Tls, EncryptedAndPlainMembersShareOneRoomOnOnePort) {
  TempDir dir;
  TestServer srv(with_tls({}, TlsMode::on, dir.path));
  const std::string fingerprint = fingerprint_of(srv);
  ASSERT_EQ(fingerprint.size(), 64u);
  ClientHarness alice(encrypted(srv.port(), "alice"));
  const auto secured = alice.wait_for<net::ClientSecured>();
  ASSERT_TRUE(secured);
  EXPECT_EQ(secured->fingerprint, fingerprint);
  EXPECT_TRUE(secured->first_contact);
  EXPECT_NE(secured->description.find("TLSv1.3"), std::string::npos) << secured->description;
  ASSERT_TRUE(alice.wait_for<net::ClientWelcome>());

  RawClient bob(srv.port());  // nc-style, plain JSON lines on the same port
  bob.join("bob");
  alice.say("over TLS");
  const auto m = bob.recv_type("msg");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["text"], "over TLS");
  EXPECT_EQ((*m)["from"], "alice");
  bob.send({{"type", "say"}, {"text", "in plain"}});
  std::optional<net::ClientChat> got;
  do {
    got = alice.wait_for<net::ClientChat>();
  } while (got && got->msg.text != "in plain");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->msg.from, "bob");
  // The host's panel knows which connection is which.
  srv.log_lines();
  std::size_t secured_peers = 0;
  for (const auto& e : srv.seen())
    secured_peers += std::holds_alternative<net::PeerSecured>(e.data);
  EXPECT_EQ(secured_peers, 1u);
}

TEST(Tls, RequiredRefusesPlainWithTlsRequired) {
  TempDir dir;
  TestServer srv(with_tls({}, TlsMode::required, dir.path));
  RawClient plain(srv.port());
  plain.send({{"type", "hello"}, {"nick", "bob"}, {"proto", 1}});
  const auto e = plain.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["type"], "error");
  EXPECT_EQ((*e)["code"], "tls_required");
  EXPECT_FALSE((*e)["message"].get<std::string>().empty());
  EXPECT_TRUE(plain.wait_closed());
  ClientHarness alice(encrypted(srv.port(), "alice"));
  EXPECT_TRUE(alice.wait_for<net::ClientWelcome>()) << "TLS is let in";
}

TEST(Tls, ARoomWithoutTlsSaysSoAndClientsFallBackUnlessPinned) {
  TestServer srv;  // encryption off
  RawClient hello_tls(srv.port());
  hello_tls.send_raw(std::string("\x16\x03\x01\x00\x05hello", 10));
  const auto e = hello_tls.recv();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["code"], "tls_unavailable");
  EXPECT_TRUE(hello_tls.wait_closed());

  ClientHarness first(encrypted(srv.port(), "alice"));
  ASSERT_TRUE(first.wait_for<net::ClientWelcome>()) << "never seen encrypted: plain is the room";
  ClientHarness pinned(encrypted(srv.port(), "bob", std::string(64, 'C')));
  const auto m = pinned.wait_for<net::ClientIdentityMismatch>();
  ASSERT_TRUE(m) << "a host once seen encrypted must not become plain quietly";
  EXPECT_TRUE(m->got.empty());
  EXPECT_NE(m->message.find("no longer offers encryption"), std::string::npos) << m->message;
  EXPECT_FALSE(pinned.wait_for<net::ClientWelcome>(300ms));
}

TEST(Tls, AnotherIdentityIsRefusedBeforeAnythingIsSent) {
  TempDir dir;
  TestServer srv(with_tls({}, TlsMode::on, dir.path));
  const std::string real = fingerprint_of(srv);
  const std::string pinned(64, 'D');
  ClientHarness c(encrypted(srv.port(), "alice", pinned));
  c.say("are you there?");
  const auto failed = c.wait_for<net::ClientSayFailed>();
  ASSERT_TRUE(failed) << "what was typed is reported as not sent";
  EXPECT_EQ(failed->text, "are you there?");
  const auto m = c.wait_for<net::ClientIdentityMismatch>();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->expected, pinned);
  EXPECT_EQ(m->got, real);
  EXPECT_NE(m->message.find(net::grouped_fingerprint(real)), std::string::npos) << m->message;
  EXPECT_NE(m->message.find(net::grouped_fingerprint(pinned)), std::string::npos) << m->message;
  EXPECT_FALSE(c.wait_for<net::ClientConnecting>(1500ms)) << "no reconnect on its own";
  EXPECT_EQ(srv.members(), 0u) << "no hello reached the impostor";
  // The matching pin joins.
  ClientHarness ok(encrypted(srv.port(), "bob", real));
  const auto s = ok.wait_for<net::ClientSecured>();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->first_contact);
  EXPECT_TRUE(ok.wait_for<net::ClientWelcome>());
}

TEST(Tls, ThePasswordNeverCrossesInClearText) {
  const std::string password = "correct-horse-battery-staple";
  TempDir dir;
  {
    net::ServerConfig cfg;
    cfg.password = password;
    TestServer srv(with_tls(cfg, TlsMode::required, dir.path));
    RecordingProxy wire(srv.port());
    net::ClientConfig c = encrypted(wire.port(), "alice");
    c.password = password;
    ClientHarness alice(c);
    ASSERT_TRUE(alice.wait_for<net::ClientWelcome>());
    alice.say("a secret plan");
    ASSERT_TRUE(alice.wait_for<net::ClientChat>());
    const std::string seen = wire.sent();
    EXPECT_GT(seen.size(), 200u);
    EXPECT_EQ(seen.find(password), std::string::npos) << "the password crossed in clear text";
    EXPECT_EQ(seen.find("a secret plan"), std::string::npos);
    EXPECT_EQ(seen.find("\"hello\""), std::string::npos);
  }
  // A host that offers no TLS (someone standing in for it, say) does not get the password.
  net::ServerConfig plain;
  plain.password = password;
  TestServer srv(plain);
  RecordingProxy wire(srv.port());
  net::ClientConfig c = encrypted(wire.port(), "alice");
  c.password = password;
  ClientHarness alice(c);
  const auto d = alice.wait_for<net::ClientDisconnected>();
  ASSERT_TRUE(d);
  EXPECT_NE(d->error.find("password was not sent"), std::string::npos) << d->error;
  EXPECT_EQ(d->retry_in.count(), 0);
  EXPECT_EQ(wire.sent().find(password), std::string::npos);
}

TEST(Tls, HostileHandshakesAreClosedAtTheDeadlineAndCountAsUnjoined) {
  TempDir dir;
  net::ServerConfig cfg;
  cfg.tls_handshake_timeout = 400ms;
  cfg.max_unjoined_per_ip = 3;
  TestServer srv(with_tls(cfg, TlsMode::on, dir.path));
  RawClient member(srv.port());
  member.join("alice");
  // Half a ClientHello, then nothing: a slow or half-open handshake.
  std::vector<std::unique_ptr<RawClient>> stalled;
  for (int i = 0; i < 2; ++i) {
    stalled.push_back(std::make_unique<RawClient>(srv.port()));
    stalled.back()->send_raw(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9));
  }
  // They count with every other connection that has not joined: a third unjoined one is
  // the last let in, a fourth is refused.
  RawClient third(srv.port());
  RawClient fourth(srv.port());
  const auto full = fourth.recv();
  ASSERT_TRUE(full);
  EXPECT_EQ((*full)["code"], "server_full");
  // The room goes on meanwhile.
  member.send({{"type", "say"}, {"text", "still here"}});
  EXPECT_TRUE(member.recv_type("msg"));
  for (auto& s : stalled) EXPECT_TRUE(s->wait_closed(3s)) << "closed at the handshake deadline";
  // Garbage that starts like TLS is refused at once and costs nothing else.
  RawClient garbage(srv.port());
  garbage.send_raw(std::string("\x16\x03\x03\x00\x10", 5) + std::string(16, '\xff'));
  EXPECT_TRUE(garbage.wait_closed(3s));
  member.send({{"type", "say"}, {"text", "and still"}});
  EXPECT_TRUE(member.recv_type("msg"));
  ASSERT_TRUE(eventually([&] { return srv.connections() == 2; }));  // member and third
  bool logged = false;
  for (const auto& line : srv.log_lines()) logged |= line.find("handshake") != std::string::npos;
  EXPECT_TRUE(logged) << "the host's log says what happened";
}
