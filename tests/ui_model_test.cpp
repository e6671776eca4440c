// The UI models, fed with the same event values the net thread produces. No window.
#include "ui/ui_model.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ui/settings.hpp"

using namespace lanchat;
using namespace lanchat::ui;

namespace {

net::Event welcome(std::vector<std::string> users, std::vector<proto::ChatMsg> history = {},
                   bool rejoined = false) {
  return net::ClientWelcome{proto::Welcome{"me", "Aula 3", 1, std::move(users), std::move(history)},
                            rejoined};
}
net::Event chat(std::uint64_t id, std::string from, std::string text) {
  return net::ClientChat{proto::ChatMsg{id, std::move(from), std::move(text), 1000}};
}

}  // namespace

TEST(ChatModel, WelcomeFillsRoomUsersAndHistory) {
  ChatModel m;
  m.apply(net::ClientConnecting{"10.0.0.5", 5555, 0});
  EXPECT_EQ(m.connection(), Connection::connecting);
  m.apply(welcome({"alice", "me"}, {{1, "alice", "earlier", 5}, {2, "me", "mine", 6}}));
  EXPECT_EQ(m.connection(), Connection::joined);
  EXPECT_EQ(m.room(), "Aula 3");
  EXPECT_EQ(m.nick(), "me");
  EXPECT_EQ(m.users(), (std::vector<std::string>{"alice", "me"}));
  ASSERT_EQ(m.lines().size(), 3u);  // two history lines and "You joined"
  EXPECT_EQ(m.lines()[0].text, "earlier");
  EXPECT_FALSE(m.lines()[0].mine);
  EXPECT_TRUE(m.lines()[1].mine);
  EXPECT_EQ(m.lines()[2].kind, LineKind::info);
}

TEST(ChatModel, JoinAndLeaveUpdateUsersAndSayWhy) {
  ChatModel m;
  m.apply(welcome({"me"}));
  m.apply(net::ClientJoin{{"bob", 10}});
  EXPECT_EQ(m.users(), (std::vector<std::string>{"me", "bob"}));
  EXPECT_EQ(m.lines().back().kind, LineKind::join);
  m.apply(net::ClientLeave{{"bob", "too_slow", 11}});
  EXPECT_EQ(m.users(), (std::vector<std::string>{"me"}));
  EXPECT_EQ(m.lines().back().kind, LineKind::leave);
  EXPECT_EQ(m.lines().back().text, "was dropped (connection too slow)");
  m.apply(chat(3, "me", "multi\nline"));
  EXPECT_EQ(m.lines().back().text, "multi\nline");
  EXPECT_TRUE(m.lines().back().mine);
}

TEST(ChatModel, ReconnectShowsStateAndSkipsHistoryAlreadyShown) {
  ChatModel m;
  m.apply(welcome({"me"}));
  m.apply(chat(1, "a", "one"));
  m.apply(chat(2, "a", "two"));
  m.apply(net::ClientDisconnected{"connection lost: reset", true, std::chrono::milliseconds(1000)});
  EXPECT_EQ(m.connection(), Connection::reconnecting);
  EXPECT_NE(m.status().find("reconnecting in 1.0 s"), std::string::npos) << m.status();
  EXPECT_FALSE(m.ended());
  m.apply(welcome({"me"}, {{1, "a", "one", 0}, {2, "a", "two", 0}, {3, "a", "three", 0}}, true));
  EXPECT_EQ(m.connection(), Connection::joined);
  std::vector<std::string> texts;
  for (const auto& l : m.lines()) {
    if (l.kind == LineKind::message) texts.push_back(l.text);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"one", "two", "three"}))
      << "no duplicates, none missed";
  EXPECT_NE(m.lines().back().text.find("Reconnected"), std::string::npos);
}

TEST(ChatModel, ShutdownAndLostAreShownPlainly) {
  ChatModel a;
  a.apply(welcome({"me", "x"}));
  a.apply(net::ClientShutdown{"lesson over"});
  EXPECT_TRUE(a.ended());
  EXPECT_EQ(a.connection(), Connection::shut_down);
  EXPECT_EQ(a.status(), "The server shut down: lesson over");
  EXPECT_TRUE(a.users().empty());
  ChatModel b;
  b.apply(welcome({"me"}));
  b.apply(
      net::ClientDisconnected{"connection to h:1 lost: reset", true, std::chrono::milliseconds(0)});
  EXPECT_EQ(b.connection(), Connection::lost);
  EXPECT_EQ(b.lines().back().kind, LineKind::error);
}

TEST(ChatModel, RttAndServerErrors) {
  ChatModel m;
  m.apply(welcome({"me"}));
  m.apply(net::ClientRtt{std::chrono::microseconds(420)});
  ASSERT_TRUE(m.rtt());
  EXPECT_EQ(m.rtt()->count(), 420);
  m.apply(net::ClientServerError{{"rate_limited", "slow down"}});
  EXPECT_EQ(m.lines().back().kind, LineKind::error);
  EXPECT_EQ(m.lines().back().text, "slow down");
}

TEST(ChatModel, HistoryIsBoundedAndCountsWhatItDropped) {
  ChatModel m;
  m.apply(welcome({"me"}));
  const std::size_t n = ChatModel::kMaxLines + 10;
  for (std::size_t i = 0; i < n; ++i) m.apply(chat(i + 1, "a", "x"));
  EXPECT_EQ(m.lines().size(), ChatModel::kMaxLines);
  EXPECT_EQ(m.dropped(), 11u);  // 10 + the "You joined" line
  const auto g = m.generation();
  m.reset();
  EXPECT_NE(m.generation(), g);
  EXPECT_TRUE(m.lines().empty());
}

TEST(UiModel, JoinGoesToTheRoomOnWelcome) {
  UiModel ui;
  ui.begin_join({"127.0.0.1", 5555, "me", ""});
  EXPECT_TRUE(ui.busy());
  EXPECT_EQ(ui.screen(), Screen::launcher);
  ui.apply(welcome({"me"}));
  EXPECT_FALSE(ui.busy());
  EXPECT_EQ(ui.screen(), Screen::room);
  EXPECT_FALSE(ui.hosting());
}

TEST(UiModel, NetworkErrorsReturnToTheLauncherNextToTheRightField) {
  UiModel ui;
  ui.begin_join({"127.0.0.1", 1, "me", ""});
  ui.apply(net::ClientDisconnected{"cannot connect to 127.0.0.1:1: Connection refused", false,
                                   std::chrono::milliseconds(0)});
  EXPECT_FALSE(ui.busy());
  EXPECT_EQ(ui.screen(), Screen::launcher);
  EXPECT_EQ(ui.error_field(), ErrorField::address);
  EXPECT_NE(ui.launcher_error().find("refused"), std::string::npos);

  ui.begin_join({"127.0.0.1", 5555, "bob", ""});
  EXPECT_TRUE(ui.launcher_error().empty()) << "a new try clears the old error";
  ui.apply(net::ClientRejected{{"nick_taken", "nick \"bob\" is already in use"}});
  EXPECT_EQ(ui.error_field(), ErrorField::nick);

  ui.begin_join({"127.0.0.1", 5555, "bob", "x"});
  ui.apply(net::ClientRejected{{"bad_password", "wrong password"}});
  EXPECT_EQ(ui.error_field(), ErrorField::password);
}

TEST(UiModel, HostFeedsTheServerPanel) {
  UiModel ui;
  ui.begin_host({"0.0.0.0", 5555, "room", "host", ""});
  EXPECT_EQ(ui.server.state(), ServerState::starting);
  ui.apply(net::ServerListening{"0.0.0.0", 5555, "room"});
  ui.apply(net::ServerLog{1, net::LogLevel::info, "listening on 0.0.0.0:5555"});
  ui.apply(net::PeerConnected{1, "127.0.0.1:4000", 5});
  ui.apply(net::PeerJoined{1, "host", 6});
  ui.apply(net::PeerConnected{2, "10.0.0.7:4001", 7});
  ui.apply(welcome({"host"}));
  EXPECT_EQ(ui.screen(), Screen::room);
  EXPECT_TRUE(ui.hosting());
  EXPECT_EQ(ui.server.state(), ServerState::running);
  EXPECT_EQ(ui.server.peers().size(), 2u);
  EXPECT_EQ(ui.server.joined_count(), 1u);
  ui.apply(chat(1, "host", "hi"));
  EXPECT_EQ(ui.server.peers()[0].messages, 1u);
  EXPECT_EQ(ui.server.total_messages(), 1u);
  ui.apply(net::PeerClosed{2, "disconnect", 9});
  EXPECT_EQ(ui.server.peers().size(), 1u);
  ui.apply(net::ServerStopped{"bye"});
  EXPECT_EQ(ui.server.state(), ServerState::stopped);
  EXPECT_EQ(ui.server.stop_reason(), "bye");
}

TEST(UiModel, PortInUseIsALauncherError) {
  UiModel ui;
  ui.begin_host({"0.0.0.0", 5555, "room", "host", ""});
  ui.apply(net::ServerFailed{"cannot listen on 0.0.0.0:5555: the port is already in use"});
  EXPECT_FALSE(ui.busy());
  EXPECT_FALSE(ui.hosting());
  EXPECT_EQ(ui.screen(), Screen::launcher);
  EXPECT_NE(ui.launcher_error().find("already in use"), std::string::npos);
}

TEST(UiModel, EventsOfALeftSessionDoNotLeakIntoTheNext) {
  UiModel ui;
  ui.begin_join({"h", 1, "me", ""});
  ui.apply(welcome({"me"}));
  ui.back_to_launcher();
  ui.apply(chat(9, "ghost", "late"));
  ui.apply(net::ClientClosed{});
  ui.begin_join({"h", 1, "me", ""});
  for (const auto& l : ui.chat.lines()) EXPECT_NE(l.text, "late");
}

TEST(ServerModel, LogIsBounded) {
  ServerModel m;
  for (std::size_t i = 0; i < ServerModel::kMaxLogRows + 5; ++i) {
    m.apply(net::ServerLog{0, net::LogLevel::info, "x"});
  }
  EXPECT_EQ(m.log().size(), ServerModel::kMaxLogRows);
  EXPECT_EQ(m.log_revision(), ServerModel::kMaxLogRows + 5);
}

TEST(Settings, RoundTripAndBrokenFileFallsBackToDefaults) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("lanchat-settings-" + std::to_string(::getpid()));
  const auto file = dir / "settings.json";
  Settings s;
  s.join_host = "192.0.2.1";
  s.join_nick = "Niccolò";
  s.last_tab = 1;
  ASSERT_TRUE(save_settings(file, s));
  const Settings back = load_settings(file);
  EXPECT_EQ(back.join_host, "192.0.2.1");
  EXPECT_EQ(back.join_nick, "Niccolò");
  EXPECT_EQ(back.last_tab, 1);
  std::ofstream(file) << "{ not json";
  EXPECT_EQ(load_settings(file).join_host, "127.0.0.1");
  std::filesystem::remove_all(dir);
}
