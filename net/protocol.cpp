#include "net/protocol.hpp"

#include <algorithm>
#include <charconv>

#include "net/log_text.hpp"
#include "net/nick.hpp"
#include "net/utf8.hpp"

namespace lanchat::proto {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

// Messages go out with "type" first so a person reading `nc` output sees it first.
std::string line_of(const ojson& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  s += '\n';
  return s;
}

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

Error too_deep_error() {
  return Error{std::string(err::bad_json),
               "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
}

Error not_json_error(std::string_view line) {
  // nlohmann refuses invalid UTF-8 too; checking only now keeps it off the hot path.
  if (!utf8::is_valid(line)) return Error{std::string(err::bad_json), "line is not valid UTF-8"};
  return Error{std::string(err::bad_json), "line is not valid JSON"};
}

// Parses a line into a JSON object with a string "type", or says why it is not one.
std::variant<json, Error> parse_object(std::string_view line) {
  line = strip_cr(line);
  // Nesting needs one '{' or '[' per level, so a line with few of them cannot be too deep
  // and skips the depth-checking callback parser, which is several times slower.
  const auto openers =
      std::count_if(line.begin(), line.end(), [](char c) { return c == '{' || c == '['; });
  bool too_deep = false;
  json j;
  if (openers <= kMaxJsonDepth) {
    j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  } else {
    const json::parser_callback_t limit_depth = [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) {
        too_deep = true;
        return false;
      }
      return true;
    };
    j = json::parse(line.begin(), line.end(), limit_depth, /*allow_exceptions=*/false);
  }
  if (too_deep) return too_deep_error();
  if (j.is_discarded()) return not_json_error(line);
  if (!j.is_object()) return Error{std::string(err::bad_message), "message must be a JSON object"};
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) {
    return Error{std::string(err::bad_message), "message needs a string field \"type\""};
  }
  return j;
}

const std::string* string_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Every directly built server line ends the same way: the timestamp, then the newline.
std::string finish_with_ts(std::string& s, std::int64_t ts) {
  s += R"(,"ts":)";
  append_int(s, ts);
  s += "}\n";
  return std::move(s);
}

template <class Int>
std::optional<Int> int_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<Int>();
}

}  // namespace

std::optional<std::string> check_nick_form(std::string_view nick) {
  if (!utf8::is_valid(nick)) return "nick is not valid UTF-8";
  const std::size_t n = utf8::length(nick);
  if (n == 0) return "nick is empty";
  if (n > kMaxNickCodePoints) {
    return "nick is " + std::to_string(n) + " characters long; the limit is " +
           std::to_string(kMaxNickCodePoints);
  }
  for (std::size_t i = 0; i < nick.size();) {
    const char32_t c = utf8::next(nick, i);
    if (utf8::is_space(c)) return "nick must not contain spaces";
    if (utf8::is_control(c)) return "nick must not contain control characters";
    if (utf8::is_invisible(c)) return "nick must not contain invisible characters";
  }
  return std::nullopt;
}

std::optional<std::string> check_nick(std::string_view nick) {
  if (auto why = check_nick_form(nick)) return why;
  if (auto r = lanchat::nick::reserved_lookalike(lanchat::nick::keys_of(nick))) {
    return "nick \"" + std::string(nick) + "\" looks like the reserved name \"" + std::string(*r) +
           "\"";
  }
  return std::nullopt;
}

std::optional<std::string> check_text(std::string_view text) {
  // Most chat is ASCII: one pass decides it without decoding code points.
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x80U; })) {
    if (text.empty()) return "text is empty";
    if (text.size() > kMaxTextCodePoints) {
      return "text is " + std::to_string(text.size()) + " characters long; the limit is " +
             std::to_string(kMaxTextCodePoints);
    }
    bool all_space = true;
    for (char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
        return "text must not contain control characters other than newline and tab";
      }
      if (c != ' ' && (c < 0x09 || c > 0x0D)) all_space = false;  // ASCII White_Space
    }
    if (all_space) return "text is only whitespace";
    return std::nullopt;
  }
  if (!utf8::is_valid(text)) return "text is not valid UTF-8";
  const std::size_t n = utf8::length(text);
  if (n == 0) return "text is empty";
  if (n > kMaxTextCodePoints) {
    return "text is " + std::to_string(n) + " characters long; the limit is " +
           std::to_string(kMaxTextCodePoints);
  }
  bool all_space = true;
  for (std::size_t i = 0; i < text.size();) {
    const char32_t c = utf8::next(text, i);
    // Newlines and tabs are text; other controls (escape sequences above all) could
    // repaint a terminal client, so they are refused rather than relayed.
    if (c != '\n' && c != '\t' && utf8::is_control(c)) {
      return "text must not contain control characters other than newline and tab";
    }
    if (!utf8::is_space(c)) all_space = false;
  }
  if (all_space) return "text is only whitespace";
  return std::nullopt;
}

namespace {

// The top-level fields a client message can have, each as its JSON value (null if absent).
struct ClientFields {
  json type, nick, proto, password, reclaim, room_id, last_id, text, id, ref, before, limit, to,
      action, summaries, offset, match;
  json* field(std::string_view key) {
    switch (key.size()) {
      case 2:
        return key == "id" ? &id : key == "to" ? &to : nullptr;
      case 3:
        return key == "ref" ? &ref : nullptr;
      case 4:
        return key == "type" ? &type : key == "nick" ? &nick : key == "text" ? &text : nullptr;
      case 5:
        return key == "proto"   ? &proto
               : key == "limit" ? &limit
               : key == "match" ? &match
                                : nullptr;
      case 6:
        return key == "before"   ? &before
               : key == "action" ? &action
               : key == "offset" ? &offset
                                 : nullptr;
      case 7:
        return key == "reclaim"   ? &reclaim
               : key == "room_id" ? &room_id
               : key == "last_id" ? &last_id
                                  : nullptr;
      case 8:
        return key == "password" ? &password : nullptr;
      case 9:
        return key == "summaries" ? &summaries : nullptr;
      default:
        return nullptr;
    }
  }
};

// Reads a client line in one pass with nlohmann's SAX parser, keeping only the top-level
// fields of ClientFields: no document is built for the rest, strings are moved out of the
// lexer, and nesting is counted as it goes. A known field whose value is an array or
// object (a ping's id) is built in place, so no line is ever parsed twice.
class FieldReader {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  ClientFields fields;
  bool top_is_object = false;
  bool too_deep = false;

  bool null() { return value(json()); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(number_integer_t v) { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) { return value(json(v)); }
  bool number_float(number_float_t v, const string_t&) { return value(json(v)); }
  bool string(string_t& v) { return value(json(std::move(v))); }
  bool binary(binary_t&) { return value(json()); }  // not produced by JSON text
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(string_t& k) {
    if (depth_ == 1) {
      current_ = fields.field(k);
    } else if (!building_.empty()) {
      key_ = std::move(k);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  // Where a value goes: into the container being built, or a top-level field's slot.
  json* place(json v) {
    if (!building_.empty()) {
      json& parent = *building_.back();
      if (parent.is_array()) {
        parent.push_back(std::move(v));
        return &parent.back();
      }
      json& slot = parent[key_];  // the last duplicate key wins, as in a document
      slot = std::move(v);
      return &slot;
    }
    if (depth_ == 1 && current_ != nullptr) {
      *current_ = std::move(v);  // the last one wins
      return current_;
    }
    return nullptr;
  }
  bool value(json v) {
    place(std::move(v));
    return true;
  }
  bool open(json container) {
    if (depth_ == 0) {
      top_is_object = container.is_object();
    } else if (json* built = place(std::move(container))) {
      building_.push_back(built);
    }
    if (++depth_ > kMaxJsonDepth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool close() {
    --depth_;
    if (!building_.empty()) building_.pop_back();
    return true;
  }
  int depth_ = 0;
  json* current_ = nullptr;
  std::vector<json*> building_;  // containers of a known field's value, innermost last
  std::string key_;
};

std::variant<ClientFields, Error> read_client_fields(std::string_view line) {
  line = strip_cr(line);
  FieldReader reader;
  const bool ok = json::sax_parse(line.begin(), line.end(), &reader);
  if (reader.too_deep) return too_deep_error();
  if (!ok) return not_json_error(line);
  if (!reader.top_is_object) {
    return Error{std::string(err::bad_message), "message must be a JSON object"};
  }
  if (!reader.fields.type.is_string()) {
    return Error{std::string(err::bad_message), "message needs a string field \"type\""};
  }
  return std::move(reader.fields);
}

// An optional string field that the server issued itself (room_id, reclaim): anything
// else there is ignored rather than refused, like an unknown field.
std::optional<std::string> token_field(json& v) {
  if (!v.is_string()) return std::nullopt;
  auto& s = v.get_ref<std::string&>();
  if (s.empty() || s.size() > kMaxTokenBytes) return std::nullopt;
  return std::move(s);
}

// An optional count in [1, max]; absent means the default.
std::optional<std::size_t> count_field(const json& v, std::size_t fallback, std::size_t max) {
  if (v.is_null()) return fallback;
  if (!v.is_number_integer()) return std::nullopt;
  const auto n = v.get<std::int64_t>();
  if (n < 1 || static_cast<std::uint64_t>(n) > max) return std::nullopt;
  return static_cast<std::size_t>(n);
}

Error error_of(std::string_view code, std::string message) {
  return Error{std::string(code), std::move(message)};
}

constexpr const char* kBadTo = "\"to\" must be the nick of someone in the room";

}  // namespace

namespace {

Decoded<ClientMessage> decode_fields(ClientFields& f) {
  const std::string& type = f.type.get_ref<const std::string&>();
  if (type == "say") {
    if (!f.text.is_string()) return error_of(err::bad_text, "say needs a string \"text\"");
    if (!f.to.is_null() && !f.to.is_string()) return error_of(err::no_such_nick, kBadTo);
    if (!f.action.is_null() && !f.action.is_boolean()) {
      return error_of(err::bad_message, "\"action\" must be true or false");
    }
    std::optional<std::string> to;
    if (f.to.is_string()) to = std::move(f.to.get_ref<std::string&>());
    return say_of(std::move(f.text.get_ref<std::string&>()), std::move(to),
                  f.action.is_boolean() && f.action.get<bool>());
  }
  if (type == "nick") {
    if (!f.nick.is_string()) return error_of(err::bad_nick, "nick needs a string \"nick\"");
    auto& nick = f.nick.get_ref<std::string&>();
    if (auto why = check_nick_form(nick)) return error_of(err::bad_nick, *why);
    return ClientMessage{NickChange{std::move(nick)}};
  }
  if (type == "hello") {
    if (!f.nick.is_string()) return error_of(err::bad_nick, "hello needs a string \"nick\"");
    if (!f.proto.is_number()) return error_of(err::bad_message, "hello needs \"proto\": 1");
    if (!f.proto.is_number_integer() || f.proto.get<std::int64_t>() != kVersion) {
      return error_of(err::bad_message,
                      "unsupported protocol version " + f.proto.dump() + "; this server speaks 1");
    }
    auto& nick = f.nick.get_ref<std::string&>();
    if (auto why = check_nick_form(nick)) return error_of(err::bad_nick, *why);
    Hello h{std::move(nick),        kVersion,    std::nullopt, token_field(f.reclaim),
            token_field(f.room_id), std::nullopt};
    if (!f.password.is_null()) {
      if (!f.password.is_string()) {
        return error_of(err::bad_password, "\"password\" must be a string");
      }
      h.password = std::move(f.password.get_ref<std::string&>());
    }
    if (f.last_id.is_number_unsigned()) h.last_id = f.last_id.get<std::uint64_t>();
    if (!f.summaries.is_null() && !f.summaries.is_boolean()) {
      return error_of(err::bad_message, "\"summaries\" must be true or false");
    }
    h.summaries = f.summaries.is_boolean() && f.summaries.get<bool>();
    return ClientMessage{std::move(h)};
  }
  if (type == "ping") {
    // The id is echoed back: a huge one would make the server amplify the client's bytes.
    if (f.id.is_string() ? f.id.get_ref<const std::string&>().size() > kMaxPingIdBytes
                         : !f.id.is_primitive() && f.id.dump().size() > kMaxPingIdBytes) {
      return error_of(err::bad_message,
                      "ping id is longer than " + std::to_string(kMaxPingIdBytes) + " bytes");
    }
    return ClientMessage{Ping{std::move(f.id)}};
  }
  if (type == "bye") return ClientMessage{Bye{}};
  if (type == "history") {
    HistoryRequest h;
    if (!f.before.is_null()) {
      if (!f.before.is_number_unsigned() || f.before.get<std::uint64_t>() == 0) {
        return error_of(err::bad_message, "history \"before\" must be a message id (1 or more)");
      }
      h.before = f.before.get<std::uint64_t>();
    }
    const auto limit = count_field(f.limit, kDefaultHistoryPage, kMaxHistoryPage);
    if (!limit) {
      return error_of(err::bad_message,
                      "history \"limit\" must be 1 to " + std::to_string(kMaxHistoryPage));
    }
    h.limit = *limit;
    return ClientMessage{std::move(h)};
  }
  if (type == "search") {
    if (!f.text.is_string()) return error_of(err::bad_message, "search needs a string \"text\"");
    auto& text = f.text.get_ref<std::string&>();
    if (!utf8::is_valid(text) || utf8::length(text) > kMaxSearchCodePoints ||
        text.find_first_not_of(" \t\n") == std::string::npos) {
      return error_of(err::bad_message, "search \"text\" must be 1 to " +
                                            std::to_string(kMaxSearchCodePoints) +
                                            " characters, not only spaces");
    }
    const auto limit = count_field(f.limit, kDefaultSearchResults, kMaxSearchResults);
    if (!limit) {
      return error_of(err::bad_message,
                      "search \"limit\" must be 1 to " + std::to_string(kMaxSearchResults));
    }
    return ClientMessage{Search{std::move(text), *limit}};
  }
  if (type == "members") {
    MembersRequest r;
    if (!f.offset.is_null()) {
      if (!f.offset.is_number_unsigned()) {
        return error_of(err::bad_message, "members \"offset\" must be 0 or more");
      }
      // Past any room's size: an empty page, not an error.
      r.offset = static_cast<std::size_t>(
          std::min<std::uint64_t>(f.offset.get<std::uint64_t>(), std::uint64_t{1} << 32));
    }
    const auto limit = count_field(f.limit, kDefaultMembersPage, kMaxMembersPage);
    if (!limit) {
      return error_of(err::bad_message,
                      "members \"limit\" must be 1 to " + std::to_string(kMaxMembersPage));
    }
    r.limit = *limit;
    if (!f.match.is_null()) {
      if (!f.match.is_string() || !utf8::is_valid(f.match.get_ref<const std::string&>()) ||
          utf8::length(f.match.get_ref<const std::string&>()) > kMaxNickCodePoints) {
        return error_of(err::bad_message, "members \"match\" must be a string of at most " +
                                              std::to_string(kMaxNickCodePoints) + " characters");
      }
      r.match = std::move(f.match.get_ref<std::string&>());
    }
    return ClientMessage{std::move(r)};
  }
  // The type is the client's own text: escaped and cut, it can neither forge a log line
  // nor make the reply longer than a few dozen bytes.
  return error_of(err::unknown_type, "unknown message type " + lanchat::net::quoted(type, 32));
}

}  // namespace

Decoded<ClientMessage> say_of(std::string text, std::optional<std::string> to, bool action) {
  if (auto why = check_text(text)) return error_of(err::bad_text, *why);
  if (to && check_nick_form(*to)) return error_of(err::no_such_nick, kBadTo);
  return ClientMessage{Say{std::move(text), nullptr, to ? std::move(*to) : std::string(), action}};
}

// A client's label for a request: a short string or an integer, echoed in the reply. Any
// other value is ignored, not refused (never echoed: echoing it would let a client amplify
// its bytes).
void label(Decoded<ClientMessage>& decoded, json ref) {
  const bool usable =
      ref.is_number_integer() ||
      (ref.is_string() && ref.get_ref<const std::string&>().size() <= kMaxTokenBytes);
  if (!usable) return;
  std::visit(
      [&](auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Error>) {
          v.ref = std::move(ref);
        } else {
          std::visit(
              [&](auto& m) {
                if constexpr (requires { m.ref; }) m.ref = std::move(ref);
              },
              v);
        }
      },
      decoded);
}

Decoded<ClientMessage> decode_client(std::string_view line) {
  auto read = read_client_fields(line);
  if (auto* e = std::get_if<Error>(&read)) return *e;
  ClientFields& f = std::get<ClientFields>(read);
  json ref = std::move(f.ref);
  auto decoded = decode_fields(f);
  label(decoded, std::move(ref));
  return decoded;
}

namespace {

std::optional<ChatMsg> chat_msg_of(const json& j) {
  auto id = int_field<std::uint64_t>(j, "id");
  auto ts = int_field<std::int64_t>(j, "ts");
  const std::string* from = string_field(j, "from");
  const std::string* text = string_field(j, "text");
  if (!id || !ts || from == nullptr || text == nullptr) return std::nullopt;
  ChatMsg m{*id, *from, *text, *ts};
  if (const std::string* to = string_field(j, "to")) m.to = *to;
  if (auto a = j.find("action"); a != j.end() && a->is_boolean()) m.action = a->get<bool>();
  return m;
}

Error malformed(const std::string& type) {
  return Error{std::string(err::bad_message), "malformed \"" + type + "\" from server"};
}

}  // namespace

Decoded<ServerMessage> decode_server(std::string_view line) {
  auto parsed = parse_object(line);
  if (auto* e = std::get_if<Error>(&parsed)) return *e;
  const json& j = std::get<json>(parsed);
  const std::string& type = j["type"].get_ref<const std::string&>();

  if (type == "msg") {
    if (auto m = chat_msg_of(j)) return ServerMessage{std::move(*m)};
    return malformed(type);
  }
  if (type == "join") {
    const std::string* nick = string_field(j, "nick");
    if (nick == nullptr) return malformed(type);
    return ServerMessage{Join{*nick, int_field<std::int64_t>(j, "ts").value_or(0)}};
  }
  if (type == "leave") {
    const std::string* nick = string_field(j, "nick");
    if (nick == nullptr) return malformed(type);
    const std::string* why = string_field(j, "reason");
    const std::string* message = string_field(j, "message");
    return ServerMessage{Leave{*nick, why ? *why : std::string(reason::disconnect),
                               int_field<std::int64_t>(j, "ts").value_or(0),
                               message ? *message : std::string()}};
  }
  if (type == "welcome") {
    const std::string* nick = string_field(j, "nick");
    if (nick == nullptr) return malformed(type);
    Welcome w;
    w.nick = *nick;
    if (const std::string* s = string_field(j, "server")) w.server = *s;
    w.proto = int_field<int>(j, "proto").value_or(kVersion);
    if (auto u = j.find("users"); u != j.end() && u->is_array()) {
      for (const auto& v : *u) {
        if (v.is_string()) w.users.push_back(v.get<std::string>());
      }
    }
    if (auto h = j.find("history"); h != j.end() && h->is_array()) {
      for (const auto& v : *h) {
        if (!v.is_object()) continue;
        if (auto m = chat_msg_of(v)) w.history.push_back(std::move(*m));
      }
    }
    if (const std::string* r = string_field(j, "room_id")) w.room_id = *r;
    if (const std::string* r = string_field(j, "reclaim")) w.reclaim = *r;
    if (auto m = j.find("more"); m != j.end() && m->is_boolean()) w.more = m->get<bool>();
    w.members = int_field<std::size_t>(j, "members");
    return ServerMessage{std::move(w)};
  }
  if (type == "pong") {
    auto id = j.find("id");
    return ServerMessage{Pong{id == j.end() ? json() : *id}};
  }
  if (type == "error") {
    const std::string* code = string_field(j, "code");
    const std::string* message = string_field(j, "message");
    if (code == nullptr) return malformed(type);
    Error e{*code, message ? *message : std::string()};
    if (auto r = j.find("ref"); r != j.end()) e.ref = *r;
    return ServerMessage{std::move(e)};
  }
  if (type == "nick") {
    const std::string* old_nick = string_field(j, "old");
    const std::string* new_nick = string_field(j, "new");
    if (old_nick == nullptr || new_nick == nullptr) return malformed(type);
    return ServerMessage{
        NickChanged{*old_nick, *new_nick, int_field<std::int64_t>(j, "ts").value_or(0)}};
  }
  if (type == "notice") {
    const std::string* text = string_field(j, "text");
    if (text == nullptr) return malformed(type);
    return ServerMessage{Notice{*text, int_field<std::int64_t>(j, "ts").value_or(0)}};
  }
  if (type == "history" || type == "found") {
    std::vector<ChatMsg> msgs;
    if (auto a = j.find("msgs"); a != j.end() && a->is_array()) {
      for (const auto& v : *a) {
        if (!v.is_object()) continue;
        if (auto m = chat_msg_of(v)) msgs.push_back(std::move(*m));
      }
    }
    json ref = nullptr;
    if (auto r = j.find("ref"); r != j.end()) ref = *r;
    if (type == "history") {
      bool more = false;
      if (auto m = j.find("more"); m != j.end() && m->is_boolean()) more = m->get<bool>();
      return ServerMessage{HistoryPage{std::move(msgs), more, std::move(ref)}};
    }
    const std::string* text = string_field(j, "text");
    return ServerMessage{Found{text ? *text : std::string(), std::move(msgs), std::move(ref)}};
  }
  if (type == "presence") {
    Presence p;
    const auto members = int_field<std::size_t>(j, "members");
    if (!members) return malformed(type);
    p.members = *members;
    p.joins = int_field<std::size_t>(j, "joins").value_or(0);
    p.leaves = int_field<std::size_t>(j, "leaves").value_or(0);
    p.ts = int_field<std::int64_t>(j, "ts").value_or(0);
    const auto joined = j.find("joined");
    const auto left = j.find("left");
    p.listed = joined != j.end() && joined->is_array() && left != j.end() && left->is_array();
    if (p.listed) {
      for (const auto& v : *joined) {
        if (v.is_string()) p.joined.push_back(v.get<std::string>());
      }
      for (const auto& v : *left) {
        if (!v.is_object()) continue;
        const std::string* nick = string_field(v, "nick");
        const std::string* why = string_field(v, "reason");
        if (nick != nullptr) p.left.push_back({*nick, why ? *why : std::string()});
      }
    }
    return ServerMessage{std::move(p)};
  }
  if (type == "members") {
    MembersPage p;
    p.members = int_field<std::size_t>(j, "members").value_or(0);
    p.offset = int_field<std::size_t>(j, "offset").value_or(0);
    if (auto u = j.find("users"); u != j.end() && u->is_array()) {
      for (const auto& v : *u) {
        if (v.is_string()) p.users.push_back(v.get<std::string>());
      }
    }
    if (auto m = j.find("more"); m != j.end() && m->is_boolean()) p.more = m->get<bool>();
    if (auto r = j.find("ref"); r != j.end()) p.ref = *r;
    return ServerMessage{std::move(p)};
  }
  if (type == "shutdown") {
    const std::string* why = string_field(j, "reason");
    return ServerMessage{Shutdown{why ? *why : std::string()}};
  }
  return Error{std::string(err::unknown_type),
               "unknown message type " + lanchat::net::quoted(type, 32)};
}

std::string encode(const Hello& m) {
  ojson j{{"type", "hello"}, {"nick", m.nick}, {"proto", m.proto}};
  if (m.password) j["password"] = *m.password;
  if (m.reclaim) j["reclaim"] = *m.reclaim;
  if (m.room_id) j["room_id"] = *m.room_id;
  if (m.last_id) j["last_id"] = *m.last_id;
  if (m.summaries) j["summaries"] = true;
  if (!m.ref.is_null()) j["ref"] = m.ref;
  return line_of(j);
}
std::string encode(const MembersRequest& m) {
  ojson j{{"type", "members"}, {"offset", m.offset}, {"limit", m.limit}};
  if (!m.match.empty()) j["match"] = m.match;
  if (!m.ref.is_null()) j["ref"] = m.ref;
  return line_of(j);
}
std::string encode(const Say& m) {
  ojson j{{"type", "say"}, {"text", m.text}};
  if (!m.to.empty()) j["to"] = m.to;
  if (m.action) j["action"] = true;
  if (!m.ref.is_null()) j["ref"] = m.ref;
  return line_of(j);
}
std::string encode(const NickChange& m) {
  ojson j{{"type", "nick"}, {"nick", m.nick}};
  if (!m.ref.is_null()) j["ref"] = m.ref;
  return line_of(j);
}
std::string encode(const NickChanged& m) {
  std::string s = R"({"type":"nick","old":)";
  append_json_string(s, m.old_nick);
  s += R"(,"new":)";
  append_json_string(s, m.new_nick);
  return finish_with_ts(s, m.ts);
}
std::string encode(const Notice& m) {
  std::string s = R"({"type":"notice","text":)";
  append_json_string(s, m.text);
  return finish_with_ts(s, m.ts);
}
std::string encode(const HistoryRequest& m) {
  ojson j{{"type", "history"}};
  if (m.before != 0) j["before"] = m.before;
  j["limit"] = m.limit;
  if (!m.ref.is_null()) j["ref"] = m.ref;
  return line_of(j);
}
std::string encode(const Search& m) {
  ojson j{{"type", "search"}, {"text", m.text}, {"limit", m.limit}};
  if (!m.ref.is_null()) j["ref"] = m.ref;
  return line_of(j);
}
std::string encode(const Ping& m) {
  return line_of({{"type", "ping"}, {"id", m.id}});
}
std::string encode(const Bye&) {
  return line_of({{"type", "bye"}});
}
// The three lines a server sends most are built directly: the same bytes line_of() would
// produce (tests/protocol_test.cpp checks that), without building a JSON object first.
std::string encode(const ChatMsg& m) {
  std::string s;
  s.reserve(56 + m.from.size() + m.text.size());
  s += R"({"type":"msg","id":)";
  append_int(s, m.id);
  s += R"(,"from":)";
  append_json_string(s, m.from);
  if (!m.to.empty()) {
    s += R"(,"to":)";
    append_json_string(s, m.to);
  }
  s += R"(,"text":)";
  append_json_string(s, m.text);
  if (m.action) s += R"(,"action":true)";
  return finish_with_ts(s, m.ts);
}
std::string encode(const Join& m) {
  std::string s = R"({"type":"join","nick":)";
  append_json_string(s, m.nick);
  return finish_with_ts(s, m.ts);
}
std::string encode(const Leave& m) {
  std::string s = R"({"type":"leave","nick":)";
  append_json_string(s, m.nick);
  s += R"(,"reason":)";
  append_json_string(s, m.reason);
  if (!m.message.empty()) {
    s += R"(,"message":)";
    append_json_string(s, m.message);
  }
  return finish_with_ts(s, m.ts);
}

void append_json_string(std::string& out, std::string_view s) {
  if (!utf8::is_valid(s)) {
    // Only a value that never passed validation (a room name from the command line, say)
    // gets here; nlohmann replaces its bad bytes with U+FFFD.
    out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out += '\\';
    switch (c) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '\b':
        out += 'b';
        break;
      case '\f':
        out += 'f';
        break;
      case '\n':
        out += 'n';
        break;
      case '\r':
        out += 'r';
        break;
      case '\t':
        out += 't';
        break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xFU];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

std::string encode_users(const std::vector<std::string>& users) {
  std::string s = "[";
  for (const auto& u : users) {
    if (s.size() > 1) s += ',';
    append_json_string(s, u);
  }
  s += ']';
  return s;
}
std::string encode(const Pong& m) {
  return line_of({{"type", "pong"}, {"id", m.id}});
}
std::string encode(const Error& m) {
  ojson j{{"type", "error"}, {"code", m.code}, {"message", m.message}};
  if (!m.ref.is_null()) j["ref"] = m.ref;
  return line_of(j);
}

namespace {
// Appends encoded msg lines as the elements of a JSON array (their "\n" dropped).
void append_lines(std::string& s, const std::vector<std::string_view>& lines) {
  s += '[';
  bool first = true;
  for (std::string_view h : lines) {
    if (!h.empty() && h.back() == '\n') h.remove_suffix(1);
    if (!first) s += ',';
    s += h;
    first = false;
  }
  s += ']';
}
void append_ref(std::string& s, const json& ref) {
  if (ref.is_null()) return;
  s += R"(,"ref":)";
  s += ref.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::vector<std::string> encode_all(const std::vector<ChatMsg>& msgs) {
  std::vector<std::string> lines;
  lines.reserve(msgs.size());
  for (const auto& m : msgs) lines.push_back(encode(m));
  return lines;
}
std::vector<std::string_view> views_of(const std::vector<std::string>& lines) {
  return {lines.begin(), lines.end()};
}
}  // namespace

std::string encode_history(const std::vector<std::string_view>& msg_lines, bool more,
                           const json& ref) {
  std::string s = R"({"type":"history","msgs":)";
  append_lines(s, msg_lines);
  s += more ? R"(,"more":true)" : R"(,"more":false)";
  append_ref(s, ref);
  s += "}\n";
  return s;
}

std::string encode_found(std::string_view text, const std::vector<std::string_view>& msg_lines,
                         const json& ref) {
  std::string s = R"({"type":"found","text":)";
  append_json_string(s, text);
  s += R"(,"msgs":)";
  append_lines(s, msg_lines);
  append_ref(s, ref);
  s += "}\n";
  return s;
}

std::string encode(const HistoryPage& m) {
  const auto lines = encode_all(m.msgs);
  return encode_history(views_of(lines), m.more, m.ref);
}

std::string encode(const Found& m) {
  const auto lines = encode_all(m.msgs);
  return encode_found(m.text, views_of(lines), m.ref);
}
std::string encode(const Shutdown& m) {
  return line_of({{"type", "shutdown"}, {"reason", m.reason}});
}

std::string encode(const Welcome& m) {
  std::vector<std::string> lines;
  lines.reserve(m.history.size());
  for (const auto& h : m.history) lines.push_back(encode(h));
  std::vector<std::string_view> views;
  views.reserve(lines.size());
  for (const auto& l : lines) views.push_back(l);
  return encode_welcome({m.nick, m.server, m.room_id, m.reclaim, m.more, m.members.value_or(0)},
                        encode_users(m.users), views);
}

std::string encode(const Presence& m) {
  std::string s = R"({"type":"presence","members":)";
  append_int(s, m.members);
  s += R"(,"joins":)";
  append_int(s, m.joins);
  s += R"(,"leaves":)";
  append_int(s, m.leaves);
  if (m.listed) {
    s += R"(,"joined":)";
    s += encode_users(m.joined);
    s += R"(,"left":[)";
    bool first = true;
    for (const auto& l : m.left) {
      if (!first) s += ',';
      first = false;
      s += R"({"nick":)";
      append_json_string(s, l.nick);
      s += R"(,"reason":)";
      append_json_string(s, l.reason);
      s += '}';
    }
    s += ']';
  }
  return finish_with_ts(s, m.ts);
}

std::string encode(const MembersPage& m) {
  std::string s = R"({"type":"members","members":)";
  append_int(s, m.members);
  s += R"(,"offset":)";
  append_int(s, m.offset);
  s += R"(,"users":)";
  s += encode_users(m.users);
  s += m.more ? R"(,"more":true)" : R"(,"more":false)";
  append_ref(s, m.ref);
  s += "}\n";
  return s;
}

std::string encode_welcome(const WelcomeHead& head, std::string_view users_array,
                           const std::vector<std::string_view>& history_lines) {
  std::string s = R"({"type":"welcome","nick":)";
  std::size_t history_bytes = 0;
  for (std::string_view h : history_lines) history_bytes += h.size();
  s.reserve(s.size() + users_array.size() + history_bytes + 160);
  append_json_string(s, head.nick);
  s += R"(,"server":)";
  append_json_string(s, head.server);
  s += R"(,"proto":)";
  append_int(s, kVersion);
  if (!head.room_id.empty()) {
    s += R"(,"room_id":)";
    append_json_string(s, head.room_id);
  }
  if (!head.reclaim.empty()) {
    s += R"(,"reclaim":)";
    append_json_string(s, head.reclaim);
  }
  s += R"(,"users":)";
  s += users_array;
  if (head.members != 0) {
    s += R"(,"members":)";
    append_int(s, head.members);
  }
  s += R"(,"history":)";
  append_lines(s, history_lines);
  s += head.more ? R"(,"more":true)" : R"(,"more":false)";
  s += "}\n";
  return s;
}

}  // namespace lanchat::proto
