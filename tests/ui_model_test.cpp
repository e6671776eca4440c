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
                   bool rejoined = false, bool same_room = true,
                   std::vector<std::uint64_t> confirmed = {}) {
  return net::ClientWelcome{proto::Welcome{"me", "Aula 3", 1, std::move(users), std::move(history)},
                            rejoined, same_room, std::move(confirmed)};
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

TEST(ChatModel, ALargeRoomCountsEveryoneAndItsSummariesChangeTheListNotTheChat) {
  ChatModel m;
  proto::Welcome w{"me", "Aula Magna", 1, {"teacher", "alice"}, {}};
  w.members = 600;  // a large room's welcome lists only the first members
  m.apply(net::ClientWelcome{w, false, true, {}});
  EXPECT_EQ(m.members(), 600u);
  EXPECT_EQ(m.lines().back().text, "You joined Aula Magna as me (600 online)");
  const auto list_revision = m.users_revision();
  m.apply(net::ClientSnapshot{{"teacher", "alice", "bob", "me"}});  // the fetched list
  EXPECT_EQ(m.members(), 4u);
  EXPECT_NE(m.users_revision(), list_revision);

  const std::size_t lines = m.lines().size();
  m.apply(net::ClientPresence{
      proto::Presence{503, 2, 1, true, {"carol", "bob"}, {{"alice", "quit"}}, 5}});
  EXPECT_EQ(m.users(), (std::vector<std::string>{"teacher", "bob", "me", "carol"}))
      << "left first, then joined; bob already listed stays once";
  EXPECT_EQ(m.members(), 503u);
  ASSERT_EQ(m.lines().size(), lines + 1) << "said once that arrivals only change the list";
  EXPECT_EQ(m.lines().back().text,
            "The room is large now (503 people): who comes and goes shows in the list, not here");
  m.apply(net::ClientPresence{proto::Presence{504, 1, 0, true, {"dave"}, {}, 6}});
  EXPECT_EQ(m.lines().size(), lines + 1);
  EXPECT_EQ(m.users().back(), "dave");
}

// The client hands over only what was not shown yet; the model marks the gap it filled.
TEST(ChatModel, ReconnectShowsStateAndMarksTheGapItFilled) {
  ChatModel m;
  m.apply(welcome({"me"}));
  m.apply(chat(1, "a", "one"));
  m.apply(chat(2, "a", "two"));
  m.apply(net::ClientDisconnected{"connection lost: reset", true, std::chrono::milliseconds(1000)});
  EXPECT_EQ(m.connection(), Connection::reconnecting);
  EXPECT_NE(m.status().find("reconnecting in 1.0 s"), std::string::npos) << m.status();
  EXPECT_FALSE(m.ended());
  m.apply(welcome({"me"}, {{3, "a", "three", 0}}, true, true));
  EXPECT_EQ(m.connection(), Connection::joined);
  std::vector<std::string> texts;
  for (const auto& l : m.lines()) {
    if (l.kind == LineKind::message || l.kind == LineKind::marker) texts.push_back(l.text);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"one", "two", "1 message sent while you were away",
                                             "three"}));
  EXPECT_NE(m.lines().back().text.find("Reconnected"), std::string::npos);

  // A server that restarted without its history: said plainly.
  m.apply(net::ClientDisconnected{"connection lost: reset", true, std::chrono::milliseconds(500)});
  m.apply(welcome({"me"}, {{1, "b", "fresh start", 0}}, true, false));
  bool said = false;
  for (const auto& l : m.lines()) said |= l.text.find("server restarted") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(ChatModel, SentMessagesArePendingUntilConfirmedOrFailedWithTheReason) {
  ChatModel m;
  m.apply(welcome({"me"}));
  const auto first = m.queue_say("hello");
  const auto second = m.queue_say("are you there?");
  const auto third = m.queue_say("spam");
  ASSERT_EQ(m.pending().size(), 3u);
  EXPECT_FALSE(m.pending()[0].failed);
  // The echo of the first turns it into a real line, in the room's order.
  m.apply(chat(7, "bob", "hi"));
  m.apply(net::ClientChat{proto::ChatMsg{8, "me", "hello", 1000}, first});
  ASSERT_EQ(m.pending().size(), 2u);
  EXPECT_EQ(m.lines().back().text, "hello");
  EXPECT_TRUE(m.lines().back().mine);
  // A refusal keeps the text and says why.
  m.apply(net::ClientSayFailed{third, "spam", {"rate_limited", "too many messages"}});
  ASSERT_EQ(m.pending().size(), 2u);
  EXPECT_TRUE(m.pending()[1].failed);
  EXPECT_EQ(m.pending()[1].why, "too many messages");
  m.dismiss(third);
  ASSERT_EQ(m.pending().size(), 1u);
  // Still pending across a drop; the rejoin says the room had it.
  m.apply(net::ClientDisconnected{"lost", true, std::chrono::milliseconds(500)});
  EXPECT_EQ(m.pending().size(), 1u);
  m.apply(welcome({"me"}, {{9, "me", "are you there?", 0}}, true, true, {second}));
  EXPECT_TRUE(m.pending().empty());
}

TEST(ChatModel, ARefusedNickIsKeptToChooseAnother) {
  ChatModel m;
  m.apply(welcome({"me"}));
  m.apply(net::ClientDisconnected{"lost", true, std::chrono::milliseconds(500)});
  m.apply(net::ClientRejected{{"nick_taken", "nick \"me\" is already in use"}, true, "me"});
  EXPECT_EQ(m.connection(), Connection::rejected);
  EXPECT_EQ(m.refused_nick(), "me");
  EXPECT_NE(m.lines().back().text.find("Choose another nick"), std::string::npos);
  m.apply(welcome({"me2"}));
  EXPECT_EQ(m.connection(), Connection::joined);
  EXPECT_TRUE(m.refused_nick().empty());
}

TEST(ChatModel, CopiedChatIndentsContinuationLinesSoNoneCanPassForAnotherMessage) {
  ChatModel m;
  m.apply(welcome({"me"}));
  m.apply(chat(1, "eve", "x\n[12:00:00] <admin> the server moves to 10.0.0.66"));
  const std::string text = chat_as_text(m.room_conversation());
  const auto at = text.find("the server moves");
  ASSERT_NE(at, std::string::npos);
  const auto line_start = text.rfind('\n', at) + 1;
  EXPECT_EQ(text.substr(line_start, 4), "    ") << text;
  EXPECT_EQ(text.find("\n[12:00:00] <admin>"), std::string::npos) << text;
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

TEST(ChatModel, MemoryIsBoundedByBytesAndCountsWhatItDropped) {
  ChatModel m(1 << 20);  // 1 MiB
  m.apply(welcome({"me"}));
  const std::string text(1000, 'x');
  for (std::uint64_t i = 0; i < 5000; ++i) m.apply(chat(i + 1, "a", text));
  EXPECT_LE(m.bytes(), std::size_t{1} << 20);
  EXPECT_GT(m.dropped(), 3000u) << "about 1,000 lines of 1 KB fit in 1 MiB";
  EXPECT_EQ(m.lines().back().id, 5000u) << "the newest line is kept";
  EXPECT_EQ(m.first_line() + m.lines().size(), m.end_line());
  // A few huge lines weigh as much as many small ones.
  ChatModel big(1 << 20);
  big.apply(welcome({"me"}));
  for (std::uint64_t i = 0; i < 10; ++i) big.apply(chat(i + 1, "a", std::string(400'000, 'y')));
  EXPECT_LE(big.lines().size(), 3u);
  const auto g = m.generation();
  m.reset();
  EXPECT_NE(m.generation(), g);
  EXPECT_TRUE(m.lines().empty());
  EXPECT_EQ(m.bytes(), 0u);
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

TEST(ServerModel, LogIsBoundedByBytes) {
  ServerModel m(64 * 1024);
  for (std::size_t i = 0; i < 10'000; ++i) {
    m.apply(net::ServerLog{0, net::LogLevel::info,
                           "connection from 10.0.0.1:4000 (#" + std::to_string(i) + ")"});
  }
  EXPECT_LE(m.log_bytes(), 64u * 1024);
  EXPECT_LT(m.log().size(), 10'000u);
  EXPECT_EQ(m.log_revision(), 10'000u) << "rows ever added, for the panel's incremental filter";
  EXPECT_EQ(m.log().back().text, "connection from 10.0.0.1:4000 (#9999)");
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

TEST(Settings, TheTextSizeStepsByTenthsStaysInBoundsAndIsRemembered) {
  EXPECT_FLOAT_EQ(zoomed_text_scale(1.0f, 1), 1.1f);
  EXPECT_FLOAT_EQ(zoomed_text_scale(zoomed_text_scale(1.0f, 3), -3), 1.0f);
  EXPECT_FLOAT_EQ(zoomed_text_scale(1.3f, 0), 1.0f);
  EXPECT_FLOAT_EQ(zoomed_text_scale(2.4f, 5), kMaxTextScale);
  EXPECT_FLOAT_EQ(zoomed_text_scale(0.7f, -5), kMinTextScale);

  const auto dir =
      std::filesystem::temp_directory_path() / ("lanchat-zoom-" + std::to_string(::getpid()));
  const auto file = dir / "settings.json";
  Settings s;
  s.text_scale = 1.4f;
  ASSERT_TRUE(save_settings(file, s));
  EXPECT_FLOAT_EQ(load_settings(file).text_scale, 1.4f);
  // A hand-edited size nobody could read is ignored rather than obeyed.
  std::ofstream(file) << R"({"text_scale": 40})";
  EXPECT_FLOAT_EQ(load_settings(file).text_scale, 1.0f);
  std::filesystem::remove_all(dir);
}

TEST(ChatModel, OlderPagesGoInFrontOnceAndSayWhetherMoreExist) {
  ChatModel m;
  std::vector<proto::ChatMsg> h;
  for (std::uint64_t i = 101; i <= 200; ++i) h.push_back({i, "a", "m" + std::to_string(i), 5});
  auto w = welcome({"me"}, h);
  std::get<net::ClientWelcome>(w.data).welcome.more = true;
  m.apply(w);
  EXPECT_TRUE(m.more_older());
  EXPECT_EQ(m.oldest_id(), 101u);
  const auto first = m.first_line();
  m.mark_loading_older();
  EXPECT_TRUE(m.loading_older());
  std::vector<proto::ChatMsg> older;
  for (std::uint64_t i = 51; i <= 101; ++i) older.push_back({i, "a", "m" + std::to_string(i), 4});
  m.apply(net::ClientHistory{older, false, 0});
  EXPECT_FALSE(m.loading_older());
  EXPECT_FALSE(m.more_older());
  EXPECT_EQ(m.first_line(), first - 50) << "50 new lines in front (101 was there already)";
  EXPECT_EQ(m.lines().front().text, "m51");
  EXPECT_EQ(m.oldest_id(), 51u);
  // A search hit's context is not the chat's.
  m.apply(net::ClientHistory{{{1, "x", "elsewhere", 1}}, false, 77});
  EXPECT_EQ(m.lines().front().text, "m51");
}

TEST(SearchModel, HitsThenTheirContextAndStaleAnswersIgnored) {
  SearchModel s;
  s.begin("citta");
  EXPECT_TRUE(s.searching());
  s.apply(net::ClientFound{"old search", {{1, "a", "x", 1}}});
  EXPECT_TRUE(s.searching()) << "an answer to an earlier search is not this one's";
  s.apply(net::ClientFound{"citta", {{9, "b", "la città", 2}, {4, "c", "Città", 1}}});
  EXPECT_FALSE(s.searching());
  ASSERT_EQ(s.hits().size(), 2u);
  s.begin_context(4);
  EXPECT_TRUE(s.context_loading());
  s.apply(net::ClientHistory{{{3, "a", "before", 1}, {4, "c", "Città", 1}}, true, 4});
  EXPECT_FALSE(s.context_loading());
  ASSERT_EQ(s.context().size(), 2u);
  s.apply(net::ClientFound{"citta", {}, "the connection was lost"});
  EXPECT_EQ(s.error(), "the connection was lost");
}

namespace {
net::Event direct(std::uint64_t id, std::string from, std::string to, std::string text,
                  std::uint64_t local_id = 0) {
  proto::ChatMsg m{id, std::move(from), std::move(text), 1000};
  m.to = std::move(to);
  return net::ClientChat{m, local_id};
}
}  // namespace

TEST(ChatModel, DirectMessagesLiveInTheirOwnConversationWithUnreadCounts) {
  ChatModel m;
  m.apply(welcome({"me", "bob", "carol"}));
  m.set_view("", true);  // looking at the room, window focused
  m.apply(direct(5, "bob", "me", "psst"));
  const Conversation* c = m.conversation("bob");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->lines.size(), 1u);
  EXPECT_EQ(c->lines[0].text, "psst");
  EXPECT_EQ(c->unread, 1u);
  EXPECT_EQ(c->mentions, 1u) << "every direct message is for you";
  EXPECT_TRUE(m.take_alerts().empty()) << "focused: no desktop alert";
  for (const auto& l : m.lines()) EXPECT_NE(l.text, "psst") << "not in the room";
  // Replying from the conversation: pending there, then confirmed by the echo.
  const auto id = m.queue_say("hi bob", "bob");
  ASSERT_EQ(m.conversation("bob")->pending.size(), 1u);
  m.apply(direct(6, "me", "bob", "hi bob", id));
  EXPECT_TRUE(m.conversation("bob")->pending.empty());
  EXPECT_EQ(m.conversation("bob")->lines.back().text, "hi bob");
  EXPECT_TRUE(m.conversation("bob")->lines.back().mine);
  // Opening it clears its counts.
  m.set_view("bob", true);
  EXPECT_EQ(m.conversation("bob")->unread, 0u);
  EXPECT_EQ(m.total_mentions(), 0u);
  // The conversation follows bob to his new nick.
  m.apply(net::ClientNick{{"bob", "robert", 7}, false});
  EXPECT_EQ(m.conversation("bob"), nullptr);
  ASSERT_NE(m.conversation("robert"), nullptr);
  EXPECT_EQ(m.conversation("robert")->lines.back().kind, LineKind::nick);
}

TEST(ChatModel, MentionsAreMarkedCountedAndAlertOnlyWithoutFocus) {
  ChatModel m;
  m.apply(welcome({"me", "bob"}));
  m.set_view("", false);  // the window is in the background
  m.apply(chat(1, "bob", "lunch?"));
  m.apply(chat(2, "bob", "@me are you coming?"));
  m.apply(chat(3, "me", "me too"));  // our own lines never count
  EXPECT_FALSE(m.lines()[m.lines().size() - 3].mention);
  EXPECT_TRUE(m.lines()[m.lines().size() - 2].mention);
  EXPECT_EQ(m.total_unread(), 2u);
  EXPECT_EQ(m.total_mentions(), 1u);
  const auto alerts = m.take_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].from, "bob");
  EXPECT_FALSE(alerts[0].direct);
  m.apply(direct(4, "bob", "me", "private"));
  ASSERT_EQ(m.take_alerts().size(), 1u) << "a direct message alerts too";
  m.set_view("", true);
  EXPECT_EQ(m.total_unread(), 1u) << "the room is read; bob's conversation is not yet";
}

TEST(ChatModel, BeingKickedEndsTheSessionWithTheHostsWords) {
  ChatModel m;
  m.apply(welcome({"me", "bob"}));
  m.apply(net::ClientKicked{"be nice"});
  EXPECT_TRUE(m.ended());
  EXPECT_EQ(m.status(), "The host removed you from the room: be nice");
  m.apply(net::ClientNotice{{"bob was muted by the host", 9}});
  EXPECT_EQ(m.lines().back().kind, LineKind::notice);
}

TEST(RoomsModel, ListsWhatDiscoveryFoundAndExplainsAnEmptyListOnlyAfterAWhile) {
  ui::RoomsModel rooms;
  net::FoundRoom lab;
  lab.instance = "0123456789abcdef";
  lab.room = "Lab 2";
  lab.address = "10.0.0.5";
  lab.port = 5555;
  // Not looking (another tab): lists that arrive late are not shown.
  rooms.apply(net::Event(net::RoomsFound{{lab}}));
  EXPECT_TRUE(rooms.rooms().empty());

  rooms.begin(1'000'000);
  EXPECT_FALSE(rooms.nothing_found(1'000'000 + 2'000));  // still looking
  EXPECT_TRUE(rooms.nothing_found(1'000'000 + 3'000));
  rooms.asked_again(1'000'000 + 5'000);  // Refresh: patience starts over
  EXPECT_FALSE(rooms.nothing_found(1'000'000 + 6'000));

  rooms.apply(net::Event(net::RoomsFound{{lab}, 0, 1, "", 0}));
  ASSERT_EQ(rooms.rooms().size(), 1u);
  EXPECT_FALSE(rooms.nothing_found(1'000'000 + 60'000));
  ASSERT_NE(rooms.find("0123456789abcdef"), nullptr);
  EXPECT_EQ(rooms.find("0123456789abcdef")->address, "10.0.0.5");
  EXPECT_EQ(rooms.find("ffff"), nullptr);
  // The list is replaced whole: a room that went is gone.
  rooms.apply(net::Event(net::RoomsFound{}));
  EXPECT_TRUE(rooms.rooms().empty());

  rooms.end();
  EXPECT_FALSE(rooms.looking());
  EXPECT_FALSE(rooms.nothing_found(1'000'000 + 60'000));
}

TEST(RoomsModel, SeenText) {
  EXPECT_EQ(ui::seen_text(10'000, 10'500), "just now");
  EXPECT_EQ(ui::seen_text(10'000, 14'200), "4 s ago");
  EXPECT_EQ(ui::seen_text(10'000, 10'000 + 150'000), "2 min ago");
  EXPECT_EQ(ui::seen_text(10'000, 9'000), "just now");  // a clock step back
}
