// The window's side of the network without the window: NetControl (which owns the net
// thread, our server and our client) feeding the UI model, as the frame loop does, over
// real sockets on 127.0.0.1.
#include "app/net_control.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "tests/support.hpp"
#include "ui/ui_model.hpp"

using namespace lanchat;
using namespace lanchat::test;

namespace {

struct Seen {
  net::Event event;
  bool owned = false;
};

// What the frame loop does each frame: drain, drop what we do not own, apply the rest.
class Loop {
 public:
  explicit Loop(std::size_t queue_capacity = net::EventQueue::kDefaultCapacity)
      : events(queue_capacity), net(events) {
    net::ServerConfig defaults;
    defaults.close_grace = std::chrono::milliseconds(1500);
    net.set_server_defaults(defaults);
    net::StoreSettings memory;
    memory.no_store = true;  // these tests are about ownership, not about disks
    net.set_store_settings(memory);
  }
  ~Loop() { net.shutdown(); }

  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      net::Event e;
      if (!events.wait_pop(e, std::chrono::milliseconds(20))) continue;
      const bool owned = net.owns(e);
      if (owned) {
        net.on_event(e);
        ui.apply(e);
      }
      seen.push_back({e, owned});
    }
    return true;
  }
  // Hosted rooms keep their history in `dir`, as with --data-dir.
  net::StoreSettings keep_history_in(const std::filesystem::path& dir) {
    net::StoreSettings disk;
    disk.data_dir = dir;
    net.set_store_settings(disk);
    return disk;
  }
  // What the launcher's Host button does.
  void host(const ui::HostRequest& r) {
    ui.begin_host(r);
    net.host(r);
  }
  void leave() {
    net.leave();
    ui.back_to_launcher();
  }
  bool joined(std::chrono::milliseconds timeout = 5s) {
    return pump_until([&] { return ui.chat.connection() == ui::Connection::joined; }, timeout);
  }
  template <class T>
  int count(bool owned) const {
    int n = 0;
    for (const auto& s : seen) n += std::holds_alternative<T>(s.event.data) && s.owned == owned;
    return n;
  }

  net::EventQueue events;
  app::NetControl net;
  ui::UiModel ui;
  std::vector<Seen> seen;
};

ui::HostRequest host_request(std::uint16_t port, std::string nick) {
  return {"127.0.0.1", port, "Lab 2", std::move(nick), ""};
}

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace

// Leave, then Host again while the old server is still closing: the old server's
// ServerStopped must not reset the new one (Stop Server must still work).
TEST(NetControl, AnOldServersLastEventsDoNotTouchTheNewOne) {
  Loop loop;
  const auto first = host_request(free_port(), "host");
  loop.ui.begin_host(first);
  loop.net.host(first);
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.chat.connection() == ui::Connection::joined; }));
  RawClient guest(first.port);  // keeps the old server busy closing for a moment
  guest.join("guest");

  loop.net.leave();
  loop.ui.back_to_launcher();
  const auto second = host_request(free_port(), "host");
  loop.ui.begin_host(second);
  loop.net.host(second);
  ASSERT_TRUE(loop.pump_until([&] { return loop.count<net::ServerStopped>(false) == 1; }, 10s))
      << "the old server's stop arrives, unowned";
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.chat.connection() == ui::Connection::joined; }));
  EXPECT_EQ(loop.ui.server.state(), ui::ServerState::running);
  EXPECT_EQ(loop.ui.server.address(), "127.0.0.1:" + std::to_string(second.port));
  EXPECT_EQ(loop.count<net::ServerStopped>(true), 0);

  loop.ui.mark_stopping();
  loop.net.stop_server("done");
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.server.state() == ui::ServerState::stopped; }))
      << "Stop Server still reaches the server that runs";
  EXPECT_EQ(loop.ui.server.stop_reason(), "done");
}

// Host, leave, and host the same room again at once, with its store on disk: the old
// server holds the room's store until its last batch is written, so the new one waits for
// it and starts with the whole history, instead of failing or giving out its ids again.
TEST(NetControl, HostingTheSameRoomAgainAtOnceStartsWithEverythingTheOldServerWrote) {
  TempDir dir;
  Loop loop;
  loop.keep_history_in(dir.path);
  const auto first = host_request(free_port(), "host");
  loop.host(first);
  ASSERT_TRUE(loop.joined());
  RawClient guest(first.port);  // keeps the old server closing for a moment
  guest.join("guest");
  std::string burst;
  for (int i = 1; i <= 20; ++i)
    burst += json{{"type", "say"}, {"text", "m" + std::to_string(i)}}.dump() + "\n";
  guest.send_raw(burst);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(guest.recv_type("msg")) << i;

  loop.leave();
  const auto second = host_request(free_port(), "host");
  loop.host(second);
  ASSERT_TRUE(loop.joined(15s));
  EXPECT_EQ(loop.ui.server.state(), ui::ServerState::running);
  RawClient late(second.port);
  const json w = late.join("late");
  ASSERT_FALSE(w["history"].empty());
  EXPECT_EQ(w["history"].back()["text"], "m20") << "the new server has the old one's last";
  late.send({{"type", "say"}, {"text", "after"}});
  const auto m = late.recv_type("msg");
  ASSERT_TRUE(m);
  EXPECT_GT((*m)["id"].get<std::uint64_t>(), w["history"].back()["id"].get<std::uint64_t>());
}

// Another host holds the room's store, so our server waits for it: leaving must end that
// wait, not keep the window (the next Host joins the waiting starter on the UI thread),
// and the server that never started must not start later, holding the port and the store.
TEST(NetControl, LeavingWhileTheRoomsStoreIsHeldElsewhereNeitherFreezesNorLeavesAServer) {
  TempDir dir;
  Loop loop;
  const net::StoreSettings disk = loop.keep_history_in(dir.path);
  const auto held = host_request(free_port(), "host");
  const std::filesystem::path store = net::store_options(disk, held.room).file;
  std::filesystem::create_directories(store.parent_path());
  const int other_host = ::open((store.string() + ".lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(other_host, 0);
  ASSERT_EQ(::flock(other_host, LOCK_EX), 0);

  loop.host(held);  // waits for the other host, for up to 5 s
  std::this_thread::sleep_for(100ms);
  loop.leave();
  auto elsewhere = host_request(free_port(), "host");
  elsewhere.room = "Lab 3";
  loop.ui.begin_host(elsewhere);
  auto hosting = std::async(std::launch::async, [&] { loop.net.host(elsewhere); });
  ASSERT_EQ(hosting.wait_for(2s), std::future_status::ready)
      << "Host waited for the left server's store (the lock is still held)";
  ASSERT_TRUE(loop.joined());
  EXPECT_EQ(loop.ui.server.state(), ui::ServerState::running);

  // The other host goes; the room is free, and nothing of ours took it meanwhile.
  ::close(other_host);
  loop.leave();
  loop.host(held);
  ASSERT_TRUE(loop.joined());
  EXPECT_EQ(loop.ui.server.address(), "127.0.0.1:" + std::to_string(held.port));
}

// Leave the moment Host was pressed, before the server could start: its start, still on
// the way, must not open the port and the room's store for a server nobody owns.
TEST(NetControl, LeavingBeforeTheServerStartedLeavesNothingListening) {
  TempDir dir;
  Loop loop;
  loop.keep_history_in(dir.path);
  const auto r = host_request(free_port(), "host");
  for (int i = 0; i < 5; ++i) {
    loop.host(r);
    loop.leave();
  }
  loop.host(r);
  ASSERT_TRUE(loop.joined()) << "the same port and room again";
  EXPECT_EQ(loop.ui.server.state(), ui::ServerState::running);
  EXPECT_EQ(loop.ui.server.address(), "127.0.0.1:" + std::to_string(r.port));
}

// The host's own client cannot join (its nick is refused): the window stays in host mode,
// the server keeps running and stays stoppable, and another nick gets the host in.
TEST(NetControl, AHostWhoseNickIsRefusedStaysWithItsServerAndCanPickAnother) {
  Loop loop;
  const auto r = host_request(free_port(), "admin");  // reserved: refused by the room
  loop.ui.begin_host(r);
  loop.net.host(r);
  ASSERT_TRUE(
      loop.pump_until([&] { return loop.ui.chat.connection() == ui::Connection::rejected; }));
  EXPECT_EQ(loop.ui.screen(), ui::Screen::room) << "not back to the launcher";
  EXPECT_TRUE(loop.ui.hosting());
  EXPECT_EQ(loop.ui.server.state(), ui::ServerState::running);
  EXPECT_EQ(loop.ui.chat.refused_nick(), "admin");
  // The server is really there and really usable meanwhile.
  RawClient guest(r.port);
  EXPECT_EQ(guest.join("guest")["type"], "welcome");

  loop.net.rejoin_as("teacher");
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.chat.connection() == ui::Connection::joined; }));
  EXPECT_EQ(loop.ui.chat.nick(), "teacher");
  ASSERT_TRUE(loop.pump_until([&] {
    for (const auto& p : loop.ui.server.peers()) {
      if (p.nick == "teacher") return p.host;
    }
    return false;
  })) << "the panel marks the host's own connection";

  loop.ui.mark_stopping();
  loop.net.stop_server("bye");
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.server.state() == ui::ServerState::stopped; }));
  EXPECT_TRUE(guest.recv_type("shutdown").has_value());
}

// Messages typed before the host's client has joined are shown pending and go out after.
TEST(NetControl, TextTypedWhileJoiningIsPendingThenSent) {
  Loop loop;
  const auto r = host_request(free_port(), "host");
  loop.ui.begin_host(r);
  loop.net.host(r);
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.screen() == ui::Screen::room; }));
  const auto id = loop.ui.chat.queue_say("early bird");
  ASSERT_TRUE(loop.net.say("early bird", id));
  EXPECT_EQ(loop.ui.chat.pending().size(), 1u);
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.chat.pending().empty(); }));
  EXPECT_EQ(loop.ui.chat.lines().back().text, "early bird");
}

// A window that falls behind: the queue stays bounded, says what it dropped (chat
// included), and the panel and users list are made right again from snapshots.
TEST(NetControl, AnOverflowingQueueIsCountedAndTheStateIsResynced) {
  Loop loop(64);
  const auto r = host_request(free_port(), "host");
  loop.ui.begin_host(r);
  loop.net.host(r);
  ASSERT_TRUE(loop.pump_until([&] { return loop.ui.chat.connection() == ui::Connection::joined; }));
  // 60 people join and chat while the window does not drain.
  std::vector<std::unique_ptr<RawClient>> people;
  for (int i = 0; i < 60; ++i) {
    people.push_back(std::make_unique<RawClient>(r.port));
    people.back()->join("p" + std::to_string(i));
    people.back()->send({{"type", "say"}, {"text", "hi " + std::to_string(i)}});
  }
  for (auto& p : people) ASSERT_TRUE(p->recv_type("msg"));
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(loop.events.size_approx(), 64u) << "bounded";
  ASSERT_TRUE(loop.pump_until([&] {
    return loop.ui.server.joined_count() == 61 && loop.ui.chat.users().size() == 61;
  })) << "snapshots put the panel and the users list right";
  bool told = false;
  for (const auto& l : loop.ui.chat.lines()) {
    told |= l.text.find("did not show") != std::string::npos;
  }
  EXPECT_TRUE(told) << "dropped chat messages are said, not silently lost";
  EXPECT_GE(loop.count<net::EventsDropped>(true), 1);
}
