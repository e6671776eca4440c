#include "net/room.hpp"

#include <algorithm>
#include <random>

namespace lanchat::net {

SharedLine make_line(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

std::string random_token() {
  std::random_device rd;  // the kernel's generator (getrandom): these ids are secrets too
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 4; ++i) {
    const std::uint32_t v = rd();
    for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xFU];
  }
  return out;
}

Room::Room(RoomConfig config, EventSink& events) : config_(std::move(config)), events_(events) {
  if (config_.room_id.empty()) config_.room_id = random_token();
}

Member* Room::find(const nick::Keys& keys) {
  if (auto it = by_folded_.find(keys.folded); it != by_folded_.end()) return it->second;
  if (auto it = by_shape_.find(keys.shape); it != by_shape_.end()) return it->second;
  return nullptr;
}

std::variant<Member*, proto::Error> Room::join(Participant& who, std::uint64_t conn,
                                               proto::Hello& hello, bool host) {
  nick::Keys keys = nick::keys_of(hello.nick);
  if (auto reserved = nick::reserved_lookalike(keys)) {
    return proto::Error{std::string(proto::err::bad_nick),
                        "nick \"" + hello.nick + "\" looks like the reserved name \"" +
                            std::string(*reserved) + "\""};
  }
  if (Member* holder = find(keys)) {
    // The same person back before the server noticed its old connection died: the old
    // one makes way (its leave goes out first, in order) instead of locking them out.
    const bool reclaimed =
        hello.reclaim && !holder->reclaim.empty() && *hello.reclaim == holder->reclaim;
    if (!reclaimed) {
      const std::string what = holder->nick == hello.nick
                                   ? "nick \"" + hello.nick + "\" is already in use"
                                   : "nick \"" + hello.nick + "\" looks like \"" + holder->nick +
                                         "\", who is already here";
      return proto::Error{std::string(proto::err::nick_taken), what};
    }
    Participant* old = holder->participant;
    events_.log(LogLevel::info, "#" + std::to_string(holder->conn) + " (" + holder->nick +
                                    ") replaced by #" + std::to_string(conn) +
                                    " reclaiming its nick");
    leave(*holder, proto::reason::disconnect);
    old->dismissed(proto::reason::disconnect);
  }

  Member& m = members_.emplace_back();
  m.self = std::prev(members_.end());
  m.participant = &who;
  m.conn = conn;
  m.nick = std::move(hello.nick);
  m.keys = std::move(keys);
  m.reclaim = random_token();
  m.seq = ++next_seq_;
  m.slot = fanout_.size();
  m.host = host;
  fanout_.push_back(&m);
  by_folded_.emplace(m.keys.folded, &m);
  by_shape_.emplace(m.keys.shape, &m);
  if (!users_stale_) {
    users_array_.pop_back();  // the closing ']'
    if (fanout_.size() > 1) users_array_ += ',';
    proto::append_json_string(users_array_, m.nick);
    users_array_ += ']';
  }

  std::vector<std::string_view> history;
  const std::size_t skip =
      history_.size() > config_.welcome_history ? history_.size() - config_.welcome_history : 0;
  history.reserve(history_.size() - skip);
  for (std::size_t i = skip; i < history_.size(); ++i) history.emplace_back(*history_[i]);
  who.deliver(make_line(proto::encode_welcome({m.nick, config_.name, config_.room_id, m.reclaim},
                                              users_array(), history)),
              Delivery::forced);

  const std::int64_t ts = now_ms();
  broadcast(make_line(proto::encode(proto::Join{m.nick, ts})), &m, Delivery::presence);
  events_.emit(PeerJoined{conn, m.nick, ts, host});
  events_.log(LogLevel::info, "#" + std::to_string(conn) + " joined as " + m.nick);
  return &m;
}

const std::string& Room::users_array() {
  if (users_stale_) {
    // Rebuilt only when someone joins after leaves: a run of leaves costs nothing here.
    std::vector<std::string> users;
    users.reserve(members_.size());
    for (const Member& m : members_) users.push_back(m.nick);
    users_array_ = proto::encode_users(users);
    users_stale_ = false;
  }
  return users_array_;
}

void Room::remove(Member& m) {
  by_folded_.erase(m.keys.folded);
  by_shape_.erase(m.keys.shape);
  // Swap-remove from the fan-out list: order there does not matter, each member's own
  // queue keeps the total order.
  Member* last = fanout_.back();
  fanout_[m.slot] = last;
  last->slot = m.slot;
  fanout_.pop_back();
  users_stale_ = true;
  members_.erase(m.self);
}

void Room::leave(Member& m, std::string_view reason) {
  const std::string nick = m.nick;
  remove(m);  // m is gone from here on
  if (closing_) return;
  const std::int64_t ts = now_ms();
  broadcast(make_line(proto::encode(proto::Leave{nick, std::string(reason), ts})), nullptr,
            Delivery::presence);
  events_.log(LogLevel::info, nick + " left (" + std::string(reason) + ")");
}

void Room::say(Member& m, std::string text) {
  proto::ChatMsg msg{++next_msg_id_, m.nick, std::move(text), now_ms()};
  SharedLine line = make_line(proto::encode(msg));
  history_.push_back(line);
  while (history_.size() > config_.welcome_history) history_.pop_front();
  broadcast(line, nullptr, Delivery::now);
}

void Room::broadcast(const SharedLine& line, const Member* except, Delivery how) {
  for (Member* m : fanout_) {
    if (m != except) m->participant->deliver(line, how);
  }
}

}  // namespace lanchat::net
