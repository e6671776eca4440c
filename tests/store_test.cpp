// A room that remembers (issue 10): history in a real SQLite file, ids that survive
// restarts, resume after a drop, older pages and search, over real sockets.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "tests/support.hpp"

using namespace lanchat::test;
using lanchat::net::StoreOptions;
namespace net = lanchat::net;

namespace {

StoreOptions file_in(const TempDir& dir, const std::string& room = "Lab 2") {
  StoreOptions o;
  o.file = net::room_store_path(dir.path, room);
  return o;
}
json say(const std::string& text) {
  return {{"type", "say"}, {"text", text}};
}
// Says texts one after another and waits for their echoes; returns their ids.
std::vector<std::uint64_t> say_all(RawClient& c, int from, int to,
                                   const std::string& prefix = "m") {
  std::string burst;
  for (int i = from; i <= to; ++i) burst += say(prefix + std::to_string(i)).dump() + "\n";
  c.send_raw(burst);
  std::vector<std::uint64_t> ids;
  while (ids.size() < static_cast<std::size_t>(to - from + 1)) {
    auto m = c.recv_type("msg", 10s);
    if (!m) break;
    ids.push_back((*m)["id"]);
  }
  return ids;
}
json hello_resume(const std::string& nick, const std::string& room_id, std::uint64_t last_id) {
  return {
      {"type", "hello"}, {"nick", nick}, {"proto", 1}, {"room_id", room_id}, {"last_id", last_id}};
}
std::vector<std::string> texts(const json& msgs) {
  std::vector<std::string> out;
  for (const auto& m : msgs) out.push_back(m["text"]);
  return out;
}
// One number read from the store's file, as another program would.
std::uint64_t read_number(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
  std::uint64_t n = 0;
  if (sqlite3_step(s) == SQLITE_ROW) n = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}
std::uint64_t count_rows(const std::filesystem::path& file) {
  return read_number(file, "SELECT count(*) FROM messages");
}

}  // namespace

TEST(Store, ARestartKeepsTheHistoryItsIdsAndTheRoomId) {
  TempDir dir;
  std::string room_id;
  std::vector<std::uint64_t> ids;
  {
    TestServer first(without_rate_limits(), file_in(dir));
    RawClient a(first.port());
    room_id = a.join("alice")["room_id"];
    ids = say_all(a, 1, 150);
    ASSERT_EQ(ids.size(), 150u);
  }  // stopped: everything broadcast is written
  TestServer second(without_rate_limits(), file_in(dir));
  RawClient b(second.port());
  const json w = b.join("bob");
  EXPECT_EQ(w["room_id"], room_id) << "the room is the same room";
  ASSERT_EQ(w["history"].size(), 100u);
  EXPECT_EQ(w["history"][0]["text"], "m51");
  EXPECT_EQ(w["history"][99]["text"], "m150");
  EXPECT_EQ(w["history"][99]["id"], ids.back()) << "the same ids";
  EXPECT_EQ(w["more"], true) << "fifty older messages exist";
  b.send(say("after the restart"));
  auto m = b.recv_type("msg");
  ASSERT_TRUE(m);
  EXPECT_GT((*m)["id"].get<std::uint64_t>(), ids.back()) << "ids keep increasing";
  EXPECT_EQ(count_rows(file_in(dir).file), 150u) << "(the last one is still being written)";
}

TEST(Store, AWelcomeSaysWhetherOlderMessagesExist) {
  TestServer srv(without_rate_limits());
  RawClient a(srv.port());
  EXPECT_EQ(a.join("alice")["more"], false) << "a new room has nothing older";
  say_all(a, 1, 30);
  RawClient b(srv.port());
  EXPECT_EQ(b.join("bob")["more"], false) << "all 30 fit in the welcome";
  say_all(a, 31, 130);
  RawClient c(srv.port());
  EXPECT_EQ(c.join("carol")["more"], true);
}

TEST(Store, ResumingDeliversExactlyTheMissedMessagesInARunAndAcrossARestart) {
  TempDir dir;
  std::string room_id;
  std::uint64_t seen = 0;
  {
    TestServer srv(without_rate_limits(), file_in(dir));
    RawClient talker(srv.port());
    talker.join("talker");
    {
      RawClient reader(srv.port());
      room_id = reader.join("reader")["room_id"];
      say_all(talker, 1, 20);
      for (int i = 0; i < 20; ++i) seen = (*reader.recv_type("msg"))["id"];
    }  // the reader's Wi-Fi drops
    say_all(talker, 21, 25);
    RawClient back(srv.port());
    back.send(hello_resume("reader", room_id, seen));
    const auto w = back.recv_type("welcome");
    ASSERT_TRUE(w);
    EXPECT_EQ(texts((*w)["history"]), (std::vector<std::string>{"m21", "m22", "m23", "m24", "m25"}))
        << "exactly what was missed, oldest first";
    EXPECT_EQ((*w)["more"], true);
    seen = (*w)["history"].back()["id"];
    say_all(talker, 26, 27);
  }  // the host restarts
  TestServer again(without_rate_limits(), file_in(dir));
  RawClient back(again.port());
  back.send(hello_resume("reader", room_id, seen));
  const auto w = back.recv_type("welcome");
  ASSERT_TRUE(w);
  EXPECT_EQ(texts((*w)["history"]), (std::vector<std::string>{"m26", "m27"}));
  // A client from another room (or none) gets the usual last 100.
  RawClient stranger(again.port());
  stranger.send(hello_resume("stranger", "not-this-room", seen));
  EXPECT_EQ((*stranger.recv_type("welcome"))["history"].size(), 27u);
}

TEST(Store, MissingMoreThanAThousandResumesWithTheNewestThousand) {
  TestServer srv(without_rate_limits());
  RawClient talker(srv.port());
  const std::string room_id = talker.join("talker")["room_id"];
  const auto ids = say_all(talker, 1, 1300);
  ASSERT_EQ(ids.size(), 1300u);
  RawClient back(srv.port());
  back.send(hello_resume("reader", room_id, ids[99]));  // saw 100, missed 1,200
  const auto w = back.recv_type("welcome");
  ASSERT_TRUE(w);
  ASSERT_EQ((*w)["history"].size(), 1000u);
  EXPECT_EQ((*w)["history"][0]["text"], "m301");
  EXPECT_EQ((*w)["history"][999]["text"], "m1300");
  EXPECT_EQ((*w)["more"], true);
}

TEST(Store, HistoryPagesFromMemoryAndFromDiskJoinUpWithoutGapsOrRepeats) {
  TempDir dir;
  TestServer srv(without_rate_limits(), file_in(dir));
  RawClient a(srv.port());
  a.join("alice");
  const auto ids = say_all(a, 1, 3000);  // memory holds the newest 2,000
  ASSERT_EQ(ids.size(), 3000u);
  // Walk back from the newest to the first, 500 at a time.
  std::vector<std::uint64_t> walked;
  std::uint64_t before = 0;
  bool more = true;
  int pages = 0;
  while (more) {
    json req{{"type", "history"}, {"limit", 500}, {"ref", "page" + std::to_string(pages)}};
    if (before != 0) req["before"] = before;
    a.send(req);
    auto page = a.recv_type("history");
    ASSERT_TRUE(page);
    EXPECT_EQ((*page)["ref"], "page" + std::to_string(pages)) << "the request's label comes back";
    const auto& msgs = (*page)["msgs"];
    ASSERT_FALSE(msgs.empty());
    for (std::size_t i = 1; i < msgs.size(); ++i) {
      ASSERT_LT(msgs[i - 1]["id"].get<std::uint64_t>(), msgs[i]["id"].get<std::uint64_t>());
    }
    std::vector<std::uint64_t> page_ids;
    for (const auto& m : msgs) page_ids.push_back(m["id"]);
    walked.insert(walked.begin(), page_ids.begin(), page_ids.end());
    before = page_ids.front();
    more = (*page)["more"];
    ++pages;
  }
  EXPECT_EQ(pages, 6);
  EXPECT_EQ(walked, ids) << "every message once, in order, across memory and disk";
  // Default and bounds.
  a.send({{"type", "history"}, {"before", ids[10]}});
  auto small = a.recv_type("history");
  ASSERT_TRUE(small);
  EXPECT_EQ((*small)["msgs"].size(), 10u);
  EXPECT_EQ((*small)["more"], false);
  for (int bad : {0, 501}) {
    a.send({{"type", "history"}, {"limit", bad}, {"ref", 7}});
    auto e = a.recv_type("error");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["code"], "bad_message");
    EXPECT_EQ((*e)["ref"], 7);
  }
  RawClient outsider(srv.port());
  outsider.send({{"type", "history"}});
  EXPECT_EQ((*outsider.recv())["code"], "not_joined");
}

TEST(Store, SearchFindsWordsAndWordBeginningsWithDiacriticsFoldedNewestFirst) {
  TestServer srv(without_rate_limits());
  RawClient a(srv.port());
  a.join("alice");
  say_all(a, 1, 1, "La città è bella");
  say_all(a, 1, 1, "citizens of the world");
  say_all(a, 1, 1, "nothing to see");
  say_all(a, 1, 1, "Città vecchia");
  auto search = [&](const std::string& text, int limit = 50) {
    a.send({{"type", "search"}, {"text", text}, {"limit", limit}, {"ref", "q"}});
    auto f = a.recv_type("found");
    EXPECT_TRUE(f);
    EXPECT_EQ((*f)["text"], text);
    EXPECT_EQ((*f)["ref"], "q");
    std::vector<std::string> out;
    for (const auto& m : (*f)["msgs"]) out.push_back(m["text"].get<std::string>());
    return out;
  };
  EXPECT_EQ(search("citta"), (std::vector<std::string>{"Città vecchia1", "La città è bella1"}))
      << "diacritics folded, newest first";
  EXPECT_EQ(search("cit"), (std::vector<std::string>{"Città vecchia1", "citizens of the world1",
                                                     "La città è bella1"}))
      << "word beginnings";
  EXPECT_EQ(search("CITTÀ bella"), (std::vector<std::string>{"La città è bella1"}))
      << "every word must match";
  EXPECT_EQ(search("cit", 1).size(), 1u);
  EXPECT_TRUE(search("\"quotes\" AND OR NEAR(").empty()) << "nothing typed is query syntax";
  a.send({{"type", "search"}, {"text", "   "}});
  EXPECT_EQ((*a.recv_type("error"))["code"], "bad_message");
  a.send({{"type", "search"}, {"text", "x"}, {"limit", 201}});
  EXPECT_EQ((*a.recv_type("error"))["code"], "bad_message");
}

// A direct message takes an id but is never stored, so after a restart the newest id is
// ahead of every stored message. Search must not wait for a message that will never come.
TEST(Store, SearchAnswersAfterARestartWhoseNewestIdWasADirectMessage) {
  TempDir dir;
  {
    TestServer first(without_rate_limits(), file_in(dir));
    RawClient a(first.port());
    RawClient b(first.port());
    a.join("alice");
    b.join("bob");
    say_all(a, 1, 3, "lunch at noon ");
    a.send({{"type", "say"}, {"text", "just between us"}, {"to", "bob"}});
    ASSERT_TRUE(b.recv_type("msg"));
    ASSERT_TRUE(b.recv_type("msg"));
    ASSERT_TRUE(b.recv_type("msg"));
    auto direct = b.recv_type("msg");
    ASSERT_TRUE(direct);
    ASSERT_EQ((*direct)["to"], "bob");
  }
  TestServer second(without_rate_limits(), file_in(dir));
  RawClient c(second.port());
  c.join("carol");
  c.send({{"type", "search"}, {"text", "lunch"}, {"ref", "q"}});
  auto f = c.recv_type("found", 5s);
  ASSERT_TRUE(f) << "the search was answered";
  EXPECT_EQ(texts((*f)["msgs"]),
            (std::vector<std::string>{"lunch at noon 3", "lunch at noon 2", "lunch at noon 1"}));
  EXPECT_EQ(say_all(c, 1, 1, "still there?").size(), 1u) << "the room goes on after the search";
}

// How often this process's threads of that name have gone to sleep and woken again.
std::uint64_t wakeups_of(const std::string& thread_name) {
  std::uint64_t n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name != thread_name) continue;
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) n += std::stoull(line.substr(24));
    }
  }
  return n;
}

// A host nobody talks in should cost nothing: the store's threads sleep until there is
// something to write or read, rather than look ten times a second.
TEST(Store, AnIdleRoomsStoreSleeps) {
  TempDir dir;
  TestServer srv(without_rate_limits(), file_in(dir));
  RawClient a(srv.port());
  a.join("alice");
  say_all(a, 1, 3);
  a.send({{"type", "search"}, {"text", "m2"}, {"ref", "q"}});
  auto f = a.recv_type("found");
  ASSERT_TRUE(f);
  ASSERT_EQ((*f)["msgs"].size(), 1u) << "written and indexed";
  std::this_thread::sleep_for(300ms);
  const auto before = wakeups_of("lanchat-store") + wakeups_of("lanchat-search");
  std::this_thread::sleep_for(1s);
  EXPECT_LE(wakeups_of("lanchat-store") + wakeups_of("lanchat-search") - before, 1u);
  // And it still wakes for the next message.
  say_all(a, 4, 4);
  a.send({{"type", "search"}, {"text", "m4"}, {"ref", "q"}});
  f = a.recv_type("found");
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["msgs"].size(), 1u);
}

TEST(Store, AFileThatIsNotALanchatStoreIsAClearErrorAndIsLeftAlone) {
  TempDir dir;
  const auto file = net::room_store_path(dir.path, "Lab 2");
  std::filesystem::create_directories(file.parent_path());
  const std::string garbage(8192, '\x5a');
  std::ofstream(file, std::ios::binary) << garbage;
  net::StoreContents c;
  StoreOptions o;
  o.file = file;
  try {
    net::Store::open(o, c);
    FAIL() << "opened garbage";
  } catch (const net::StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file.string()), std::string::npos) << what;
    EXPECT_NE(what.find("left as it is"), std::string::npos) << what;
    EXPECT_NE(what.find("--data-dir"), std::string::npos) << what;
  }
  std::ifstream in(file, std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(after, garbage) << "not a byte changed";
}

TEST(Store, AStoreFromANewerLanchatIsRefusedAndLeftAlone) {
  TempDir dir;
  StoreOptions o = file_in(dir);
  {
    net::StoreContents c;
    auto s = net::Store::open(o, c);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.file.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  const auto before = std::filesystem::file_size(o.file);
  net::StoreContents c;
  try {
    net::Store::open(o, c);
    FAIL() << "opened a newer store";
  } catch (const net::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer lanchat (store version 99"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(std::filesystem::file_size(o.file), before);
}

// Two hosts writing one room's store would give out the same ids and replace each other's
// messages. The second is refused, saying which process holds it; one that may wait (the
// window restarting its server) gets the store once the first has written its last batch.
TEST(Store, OneHostAtATimeAndTheNextGetsItOnceTheLastHasWrittenEverything) {
  TempDir dir;
  StoreOptions o = file_in(dir);
  o.lock_wait = 200ms;
  net::StoreContents c;
  auto first = net::Store::open(o, c);
  for (std::uint64_t id = 1; id <= 500; ++id) first->append({id, 1, "alice", "m", false});
  try {
    net::StoreContents c2;
    net::Store::open(o, c2);
    FAIL() << "opened a store another host holds";
  } catch (const net::StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("in use by another lanchat host (process " + std::to_string(::getpid())),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("--data-dir"), std::string::npos) << what;
  }
  o.lock_wait = 10s;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    first.reset();  // writes the 500, then lets go
  });
  net::StoreContents c2;
  auto second = net::Store::open(o, c2);
  stopper.join();
  EXPECT_EQ(c2.last_id, 500u);
  EXPECT_EQ(c2.count, 500u);
}

// A wait for another host's store can be given up (the window left, Ctrl-C): keep_waiting
// is asked while waiting, with the holder's process number, and its no ends the wait.
TEST(Store, AWaitForAnotherHostsStoreEndsWhenItsAskerSaysSo) {
  TempDir dir;
  StoreOptions o = file_in(dir);
  net::StoreContents c;
  auto first = net::Store::open(o, c);
  first->append({1, 1, "alice", "m", false});

  o.lock_wait = 1h;  // only the asker can end this wait
  std::vector<long> holders;
  o.keep_waiting = [&](long holder) {
    holders.push_back(holder);
    return holders.size() < 3;
  };
  net::StoreContents c2;
  EXPECT_THROW(net::Store::open(o, c2), net::StoreCancelled);
  ASSERT_EQ(holders.size(), 3u);
  EXPECT_EQ(holders.front(), static_cast<long>(::getpid()));

  first.reset();
  holders.clear();
  auto second = net::Store::open(o, c2);  // free: nobody is asked
  EXPECT_TRUE(holders.empty());
  EXPECT_EQ(c2.last_id, 1u);
}

TEST(Store, AnotherProgramsSqliteFileIsNotMistakenForAStore) {
  TempDir dir;
  StoreOptions o = file_in(dir);
  std::filesystem::create_directories(o.file.parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.file.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE photos(id INTEGER); INSERT INTO photos VALUES (1)", nullptr,
               nullptr, nullptr);
  sqlite3_close(db);
  net::StoreContents c;
  EXPECT_THROW(net::Store::open(o, c), net::StoreError);
  EXPECT_EQ(count_rows(o.file), 0u) << "(no messages table was added)";
}

TEST(Store, RetentionKeepsTheNewestMessagesAndTheCountsFollow) {
  TempDir dir;
  StoreOptions o = file_in(dir);
  o.keep_messages = 50;
  std::vector<std::uint64_t> ids;
  {
    TestServer srv(without_rate_limits(), o);
    RawClient a(srv.port());
    a.join("alice");
    ids = say_all(a, 1, 200);
  }
  {
    TestServer srv(without_rate_limits(), o);  // retention runs as the store opens and every minute
    ASSERT_TRUE(eventually([&] { return count_rows(o.file) == 50; }));
    int n = 0;
    ASSERT_TRUE(eventually([&] {
      RawClient a(srv.port());
      const json w = a.join("reader" + std::to_string(++n));
      return w["history"].size() == 50 && w["more"] == false;
    })) << "the room forgets what the store let go of";
    RawClient a(srv.port());
    a.join("alice");
    a.send({{"type", "history"}, {"before", ids[160]}, {"limit", 500}});
    const auto page = a.recv_type("history");
    ASSERT_TRUE(page);
    EXPECT_EQ((*page)["msgs"].size(), 10u) << "ids 151 to 160 only";
    EXPECT_EQ((*page)["more"], false) << "nothing older than the 50 kept";
  }
}

TEST(Store, RetentionByAgeDropsTheOldMessagesFromAStoreAnEarlierBuildMade) {
  TempDir dir;
  StoreOptions o = file_in(dir);
  std::vector<std::uint64_t> ids;
  {
    TestServer srv(without_rate_limits(), o);
    RawClient a(srv.port());
    a.join("alice");
    ids = say_all(a, 1, 30);
  }
  ASSERT_EQ(ids.size(), 30u);
  {
    // The first 20 were said three days ago, and the file has the index on ts that builds
    // before 2026-12 made.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(o.file.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "CREATE INDEX messages_by_ts ON messages(ts); "
        "UPDATE messages SET ts = ts - 3 * 86400000 WHERE id <= " +
        std::to_string(ids[19]);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  o.keep_days = 1;
  TestServer srv(without_rate_limits(), o);
  ASSERT_TRUE(eventually([&] { return count_rows(o.file) == 10; }));
  EXPECT_EQ(read_number(o.file, "SELECT count(*) FROM sqlite_schema WHERE name = 'messages_by_ts'"),
            0u)
      << "the index every insert paid for is gone";
  int n = 0;
  json w;
  ASSERT_TRUE(eventually([&] {
    RawClient a(srv.port());
    w = a.join("reader" + std::to_string(++n));
    return w["history"].size() == 10;
  })) << "the room forgets what the store let go of";
  EXPECT_EQ(texts(w["history"]).front(), "m21");
  EXPECT_EQ(texts(w["history"]).back(), "m30");
  RawClient a(srv.port());
  a.join("alice");
  a.send({{"type", "search"}, {"text", "m25"}, {"limit", 10}});
  const auto found = a.recv_type("found");
  ASSERT_TRUE(found);
  ASSERT_EQ((*found)["msgs"].size(), 1u) << "search still works on the older store";
  EXPECT_EQ((*found)["msgs"][0]["text"], "m25");
}

TEST(Store, BansArePutRemovedAndStillThereAfterAReopen) {
  TempDir dir;
  StoreOptions o = file_in(dir);
  {
    net::StoreContents c;
    auto s = net::Store::open(o, c);
    EXPECT_TRUE(c.created);
    s->put_ban({"10.0.0.7", 0, "mallory", "spam", 1});
    s->put_ban({"10.0.0.8", 1, "expired", "old", 1});  // ended long ago
    s->put_ban({"10.0.0.9", 0, "eve", "x", 1});
    s->remove_ban("10.0.0.9");
  }
  net::StoreContents c;
  auto s = net::Store::open(o, c);
  EXPECT_FALSE(c.created);
  ASSERT_EQ(c.bans.size(), 1u);
  EXPECT_EQ(c.bans[0].address, "10.0.0.7");
  EXPECT_EQ(c.bans[0].nick, "mallory");
}
