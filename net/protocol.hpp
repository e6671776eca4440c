#pragma once
// Protocol v1: the only place that knows the wire format. docs/PROTOCOL.md is the
// human-readable contract; every rule there is enforced here (decode + validate) or in
// server.cpp (state rules such as not_joined), and has a test.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lanchat::proto {

inline constexpr int kVersion = 1;
inline constexpr std::uint16_t kDefaultPort = 5555;
// Longest line a server accepts, counting its "\n".
inline constexpr std::size_t kMaxLineBytes = 65536;
// Longest line a client accepts: a welcome carries up to 100 messages of 4000 code points.
inline constexpr std::size_t kMaxServerLineBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxNickCodePoints = 24;
inline constexpr std::size_t kMaxTextCodePoints = 4000;
inline constexpr std::size_t kHistorySize = 100;
// A ping id is echoed back; one that encodes to more than this is refused (bad_message).
inline constexpr std::size_t kMaxPingIdBytes = 1024;
// Longest room_id / reclaim value a server reads (both are opaque strings it issued), and
// longest `ref` (a client's own label for a request, echoed in the reply).
inline constexpr std::size_t kMaxTokenBytes = 64;
// History: what a welcome carries (kHistorySize, or on resume up to kMaxResume), and what
// one `history` request may ask for.
inline constexpr std::size_t kMaxResume = 1000;
inline constexpr std::size_t kMaxHistoryPage = 500;
inline constexpr std::size_t kDefaultHistoryPage = 100;
inline constexpr std::size_t kMaxSearchResults = 200;
inline constexpr std::size_t kDefaultSearchResults = 50;
inline constexpr std::size_t kMaxSearchCodePoints = 200;
// Large rooms (see docs/PROTOCOL.md, "Large rooms"): one `members` page holds at most this
// many nicks, and a summary lists names only while it holds at most kMaxListedChanges.
inline constexpr std::size_t kMaxMembersPage = 1000;
inline constexpr std::size_t kDefaultMembersPage = 500;
inline constexpr std::size_t kMaxListedChanges = 100;
// Deeper JSON is refused (bad_json) so that echoing a ping id can never recurse deeply.
inline constexpr int kMaxJsonDepth = 32;

// Error codes, as sent on the wire.
namespace err {
inline constexpr std::string_view bad_json = "bad_json";
inline constexpr std::string_view bad_message = "bad_message";
inline constexpr std::string_view unknown_type = "unknown_type";
inline constexpr std::string_view not_joined = "not_joined";
inline constexpr std::string_view already_joined = "already_joined";
inline constexpr std::string_view bad_nick = "bad_nick";
inline constexpr std::string_view nick_taken = "nick_taken";
inline constexpr std::string_view bad_text = "bad_text";
inline constexpr std::string_view too_long = "too_long";
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view server_full = "server_full";
inline constexpr std::string_view bad_password = "bad_password";
inline constexpr std::string_view hello_timeout = "hello_timeout";
inline constexpr std::string_view no_such_nick = "no_such_nick";
inline constexpr std::string_view muted = "muted";
inline constexpr std::string_view banned = "banned";
inline constexpr std::string_view tls_required = "tls_required";
inline constexpr std::string_view tls_unavailable = "tls_unavailable";
}  // namespace err

// Leave reasons, as sent on the wire.
namespace reason {
inline constexpr std::string_view quit = "quit";
inline constexpr std::string_view disconnect = "disconnect";
inline constexpr std::string_view kicked = "kicked";
inline constexpr std::string_view too_slow = "too_slow";
inline constexpr std::string_view timeout = "timeout";
}  // namespace reason

// ---- client -> server ----
struct Hello {
  std::string nick;
  int proto = kVersion;
  std::optional<std::string> password;
  // The secret a previous welcome gave this nick: a connection still holding the nick
  // (the server has not noticed it died yet) is replaced instead of refused.
  std::optional<std::string> reclaim = std::nullopt;
  // Resume: the room this client was in and the last message id it saw there.
  std::optional<std::string> room_id = std::nullopt;
  std::optional<std::uint64_t> last_id = std::nullopt;
  nlohmann::json ref = nullptr;
  // The client understands large rooms: `presence` summaries instead of each join and
  // leave, and a welcome whose `users` may be only the first part of the list.
  bool summaries = false;
  bool operator==(const Hello&) const = default;
};
struct Say {
  std::string text;
  nlohmann::json ref = nullptr;  // the client's label, echoed in an error about it
  std::string to{};              // a direct message to this nick (empty: the room)
  bool action = false;           // "/me waves": shown as "* alice waves"
  bool operator==(const Say&) const = default;
};
// Change nick.
struct NickChange {
  std::string nick;
  nlohmann::json ref = nullptr;
  bool operator==(const NickChange&) const = default;
};
// Older messages: those with id < before (before = 0: the newest), oldest first.
struct HistoryRequest {
  std::uint64_t before = 0;
  std::size_t limit = kDefaultHistoryPage;
  nlohmann::json ref = nullptr;
  bool operator==(const HistoryRequest&) const = default;
};
struct Search {
  std::string text;
  std::size_t limit = kDefaultSearchResults;
  nlohmann::json ref = nullptr;
  bool operator==(const Search&) const = default;
};
struct Ping {
  nlohmann::json id;
  bool operator==(const Ping&) const = default;
};
struct Bye {
  bool operator==(const Bye&) const = default;
};
// A page of the member list, in join order: the members from `offset` on (of those whose
// nick contains `match`, folded as nicks are compared, if it is given).
struct MembersRequest {
  std::size_t offset = 0;
  std::size_t limit = kDefaultMembersPage;
  std::string match{};
  nlohmann::json ref = nullptr;
  bool operator==(const MembersRequest&) const = default;
};
using ClientMessage =
    std::variant<Hello, Say, Ping, Bye, HistoryRequest, Search, NickChange, MembersRequest>;

// ---- server -> client ----
struct ChatMsg {
  std::uint64_t id = 0;
  std::string from;
  std::string text;
  std::int64_t ts = 0;  // ms since the Unix epoch
  std::string to{};     // a direct message: to this nick, seen only by the two of them
  bool action = false;  // "* alice waves"
};
struct Welcome {
  std::string nick;
  std::string server;
  int proto = kVersion;
  std::vector<std::string> users;
  std::vector<ChatMsg> history;
  // Message ids are comparable exactly as long as this stays the same.
  std::string room_id{};
  std::string reclaim{};  // see Hello::reclaim; empty if the server gave none
  bool more = false;      // older messages exist than the first one in history
  // Set when `users` is only the first part of the list (a large room, to a client that
  // asked for summaries): how many are in the room.
  std::optional<std::size_t> members = std::nullopt;
};
struct Join {
  std::string nick;
  std::int64_t ts = 0;
};
struct Leave {
  std::string nick;
  std::string reason;
  std::int64_t ts = 0;
  std::string message{};  // why, in the host's words (kicks)
};
// Someone changed nick.
struct NickChanged {
  std::string old_nick;
  std::string new_nick;
  std::int64_t ts = 0;
};
// Something the server says to the room (a member muted, unmuted, banned).
struct Notice {
  std::string text;
  std::int64_t ts = 0;
};
// In a large room, the joins and leaves since the last summary, to clients that asked for
// summaries (instead of each join and leave). listed: `joined` and `left` hold every change
// (apply `left`, then `joined`); otherwise there were too many to list and only the counts
// say what happened: a client that shows the list fetches it again with `members`.
struct Presence {
  std::size_t members = 0;  // in the room after these changes
  std::size_t joins = 0;
  std::size_t leaves = 0;
  bool listed = true;
  std::vector<std::string> joined{};
  struct Left {
    std::string nick;
    std::string reason;
  };
  std::vector<Left> left{};
  std::int64_t ts = 0;
};
// The answer to a MembersRequest.
struct MembersPage {
  std::size_t members = 0;  // in the room
  std::size_t offset = 0;
  std::vector<std::string> users{};
  bool more = false;  // more (matching) members after this page
  nlohmann::json ref = nullptr;
};
struct Pong {
  nlohmann::json id;
};
struct Error {
  std::string code;
  std::string message;
  nlohmann::json ref = nullptr;  // the `ref` of the request it answers, if it had one
  bool operator==(const Error&) const = default;
};
// The answer to a HistoryRequest.
struct HistoryPage {
  std::vector<ChatMsg> msgs;  // oldest first
  bool more = false;          // older ones exist
  nlohmann::json ref = nullptr;
};
// The answer to a Search.
struct Found {
  std::string text;
  std::vector<ChatMsg> msgs;  // newest first
  nlohmann::json ref = nullptr;
};
struct Shutdown {
  std::string reason;
};
using ServerMessage = std::variant<Welcome, ChatMsg, Join, Leave, Pong, Error, Shutdown,
                                   HistoryPage, Found, NickChanged, Notice, Presence, MembersPage>;

// A decode either yields a message or the error the peer should be told about.
template <class T>
using Decoded = std::variant<T, Error>;

// Decode and validate one line (without its "\n"; a trailing "\r" is tolerated).
// Never throws, whatever the bytes.
Decoded<ClientMessage> decode_client(std::string_view line);
Decoded<ServerMessage> decode_server(std::string_view line);

// Reads client lines as decode_client does, faster for the line a busy room is made of: a
// `say` whose fields are all plain (text, to, action, and a ref that is a string or
// an integer, each at most once, nothing else) is read with simdjson's DOM parser
// into no nlohmann value. Every other line, and any line the fast path is not sure
// of, goes to decode_client, so the answer is the same for every line (the protocol
// fuzzer checks that). Holds the parser's buffers: one per thread that reads.
class ClientDecoder {
 public:
  ClientDecoder();
  ~ClientDecoder();
  ClientDecoder(const ClientDecoder&) = delete;
  ClientDecoder& operator=(const ClientDecoder&) = delete;

  Decoded<ClientMessage> decode(std::string_view line);
  // The fast path alone: nothing where it hands the line to decode_client.
  std::optional<Decoded<ClientMessage>> decode_fast(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The rules of a say, once its fields have the right JSON types (both decoders use it).
Decoded<ClientMessage> say_of(std::string text, std::optional<std::string> to, bool action);
// Puts a request's label where the answer will carry it: into the message, or the error.
// A ref that is neither an integer nor a string of at most kMaxTokenBytes is dropped.
void label(Decoded<ClientMessage>& decoded, nlohmann::json ref);

// Field rules, shared by the decoder, the server and the clients' own input checks.
// Each returns the human-readable reason the value is refused, or nothing if it is fine.
// check_nick_form: length and characters only; check_nick also refuses nicks that look
// like a reserved name (see net/nick.hpp), which the server checks where it compares.
std::optional<std::string> check_nick_form(std::string_view nick);
std::optional<std::string> check_nick(std::string_view nick);
std::optional<std::string> check_text(std::string_view text);

// ---- encoders: each returns one complete line, "\n" included ----
std::string encode(const Hello& m);
std::string encode(const Say& m);
std::string encode(const Ping& m);
std::string encode(const Bye& m);
std::string encode(const ChatMsg& m);
std::string encode(const Join& m);
std::string encode(const Leave& m);
std::string encode(const Pong& m);
std::string encode(const Error& m);
std::string encode(const HistoryRequest& m);
std::string encode(const NickChange& m);
std::string encode(const NickChanged& m);
std::string encode(const Notice& m);
std::string encode(const Search& m);
std::string encode(const HistoryPage& m);
std::string encode(const Found& m);
std::string encode(const Shutdown& m);
std::string encode(const Welcome& m);
std::string encode(const MembersRequest& m);
std::string encode(const Presence& m);
std::string encode(const MembersPage& m);
// The scalar fields of a welcome, for encode_welcome.
struct WelcomeHead {
  std::string_view nick;
  std::string_view server;
  std::string_view room_id;
  std::string_view reclaim;
  bool more = false;
  std::size_t members = 0;  // non-zero: `users` is partial and this many are in the room
};
// The server keeps history as already-encoded msg lines and the users array encoded (see
// encode_users, kept up to date as people join): a welcome in a room of thousands costs
// one copy of each, and nothing is decoded again.
std::string encode_welcome(const WelcomeHead& head, std::string_view users_array,
                           const std::vector<std::string_view>& history_lines);
// History pages and search results spliced from encoded msg lines, as the welcome is.
std::string encode_history(const std::vector<std::string_view>& msg_lines, bool more,
                           const nlohmann::json& ref);
std::string encode_found(std::string_view text, const std::vector<std::string_view>& msg_lines,
                         const nlohmann::json& ref);
// `["alice","bob"]`
std::string encode_users(const std::vector<std::string>& users);
// Appends s as a JSON string, quotes included (invalid UTF-8 becomes U+FFFD).
void append_json_string(std::string& out, std::string_view s);

}  // namespace lanchat::proto
