// Codec and validation rules of protocol v1 (docs/PROTOCOL.md), without sockets.
#include "net/protocol.hpp"

#include <gtest/gtest.h>

#include "net/nick.hpp"

using namespace lanchat::proto;
using nlohmann::json;

namespace {

std::string code_of(const Decoded<ClientMessage>& d) {
  if (auto* e = std::get_if<Error>(&d)) return e->code;
  return "ok";
}

std::string hello(const std::string& nick) {
  return json{{"type", "hello"}, {"nick", nick}, {"proto", 1}}.dump();
}
std::string say(const std::string& text) {
  return json{{"type", "say"}, {"text", text}}.dump();
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST(Decode, AcceptsEachClientType) {
  auto h = decode_client(R"({"type":"hello","nick":"bob","proto":1,"password":"pw"})");
  ASSERT_TRUE(std::holds_alternative<ClientMessage>(h));
  const auto& hm = std::get<Hello>(std::get<ClientMessage>(h));
  EXPECT_EQ(hm.nick, "bob");
  EXPECT_EQ(hm.password.value(), "pw");
  EXPECT_EQ(code_of(decode_client(R"({"type":"say","text":"hi"})")), "ok");
  EXPECT_EQ(code_of(decode_client(R"({"type":"ping","id":7})")), "ok");
  EXPECT_EQ(code_of(decode_client(R"({"type":"bye"})")), "ok");
}

TEST(Decode, ToleratesCarriageReturnAndIgnoresUnknownFields) {
  EXPECT_EQ(code_of(decode_client("{\"type\":\"bye\"}\r")), "ok");
  auto d = decode_client(R"({"type":"say","text":"hi","colour":"red","extra":{"x":[1]}})");
  ASSERT_EQ(code_of(d), "ok");
  EXPECT_EQ(std::get<Say>(std::get<ClientMessage>(d)).text, "hi");
}

TEST(Decode, InvalidJsonOrUtf8IsBadJson) {
  EXPECT_EQ(code_of(decode_client("not json")), "bad_json");
  EXPECT_EQ(code_of(decode_client(R"({"type":"say","text":"hi")")), "bad_json");
  EXPECT_EQ(code_of(decode_client("{\"type\":\"say\",\"text\":\"\xff\xfe\"}")), "bad_json");
  EXPECT_EQ(code_of(decode_client("{\"type\":\"say\",\"text\":\"\xc0\xaf\"}")),
            "bad_json");  // overlong
  EXPECT_EQ(code_of(decode_client("{\"type\":\"say\",\"text\":\"\xed\xa0\x80\"}")),
            "bad_json");  // surrogate
}

TEST(Decode, DeepNestingIsRefusedNotRecursedInto) {
  const std::string deep =
      R"({"type":"ping","id":)" + repeat("[", 30000) + repeat("]", 30000) + "}";
  EXPECT_EQ(code_of(decode_client(deep)), "bad_json");
  const std::string ok = R"({"type":"ping","id":)" + repeat("[", 20) + repeat("]", 20) + "}";
  EXPECT_EQ(code_of(decode_client(ok)), "ok");
}

TEST(Decode, NonObjectOrMissingTypeIsBadMessage) {
  EXPECT_EQ(code_of(decode_client("[1,2]")), "bad_message");
  EXPECT_EQ(code_of(decode_client("42")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"("hello")")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"nick":"bob"})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"type":5})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"type":null})")), "bad_message");
}

TEST(Decode, TypesAreCaseSensitive) {
  EXPECT_EQ(code_of(decode_client(R"({"type":"SAY","text":"hi"})")), "unknown_type");
  EXPECT_EQ(code_of(decode_client(R"({"type":"Hello","nick":"a","proto":1})")), "unknown_type");
  EXPECT_EQ(code_of(decode_client(R"({"type":"kick","nick":"a"})")), "unknown_type");
}

TEST(Decode, HelloNeedsProtocolOne) {
  EXPECT_EQ(code_of(decode_client(R"({"type":"hello","nick":"bob"})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"type":"hello","nick":"bob","proto":2})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"type":"hello","nick":"bob","proto":"1"})")), "bad_message");
}

TEST(Nick, LengthCountsCodePoints) {
  EXPECT_EQ(code_of(decode_client(hello(""))), "bad_nick");
  EXPECT_EQ(code_of(decode_client(hello(repeat("a", 24)))), "ok");
  EXPECT_EQ(code_of(decode_client(hello(repeat("a", 25)))), "bad_nick");
  EXPECT_EQ(code_of(decode_client(hello(repeat("è", 24)))), "ok");  // 48 bytes, 24 points
  EXPECT_EQ(code_of(decode_client(hello(repeat("è", 25)))), "bad_nick");
  EXPECT_EQ(code_of(decode_client(R"({"type":"hello","nick":42,"proto":1})")), "bad_nick");
}

TEST(Nick, NoWhitespaceControlOrInvisibleCharacters) {
  for (const char* bad : {"a b", "a\tb", "a\nb",
                          "a\xc2\xa0"
                          "b",
                          "a\xe3\x80\x80"
                          "b",
                          "a\x01"
                          "b",
                          "a\x7f"
                          "b",
                          "a\xc2\x85"
                          "b",
                          "a\xe2\x80\x8b"
                          "b"}) {
    EXPECT_EQ(code_of(decode_client(hello(bad))), "bad_nick") << bad;
  }
  EXPECT_EQ(code_of(decode_client(hello("Niccolò"))), "ok");
  EXPECT_EQ(code_of(decode_client(hello("Łódź"))), "ok");
  EXPECT_EQ(code_of(decode_client(hello("日本"))), "ok");
}

// Nicks collide when people would read them as the same (net/nick.hpp).
TEST(Nick, LookAlikesCollideAcrossCaseWidthAndScripts) {
  using lanchat::nick::keys_of;
  using lanchat::nick::look_alike;
  auto same = [](const char* a, const char* b) { return look_alike(keys_of(a), keys_of(b)); };
  EXPECT_TRUE(same("Bob", "bOB"));
  EXPECT_TRUE(same("NICCOLÒ", "niccolò"));
  EXPECT_TRUE(same("ŁÓDŹ", "łódź"));
  EXPECT_TRUE(same("ΣΟΦΊΑ", "σοφία"));
  EXPECT_TRUE(same("ИВАН", "иван"));
  EXPECT_TRUE(same("Straße", "STRASSE"));
  EXPECT_TRUE(same("\u0430lice", "alice")) << "Cyrillic а reads as Latin a";
  EXPECT_TRUE(same("ＡＬＩＣＥ", "alice")) << "full-width letters";
  EXPECT_TRUE(same("BiII", "Bill")) << "capital I reads as l";
  EXPECT_TRUE(same("b0b", "bob"));
  EXPECT_FALSE(same("bob", "bob2"));
  EXPECT_FALSE(same("alice", "alicia"));
  EXPECT_FALSE(same("Zoë", "Zoe")) << "a diacritic is a different letter";
}

TEST(Nick, ReservedNamesAndTheirLookAlikesAreRefused) {
  for (const char* n :
       {"admin", "Admin", "ADMIN", "ＡＤＭＩＮ", "\u0430dmin", "Server", "SYSTEM"}) {
    auto why = check_nick(n);
    ASSERT_TRUE(why.has_value()) << n;
    EXPECT_NE(why->find("reserved"), std::string::npos) << *why;
  }
  // Real names in many scripts stay welcome.
  for (const char* n : {"Niccolò", "Jürgen", "Αλέξης", "Дмитрий", "王小明", "さくら", "admin2"}) {
    EXPECT_FALSE(check_nick(n).has_value()) << n;
  }
}

TEST(Text, LengthWhitespaceAndNewlines) {
  EXPECT_EQ(code_of(decode_client(say(""))), "bad_text");
  EXPECT_EQ(code_of(decode_client(say("   \n\t "))), "bad_text");
  EXPECT_EQ(code_of(decode_client(say("line one\nline two"))), "ok");
  EXPECT_EQ(code_of(decode_client(say(repeat("x", 4000)))), "ok");
  EXPECT_EQ(code_of(decode_client(say(repeat("x", 4001)))), "bad_text");
  EXPECT_EQ(code_of(decode_client(say(repeat("€", 4000)))), "ok");  // 12,000 bytes
  EXPECT_EQ(code_of(decode_client(say(repeat("€", 4001)))), "bad_text");
  EXPECT_EQ(code_of(decode_client(R"({"type":"say"})")), "bad_text");
  EXPECT_EQ(code_of(decode_client(R"({"type":"say","text":["hi"]})")), "bad_text");
}

TEST(Text, TerminalEscapesAreRefused) {
  EXPECT_EQ(code_of(decode_client(say("red \x1b[31m alert"))), "bad_text");
  EXPECT_EQ(code_of(decode_client(say("bell\x07"))), "bad_text");
}

TEST(Ping, IdIsKeptExactly) {
  for (const char* id : {"1", "\"abc\"", "null", "[1,{\"a\":[true,false]}]", "1.5", "-3",
                         "{\"nested\":{\"x\":\"è\"}}"}) {
    auto d = decode_client(std::string(R"({"type":"ping","id":)") + id + "}");
    ASSERT_EQ(code_of(d), "ok") << id;
    const auto& p = std::get<Ping>(std::get<ClientMessage>(d));
    const std::string line = encode(Pong{p.id});
    auto back = decode_server(line);
    ASSERT_TRUE(std::holds_alternative<ServerMessage>(back));
    EXPECT_EQ(std::get<Pong>(std::get<ServerMessage>(back)).id, json::parse(id)) << line;
  }
}

TEST(Encode, EveryServerMessageRoundTrips) {
  ChatMsg m{42, "bob", "hi\nthere €", 1700000000123};
  auto d = decode_server(encode(m));
  const auto& back = std::get<ChatMsg>(std::get<ServerMessage>(d));
  EXPECT_EQ(back.id, 42u);
  EXPECT_EQ(back.from, "bob");
  EXPECT_EQ(back.text, "hi\nthere €");
  EXPECT_EQ(back.ts, 1700000000123);

  auto l =
      std::get<Leave>(std::get<ServerMessage>(decode_server(encode(Leave{"a", "too_slow", 5}))));
  EXPECT_EQ(l.reason, "too_slow");
  auto j = std::get<Join>(std::get<ServerMessage>(decode_server(encode(Join{"carol", 9}))));
  EXPECT_EQ(j.nick, "carol");
  auto e =
      std::get<Error>(std::get<ServerMessage>(decode_server(encode(Error{"nick_taken", "x"}))));
  EXPECT_EQ(e.code, "nick_taken");
  auto s = std::get<Shutdown>(std::get<ServerMessage>(decode_server(encode(Shutdown{"bye all"}))));
  EXPECT_EQ(s.reason, "bye all");
}

TEST(Encode, LinesEndWithOneNewlineAndStartWithType) {
  const std::string line = encode(Say{"a\nb"});
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a newline inside text must be escaped";
  EXPECT_EQ(line.rfind("{\"type\":\"say\"", 0), 0u);
}

TEST(Encode, WelcomeSplicesHistoryInOrder) {
  Welcome w{
      "bob",  "room",  1, {"alice", "bob"}, {{1, "alice", "one", 10}, {2, "alice", "two", 20}},
      "r00m", "s3cret"};
  const std::string line = encode(w);
  ASSERT_TRUE(json::accept(line));
  auto back = std::get<Welcome>(std::get<ServerMessage>(decode_server(line)));
  EXPECT_EQ(back.nick, "bob");
  EXPECT_EQ(back.server, "room");
  EXPECT_EQ(back.proto, 1);
  EXPECT_EQ(back.users, (std::vector<std::string>{"alice", "bob"}));
  ASSERT_EQ(back.history.size(), 2u);
  EXPECT_EQ(back.history[0].text, "one");
  EXPECT_EQ(back.history[1].id, 2u);
  EXPECT_EQ(back.room_id, "r00m");
  EXPECT_EQ(back.reclaim, "s3cret");
}

// The hot encoders write JSON directly; they must produce exactly what nlohmann would.
TEST(Encode, DirectEncodersMatchNlohmannByteForByte) {
  const std::vector<std::string> strings = {
      "",
      "plain",
      "quote \" and backslash \\",
      "new\nline\ttab\rcr\bbs\fff",
      std::string("nul \0 and \x01\x1f", sizeof "nul \0 and \x01\x1f" - 1),
      "del \x7f stays",
      "€ ñ 日本 😀",
      "</script> & 'single'",
      std::string(300, 'x')};
  for (const auto& s : strings) {
    nlohmann::ordered_json msg{
        {"type", "msg"}, {"id", 18446744073709551615ull}, {"from", s}, {"text", s}, {"ts", -5}};
    EXPECT_EQ(encode(ChatMsg{18446744073709551615ull, s, s, -5}), msg.dump() + "\n");
    nlohmann::ordered_json join{{"type", "join"}, {"nick", s}, {"ts", 7}};
    EXPECT_EQ(encode(Join{s, 7}), join.dump() + "\n");
    nlohmann::ordered_json leave{{"type", "leave"}, {"nick", s}, {"reason", "quit"}, {"ts", 8}};
    EXPECT_EQ(encode(Leave{s, "quit", 8}), leave.dump() + "\n");
    nlohmann::ordered_json welcome{
        {"type", "welcome"}, {"nick", s},      {"server", s},       {"proto", 1},
        {"room_id", "id1"},  {"reclaim", "r"}, {"users", {s, "b"}}, {"history", json::array()},
        {"more", false}};
    EXPECT_EQ(encode(Welcome{s, s, 1, {s, "b"}, {}, "id1", "r"}), welcome.dump() + "\n");
  }
}

TEST(Encode, InvalidUtf8BecomesReplacementCharacterNotBrokenJson) {
  std::string out;
  append_json_string(out, "room \xff\xfe");
  EXPECT_TRUE(json::accept(out)) << out;
  EXPECT_EQ(json::parse(out).get<std::string>(), "room \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Decode, InvalidUtf8InsideAStringIsStillBadJsonWithItsReason) {
  auto d = decode_client("{\"type\":\"say\",\"text\":\"a\xc3\x28\"}");
  ASSERT_TRUE(std::holds_alternative<Error>(d));
  EXPECT_EQ(std::get<Error>(d).code, "bad_json");
  EXPECT_NE(std::get<Error>(d).message.find("UTF-8"), std::string::npos);
}

// decode_client reads most lines without building a document and falls back to one for
// pings and nested fields; both paths must agree on every rule.
TEST(Decode, FastAndDocumentPathsAgree) {
  auto say_text = [](std::string_view line) {
    auto d = decode_client(line);
    if (auto* e = std::get_if<Error>(&d)) return "error " + e->code + ": " + e->message;
    return "say " + std::get<Say>(std::get<ClientMessage>(d)).text;
  };
  EXPECT_EQ(say_text(R"({"type":"say","text":"a","extra":{"x":[1,{"y":2}]}})"), "say a");
  EXPECT_EQ(say_text(R"({"extra":[[[]]],"text":"b","type":"say"})"), "say b");
  EXPECT_EQ(say_text(R"({"type":"say","text":"first","text":"last"})"), "say last");
  EXPECT_EQ(say_text(R"({"type":"say","text":["nested"]})"),
            "error bad_text: say needs a string \"text\"");
  EXPECT_EQ(say_text(R"({"type":"say","text":7})"), "error bad_text: say needs a string \"text\"");
  EXPECT_EQ(say_text(R"({"type":{"nested":"say"},"text":"x"})"),
            "error bad_message: message needs a string field \"type\"");
  EXPECT_EQ(say_text(R"({"type":"say","type":5,"text":"x"})"),
            "error bad_message: message needs a string field \"type\"");
  EXPECT_EQ(say_text(R"(["type","say"])"), "error bad_message: message must be a JSON object");
  EXPECT_EQ(say_text(R"("say")"), "error bad_message: message must be a JSON object");
  EXPECT_EQ(say_text(R"({"type":"say","text":"x"} trailing)"),
            "error bad_json: line is not valid JSON");

  auto hello = decode_client(R"({"type":"hello","nick":"bob","proto":[1]})");
  ASSERT_TRUE(std::holds_alternative<Error>(hello));
  EXPECT_EQ(std::get<Error>(hello).message, "hello needs \"proto\": 1");
  auto v2 = decode_client(R"({"type":"hello","nick":"bob","proto":1.5})");
  ASSERT_TRUE(std::holds_alternative<Error>(v2));
  EXPECT_EQ(std::get<Error>(v2).message, "unsupported protocol version 1.5; this server speaks 1");
  auto pw = decode_client(R"({"type":"hello","nick":"bob","proto":1,"password":{"a":1}})");
  ASSERT_TRUE(std::holds_alternative<Error>(pw));
  EXPECT_EQ(std::get<Error>(pw).code, "bad_password");
  auto ok = decode_client(R"({"type":"hello","nick":"bob","proto":1,"password":null,"x":{}})");
  ASSERT_TRUE(std::holds_alternative<ClientMessage>(ok));
  EXPECT_FALSE(std::get<Hello>(std::get<ClientMessage>(ok)).password.has_value());

  auto ping = decode_client(R"({"type":"ping","id":{"seq":[1,2,{"k":null}]}})");
  ASSERT_TRUE(std::holds_alternative<ClientMessage>(ping));
  EXPECT_EQ(std::get<Ping>(std::get<ClientMessage>(ping)).id,
            json::parse(R"({"seq":[1,2,{"k":null}]})"));
  std::string deep_in_extra =
      R"({"type":"say","text":"x","e":)" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_EQ(say_text(deep_in_extra), "error bad_json: JSON nested deeper than 32 levels");
}

TEST(LargeRooms, HelloSummariesMustBeABooleanAndMembersRequestsAreChecked) {
  auto h = decode_client(R"({"type":"hello","nick":"bob","proto":1,"summaries":true})");
  ASSERT_EQ(code_of(h), "ok");
  EXPECT_TRUE(std::get<Hello>(std::get<ClientMessage>(h)).summaries);
  auto plain = decode_client(R"({"type":"hello","nick":"bob","proto":1})");
  EXPECT_FALSE(std::get<Hello>(std::get<ClientMessage>(plain)).summaries);
  EXPECT_EQ(code_of(decode_client(R"({"type":"hello","nick":"bob","proto":1,"summaries":"yes"})")),
            "bad_message");

  auto m = decode_client(R"({"type":"members","offset":1000,"limit":1000,"match":"ali","ref":3})");
  ASSERT_EQ(code_of(m), "ok");
  const auto& r = std::get<MembersRequest>(std::get<ClientMessage>(m));
  EXPECT_EQ(r.offset, 1000u);
  EXPECT_EQ(r.limit, 1000u);
  EXPECT_EQ(r.match, "ali");
  EXPECT_EQ(r.ref, 3);
  const auto d =
      std::get<MembersRequest>(std::get<ClientMessage>(decode_client(R"({"type":"members"})")));
  EXPECT_EQ(d.offset, 0u);
  EXPECT_EQ(d.limit, kDefaultMembersPage);
  EXPECT_EQ(code_of(decode_client(R"({"type":"members","limit":1001})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"type":"members","limit":0})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"type":"members","offset":-1})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(R"({"type":"members","match":7})")), "bad_message");
  EXPECT_EQ(code_of(decode_client(json{{"type", "members"}, {"match", repeat("a", 25)}}.dump())),
            "bad_message");
}

TEST(LargeRooms, PresenceMembersAndAPartialWelcomeRoundTrip) {
  Presence p{10000, 3, 1, true, {"carol", "Jürgen"}, {{"dave", "quit"}}, 1700000000123};
  const std::string line = encode(p);
  EXPECT_EQ(
      line,
      R"({"type":"presence","members":10000,"joins":3,"leaves":1,"joined":["carol","Jürgen"],)"
      R"("left":[{"nick":"dave","reason":"quit"}],"ts":1700000000123})"
      "\n");
  auto back = std::get<Presence>(std::get<ServerMessage>(decode_server(line)));
  EXPECT_TRUE(back.listed);
  EXPECT_EQ(back.members, 10000u);
  EXPECT_EQ(back.joined, (std::vector<std::string>{"carol", "Jürgen"}));
  ASSERT_EQ(back.left.size(), 1u);
  EXPECT_EQ(back.left[0].reason, "quit");

  Presence counts{10000, 523, 10, false, {}, {}, 5};
  EXPECT_EQ(encode(counts),
            "{\"type\":\"presence\",\"members\":10000,\"joins\":523,\"leaves\":10,\"ts\":5}\n");
  EXPECT_FALSE(std::get<Presence>(std::get<ServerMessage>(decode_server(encode(counts)))).listed);

  MembersPage page{10000, 1000, {"u1000", "u1001"}, true, "m"};
  auto pb = std::get<MembersPage>(std::get<ServerMessage>(decode_server(encode(page))));
  EXPECT_EQ(pb.members, 10000u);
  EXPECT_EQ(pb.offset, 1000u);
  EXPECT_EQ(pb.users, page.users);
  EXPECT_TRUE(pb.more);
  EXPECT_EQ(pb.ref, "m");

  Welcome w{"bob", "Aula 3", 1, {"alice", "bob"}, {}};
  EXPECT_FALSE(std::get<Welcome>(std::get<ServerMessage>(decode_server(encode(w)))).members);
  w.members = 10000;
  const std::string wl = encode(w);
  EXPECT_NE(wl.find(R"("users":["alice","bob"],"members":10000,)"), std::string::npos) << wl;
  EXPECT_EQ(std::get<Welcome>(std::get<ServerMessage>(decode_server(wl))).members, 10000u);
}

// The server reads say lines with simdjson where it can (ClientDecoder); whatever it takes
// that way must be read exactly as decode_client reads it, and what it cannot be sure of
// must go to decode_client.
TEST(Decode, SimdjsonSayPathTakesPlainSaysAndAgreesOnEverything) {
  ClientDecoder decoder;
  const std::vector<std::string> plain = {
      R"({"type":"say","text":"hi"})",
      R"({"text":"order does not matter","type":"say"})",
      "{\"type\":\"say\",\"text\":\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"}\r",
      R"({"type":"say","text":"caf\u00e9 \ud83d\ude00 \"quoted\" back\\slash\nnew line"})",
      R"({"type":"say","text":"waves","action":true,"ref":"m-7"})",
      R"({"type":"say","text":"psst","to":"bob","ref":42})",
      R"({"type":"say","text":"x","ref":-3})",
      // A label too long to echo is dropped by both, not refused.
      R"({"type":"say","text":"x","ref":")" + std::string(kMaxTokenBytes + 1, 'r') + R"("})",
      R"( { "type" : "say" , "text" : "spaced" } )",
      R"({"t\u0079pe":"say","text":"escaped key"})",
      // Refused by the say rules, with the label on the error.
      R"({"type":"say","text":"   ","ref":"r1"})",
      R"({"type":"say","text":"\u001b[2J","ref":9})",
      R"({"type":"say","text":"x","to":""})",
      R"({"type":"say","text":"x","to":"no spaces please"})",
  };
  for (const auto& line : plain) {
    SCOPED_TRACE(line);
    auto fast = decoder.decode_fast(line);
    ASSERT_TRUE(fast.has_value());
    EXPECT_TRUE(*fast == decode_client(line));
  }
  const std::vector<std::string> other = {
      R"({"type":"hello","nick":"bob","proto":1})",
      R"({"type":"ping","id":1})",
      R"({"type":"say","text":"x","colour":"red"})",
      R"({"type":"say","text":"first","text":"last"})",
      R"({"type":"say","text":"x","action":1})",
      R"({"type":"say","text":"x","to":null})",
      R"({"type":"say","text":"x","ref":1.5})",
      R"({"type":"say","text":"x","ref":18446744073709551616})",
      R"({"type":"say","text":"x","ref":")" + std::string(65, 'r') + R"("})",
      R"({"type":"say","text":"x"} trailing)",
      R"({"type":"say","text":"x"}})",
      R"({"type":"say","text":"x",})",
      R"({"type":"say","text":"lone \ud800 surrogate"})",
      "{\"type\":\"say\",\"text\":\"raw\ttab\"}",
      "{\"type\":\"say\",\"text\":\"\xff\xfe\"}",
      "{\"type\":\"say\",\"text\":\"\xed\xa0\x80\"}",
      R"({"type":"say"})",
      R"({"type":"say","text":7})",
      R"(["type","say"])",
      "",
      "not json",
  };
  for (const auto& line : other) {
    SCOPED_TRACE(line);
    auto fast = decoder.decode_fast(line);
    if (fast) {
      EXPECT_TRUE(*fast == decode_client(line));
    }
    EXPECT_TRUE(decoder.decode(line) == decode_client(line));
  }
  // Lines that need the slow path's judgement never take the fast one.
  EXPECT_FALSE(decoder.decode_fast(R"({"type":"say","text":"first","text":"last"})"));
  EXPECT_FALSE(decoder.decode_fast(R"({"type":"say","text":"lone \ud800 surrogate"})"));
  EXPECT_FALSE(decoder.decode_fast("{\"type\":\"say\",\"text\":\"raw\ttab\"}"));
  // A long line after short ones: the decoder's buffer grows.
  const std::string long_say = say(std::string(3000, 'z'));
  auto fast = decoder.decode_fast(long_say);
  ASSERT_TRUE(fast.has_value());
  EXPECT_TRUE(*fast == decode_client(long_say));
}
