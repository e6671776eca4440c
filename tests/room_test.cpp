// The Room on its own: members are fake participants that record what they are handed.
// No sockets, no net thread.
#include "net/room.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

using namespace lanchat;
using nlohmann::json;

namespace {

struct Fake final : net::Participant {
  std::vector<std::pair<json, net::Delivery>> got;
  std::string dismissed_for;
  void deliver(const net::SharedLine& line, net::Delivery how) override {
    got.emplace_back(json::parse(*line), how);
  }
  void dismissed(std::string_view reason) override { dismissed_for = reason; }
  std::vector<std::string> types() const {
    std::vector<std::string> t;
    for (const auto& [j, how] : got) t.push_back(j["type"]);
    return t;
  }
};

struct RoomFixture : ::testing::Test {
  net::EventQueue queue;
  net::EventSink sink{queue, 42};
  net::Room room{net::RoomConfig{"Aula 3", {}, 100}, sink};
  std::uint64_t next_conn = 0;

  net::Member* join(Fake& f, const std::string& nick, std::optional<std::string> reclaim = {}) {
    proto::Hello h{nick, 1, std::nullopt, std::move(reclaim)};
    auto r = room.join(f, ++next_conn, h, false);
    if (auto* e = std::get_if<proto::Error>(&r)) {
      last_error = *e;
      return nullptr;
    }
    return std::get<net::Member*>(r);
  }
  proto::Error last_error;

  std::vector<std::string> logs() {
    std::vector<std::string> out;
    net::Event e;
    queue.begin_drain();
    while (queue.try_pop(e)) {
      EXPECT_EQ(e.source, 42u) << "every event names the instance that emitted it";
      if (auto* l = std::get_if<net::ServerLog>(&e.data)) out.push_back(l->text);
    }
    return out;
  }
};

}  // namespace

TEST_F(RoomFixture, WelcomeThenJoinNoticesAsPresenceThenMessagesToEveryoneInOrder) {
  Fake a, b;
  net::Member* ma = join(a, "alice");
  ASSERT_TRUE(ma);
  ASSERT_EQ(a.got.size(), 1u);
  EXPECT_EQ(a.got[0].first["type"], "welcome");
  EXPECT_EQ(a.got[0].second, net::Delivery::forced) << "a welcome is never refused as backlog";
  EXPECT_EQ(a.got[0].first["room_id"], room.room_id());
  EXPECT_EQ(a.got[0].first["room_id"].get<std::string>().size(), 32u);
  EXPECT_FALSE(a.got[0].first["reclaim"].get<std::string>().empty());

  net::Member* mb = join(b, "bob");
  ASSERT_TRUE(mb);
  EXPECT_EQ(b.got[0].first["users"], json::array({"alice", "bob"}));
  ASSERT_EQ(a.got.size(), 2u);
  EXPECT_EQ(a.got[1].first["type"], "join");
  EXPECT_EQ(a.got[1].second, net::Delivery::presence) << "joins may wait for the batch";

  {
    proto::Say s{"one"};
    room.say(*ma, s);
  }
  {
    proto::Say s{"two"};
    room.say(*mb, s);
  }
  for (Fake* f : {&a, &b}) {
    ASSERT_GE(f->got.size(), 2u);
    const auto& last = f->got.back();
    const auto& before = f->got[f->got.size() - 2];
    EXPECT_EQ(before.first["text"], "one");
    EXPECT_EQ(last.first["text"], "two");
    EXPECT_EQ(last.second, net::Delivery::now);
    EXPECT_LT(before.first["id"].get<std::uint64_t>(), last.first["id"].get<std::uint64_t>());
  }
  room.leave(*mb, "quit");
  EXPECT_EQ(a.got.back().first["type"], "leave");
  EXPECT_EQ(a.got.back().first["reason"], "quit");
  EXPECT_EQ(room.size(), 1u);
}

TEST_F(RoomFixture, LookAlikeNicksAreTakenAndTheErrorNamesWhoHasIt) {
  Fake a, b;
  ASSERT_TRUE(join(a, "alice"));
  EXPECT_FALSE(join(b, "\u0430lice"));  // Cyrillic а
  EXPECT_EQ(last_error.code, "nick_taken");
  EXPECT_NE(last_error.message.find("looks like \"alice\""), std::string::npos)
      << last_error.message;
  EXPECT_FALSE(join(b, "ALICE"));
  EXPECT_EQ(last_error.code, "nick_taken");
  for (const char* reserved : {"\u0430dmin", "ＡＤＭＩＮ", "Admin", "system"}) {
    EXPECT_FALSE(join(b, reserved)) << reserved;
    EXPECT_EQ(last_error.code, "bad_nick") << reserved;
    EXPECT_NE(last_error.message.find("reserved"), std::string::npos) << last_error.message;
  }
  EXPECT_TRUE(b.got.empty()) << "a refused hello gets nothing from the room";
  EXPECT_EQ(a.got.size(), 1u) << "and nobody hears of it";
  // Real names in many scripts are welcome side by side.
  std::vector<Fake> people(6);
  const char* nicks[] = {"Niccolò", "Jürgen", "Αλέξης", "Дмитрий", "王小明", "さくら"};
  for (std::size_t i = 0; i < people.size(); ++i)
    EXPECT_TRUE(join(people[i], nicks[i])) << nicks[i];
  EXPECT_EQ(room.size(), 7u);
}

TEST_F(RoomFixture, TheOwnersReclaimSecretReplacesAGhostAndNoOneElsesDoes) {
  Fake old, watcher, thief, back;
  net::Member* m = join(old, "carol");
  ASSERT_TRUE(m);
  const std::string secret = old.got[0].first["reclaim"];
  ASSERT_TRUE(join(watcher, "watcher"));
  EXPECT_FALSE(join(thief, "carol", std::string("not the secret")));
  EXPECT_EQ(last_error.code, "nick_taken");
  EXPECT_FALSE(join(thief, "carol"));
  ASSERT_TRUE(join(back, "carol", secret));
  EXPECT_EQ(old.dismissed_for, "disconnect") << "the ghost is told to close";
  EXPECT_EQ(watcher.types(), (std::vector<std::string>{"welcome", "leave", "join"}))
      << "others see the old connection leave, then the new one join, in order";
  EXPECT_NE(back.got[0].first["reclaim"], secret) << "a new secret for the new connection";
  EXPECT_EQ(room.size(), 2u);
}

TEST_F(RoomFixture, WelcomeCarriesTheLast100MessagesAndRoomIdsDiffer) {
  Fake a;
  net::Member* m = join(a, "alice");
  for (int i = 1; i <= 150; ++i) {
    proto::Say s{"m" + std::to_string(i)};
    room.say(*m, s);
  }
  Fake b;
  ASSERT_TRUE(join(b, "bob"));
  const auto& h = b.got[0].first["history"];
  ASSERT_EQ(h.size(), 100u);
  EXPECT_EQ(h[0]["text"], "m51");
  EXPECT_EQ(h[99]["text"], "m150");
  net::EventSink other_sink{queue, 43};
  net::Room other(net::RoomConfig{"x", {}, 100}, other_sink);
  EXPECT_NE(other.room_id(), room.room_id()) << "a new run, a new room id";
}

TEST_F(RoomFixture, LogLinesNameTheConnectionAndCarryNoRawClientText) {
  Fake a;
  ASSERT_TRUE(join(a, "alice"));
  auto lines = logs();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "#1 joined as alice");
  for (const auto& l : lines) EXPECT_EQ(l.find('\n'), std::string::npos);
}

// ---- large rooms: summaries instead of each join and leave ----------------------------

namespace {

struct LargeRoom : ::testing::Test {
  net::EventQueue queue;
  net::EventSink sink{queue, 7};
  // Large from 4 members on; a large room's welcome lists the first 2.
  net::Room room{net::RoomConfig{"Aula 3", {}, 100, 2000, 4, 2}, sink};
  int pending_calls = 0;
  std::uint64_t next_conn = 0;
  std::deque<Fake> fakes;  // stable addresses

  LargeRoom() {
    room.on_presence_pending([this] { ++pending_calls; });
  }
  net::Member* join(const std::string& nick, bool summaries, Fake** out = nullptr) {
    Fake& f = fakes.emplace_back();
    if (out != nullptr) *out = &f;
    proto::Hello h{nick, 1, std::nullopt};
    h.summaries = summaries;
    auto r = room.join(f, ++next_conn, h, false);
    EXPECT_TRUE(std::holds_alternative<net::Member*>(r));
    return std::get<net::Member*>(r);
  }
  static json last(const Fake& f) { return f.got.empty() ? json() : f.got.back().first; }
};

}  // namespace

TEST_F(LargeRoom, BelowTheThresholdNothingChangesForClientsThatTakeSummaries) {
  Fake *a = nullptr, *b = nullptr;
  join("alice", true, &a);
  join("bob", true, &b);
  join("carol", true);
  EXPECT_EQ(a->types(), (std::vector<std::string>{"welcome", "join", "join"}));
  EXPECT_FALSE(b->got[0].first.contains("members")) << "a small room's welcome lists everyone";
  EXPECT_EQ(b->got[0].first["users"], json::array({"alice", "bob"}));
  EXPECT_EQ(pending_calls, 0);
}

TEST_F(LargeRoom, JoinsAndLeavesOfALargeRoomTravelAsOneSummaryToThoseWhoAskedAndOneByOneToOthers) {
  Fake *sum = nullptr, *classic = nullptr, *fourth = nullptr;
  join("alice", true, &sum);
  join("bob", false, &classic);
  join("carol", true);
  const std::size_t sum_before = sum->got.size();
  const std::size_t classic_before = classic->got.size();
  net::Member* dave = join("dave", true, &fourth);  // the fourth: the room is now large
  join("erin", false);
  EXPECT_EQ(sum->got.size(), sum_before) << "nothing until the summary";
  EXPECT_EQ(pending_calls, 1) << "the owner is asked once to arm its timer";
  ASSERT_EQ(classic->got.size(), classic_before + 2);
  EXPECT_EQ(classic->got[classic_before].first["type"], "join");
  EXPECT_EQ(classic->got[classic_before + 1].first["nick"], "erin");

  // dave's welcome: the first two and the count, as he asked for summaries.
  EXPECT_EQ(fourth->got[0].first["users"], json::array({"alice", "bob"}));
  EXPECT_EQ(fourth->got[0].first["members"], 4);

  room.leave(*dave, proto::reason::quit);
  room.flush_presence();
  ASSERT_EQ(sum->got.size(), sum_before + 1);
  const json p = last(*sum);
  EXPECT_EQ(p["type"], "presence");
  EXPECT_EQ(p["members"], 4);
  EXPECT_EQ(p["joins"], 2);
  EXPECT_EQ(p["leaves"], 1);
  EXPECT_EQ(p["joined"], json::array({"erin"})) << "dave came and went within one summary";
  EXPECT_EQ(p["left"], json::array());
  EXPECT_EQ(sum->got.back().second, net::Delivery::presence);
  EXPECT_EQ(last(*classic)["type"], "leave") << "protocol-1 clients still hear each leave";

  room.flush_presence();
  EXPECT_EQ(sum->got.size(), sum_before + 1) << "no summary without changes";
}

TEST_F(LargeRoom, ASummaryGoesOutBeforeTheNextLineSoTheRoomKeepsOneOrder) {
  Fake* a = nullptr;
  net::Member* alice = join("alice", true, &a);
  join("bob", true);
  join("carol", true);
  net::Member* dave = join("dave", true);  // large now, and dave is pending
  const std::size_t before = a->got.size();
  proto::Say s{"hi, I am new"};
  room.say(*dave, s);
  ASSERT_EQ(a->got.size(), before + 2);
  EXPECT_EQ(a->got[before].first["type"], "presence");
  EXPECT_EQ(a->got[before].first["joined"], json::array({"dave"}));
  EXPECT_EQ(a->got[before + 1].first["type"], "msg");
  (void)alice;
}

TEST_F(LargeRoom, LeavingAndComingBackWithinOneSummaryListsBothAndTooManyChangesListNone) {
  Fake* a = nullptr;
  join("alice", true, &a);
  join("bob", true);
  join("carol", true);
  net::Member* dave = join("dave", true);
  room.flush_presence();
  room.leave(*dave, proto::reason::disconnect);
  join("dave", true);
  room.flush_presence();
  json p = last(*a);
  EXPECT_EQ(p["left"], json::array({json{{"nick", "dave"}, {"reason", "disconnect"}}}));
  EXPECT_EQ(p["joined"], json::array({"dave"})) << "apply left, then joined: dave is here";
  EXPECT_EQ(p["members"], 4);

  for (std::size_t i = 0; i <= proto::kMaxListedChanges; ++i) join("u" + std::to_string(i), true);
  room.flush_presence();
  p = last(*a);
  EXPECT_EQ(p["joins"], proto::kMaxListedChanges + 1);
  EXPECT_FALSE(p.contains("joined")) << "too many to list: counts only";
  EXPECT_FALSE(p.contains("left"));
  EXPECT_EQ(p["members"], 4 + proto::kMaxListedChanges + 1);
}

TEST_F(LargeRoom, ProtocolOneJoinersGetTheWholeListAndMembersPagesFindByFoldedNick) {
  join("alice", true);
  join("Jürgen", true);
  join("carol", true);
  join("dave", true);
  Fake* classic = nullptr;
  join("erin", false, &classic);
  EXPECT_EQ(classic->got[0].first["users"],
            json::array({"alice", "Jürgen", "carol", "dave", "erin"}));
  EXPECT_FALSE(classic->got[0].first.contains("members"));

  proto::MembersRequest r;
  r.limit = 2;
  proto::MembersPage page = room.members_page(r);
  EXPECT_EQ(page.members, 5u);
  EXPECT_EQ(page.users, (std::vector<std::string>{"alice", "Jürgen"}));
  EXPECT_TRUE(page.more);
  r.offset = 4;
  page = room.members_page(r);
  EXPECT_EQ(page.users, (std::vector<std::string>{"erin"}));
  EXPECT_FALSE(page.more);
  r.offset = 0;
  r.match = "JÜR";
  page = room.members_page(r);
  EXPECT_EQ(page.users, (std::vector<std::string>{"Jürgen"}));
  r.match = "nobody";
  EXPECT_TRUE(room.members_page(r).users.empty());
}
