#include "net/room.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace lanchat::net {

SharedLine make_line(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

std::string random_token() {
  // Straight from the kernel's generator: reclaim secrets must not be guessable from the
  // ones a client has seen (a seeded PRNG would be), and one getrandom() is cheap, where
  // constructing a std::random_device per join cost 8% of a join storm.
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0)
      got += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR)
      throw std::runtime_error("getrandom failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xFU];
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
  m.summaries = hello.summaries;
  fanout_.push_back(&m);
  if (!m.summaries) {
    m.classic_slot = classic_.size();
    classic_.push_back(&m);
  }
  by_folded_.emplace(m.keys.folded, &m);
  by_shape_.emplace(m.keys.shape, &m);
  if (!users_stale_) {
    users_array_.pop_back();  // the closing ']'
    if (fanout_.size() > 1) users_array_ += ',';
    proto::append_json_string(users_array_, m.nick);
    users_array_ += ']';
  }

  // A client back in the room it knew gets exactly what it missed (the newest 1,000 if
  // more); anyone else the last 100.
  std::size_t from =
      history_.size() > config_.welcome_history ? history_.size() - config_.welcome_history : 0;
  if (hello.room_id && *hello.room_id == config_.room_id && hello.last_id) {
    from = first_after(*hello.last_id);
    if (history_.size() - from > proto::kMaxResume) from = history_.size() - proto::kMaxResume;
  }
  std::vector<std::string_view> history;
  history.reserve(history_.size() - from);
  for (std::size_t i = from; i < history_.size(); ++i) history.emplace_back(*history_[i].line);
  const bool more = from < history_.size() ? history_[from].id > oldest_ : oldest_ != 0;
  const bool large_room = large();
  // In a large room a member that asked for summaries gets the start of the list and the
  // count (it pages through the rest with `members` if it shows them); sending each of
  // 10,000 joiners everyone before it would be 50 million nicks.
  const bool partial = large_room && m.summaries;
  who.deliver(
      make_line(proto::encode_welcome(
          {m.nick, config_.name, config_.room_id, m.reclaim, more, partial ? fanout_.size() : 0},
          partial ? first_users(config_.large_welcome_users) : users_array(), history)),
      Delivery::forced);

  const std::int64_t ts = now_ms();
  if (large_room) {
    if (classic_.size() > (m.summaries ? 0U : 1U)) {
      tell_classic(make_line(proto::encode(proto::Join{m.nick, ts})), &m);
    }
    note_join(m.nick);
  } else {
    broadcast(make_line(proto::encode(proto::Join{m.nick, ts})), &m, Delivery::presence);
  }
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

std::string Room::first_users(std::size_t n) const {
  std::string out = "[";
  for (const Member& m : members_) {
    if (n-- == 0) break;
    if (out.size() > 1) out += ',';
    proto::append_json_string(out, m.nick);
  }
  out += ']';
  return out;
}

void Room::tell_classic(const SharedLine& line, const Member* except) {
  for (Member* m : classic_) {
    if (m != except) m->participant->deliver(line, Delivery::presence);
  }
}

bool Room::room_to_list_one_more() {
  if (!pending_.listed) return false;
  if (pending_.joined.size() + pending_.left.size() < proto::kMaxListedChanges) return true;
  // Too many to list: the counts say it, and clients fetch the list if they show it.
  pending_.listed = false;
  pending_.joined.clear();
  pending_.left.clear();
  return false;
}

void Room::note_join(const std::string& nick) {
  const bool was_empty = pending_.joins == 0 && pending_.leaves == 0;
  ++pending_.joins;
  if (room_to_list_one_more()) pending_.joined.push_back(nick);
  if (was_empty && on_presence_pending_) on_presence_pending_();
}

void Room::note_leave(const std::string& nick, std::string_view reason) {
  const bool was_empty = pending_.joins == 0 && pending_.leaves == 0;
  ++pending_.leaves;
  // Came and went within one summary: listed in neither, as clients apply `left` before
  // `joined` (which keeps a leave followed by a rejoin under the same nick right).
  auto it = std::find(pending_.joined.begin(), pending_.joined.end(), nick);
  if (it != pending_.joined.end()) {
    pending_.joined.erase(it);
  } else if (room_to_list_one_more()) {
    pending_.left.push_back({nick, std::string(reason)});
  }
  if (was_empty && on_presence_pending_) on_presence_pending_();
}

void Room::flush_presence() {
  if (pending_.joins == 0 && pending_.leaves == 0) return;
  pending_.members = fanout_.size();
  pending_.ts = now_ms();
  const SharedLine line = make_line(proto::encode(pending_));
  pending_ = proto::Presence{};
  for (Member* m : fanout_) {
    if (m->summaries) m->participant->deliver(line, Delivery::presence);
  }
}

proto::MembersPage Room::members_page(const proto::MembersRequest& req) const {
  proto::MembersPage page;
  page.members = fanout_.size();
  page.offset = req.offset;
  const std::string match = req.match.empty() ? std::string() : nick::keys_of(req.match).folded;
  std::size_t skipped = 0;
  for (const Member& m : members_) {
    if (!match.empty() && m.keys.folded.find(match) == std::string::npos) continue;
    if (skipped < req.offset) {
      ++skipped;
      continue;
    }
    if (page.users.size() == req.limit) {
      page.more = true;
      break;
    }
    page.users.push_back(m.nick);
  }
  return page;
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
  if (!m.summaries) {
    Member* last_classic = classic_.back();
    classic_[m.classic_slot] = last_classic;
    last_classic->classic_slot = m.classic_slot;
    classic_.pop_back();
  }
  users_stale_ = true;
  members_.erase(m.self);
}

void Room::leave(Member& m, std::string_view reason) {
  const std::string nick = m.nick;
  const bool large_room = large();  // as it was with m in it
  remove(m);                        // m is gone from here on
  if (closing_) return;
  const std::int64_t ts = now_ms();
  if (large_room) {
    if (!classic_.empty()) {
      tell_classic(make_line(proto::encode(proto::Leave{nick, std::string(reason), ts})), nullptr);
    }
    note_leave(nick, reason);
  } else {
    broadcast(make_line(proto::encode(proto::Leave{nick, std::string(reason), ts})), nullptr,
              Delivery::presence);
  }
  events_.log(LogLevel::info, nick + " left (" + std::string(reason) + ")");
}

std::optional<proto::Error> Room::say(Member& m, proto::Say& say) {
  if (m.muted) {
    return proto::Error{std::string(proto::err::muted),
                        "the host has muted you; nothing you say is sent until you are unmuted"};
  }
  if (!say.to.empty()) {
    Member* to = find_nick(say.to);
    if (to == nullptr) {
      return proto::Error{std::string(proto::err::no_such_nick),
                          "nobody called \"" + say.to + "\" is in the room"};
    }
    // A direct message takes its id from the room's one sequence (so ids never repeat and
    // resumes stay exact) but is never kept, stored, searched or replayed.
    proto::ChatMsg msg{++next_msg_id_, m.nick, std::move(say.text), now_ms(), to->nick, say.action};
    SharedLine line = make_line(proto::encode(msg));
    flush_presence();  // the recipient may not have heard of the sender yet
    m.participant->deliver(line, Delivery::now);
    if (to != &m) to->participant->deliver(line, Delivery::now);
    unstored_id_ = msg.id;
    return std::nullopt;
  }
  proto::ChatMsg msg{++next_msg_id_, m.nick, std::move(say.text), now_ms(), {}, say.action};
  SharedLine line = make_line(proto::encode(msg));
  keep(msg.id, line);
  broadcast(line, nullptr, Delivery::now);
  // Handed to the store once per turn of the loop (hand_to_store), not per message.
  if (store_ != nullptr) {
    to_store_.push_back(StoredMsg{msg.id, msg.ts, m.nick, std::move(msg.text), msg.action});
  }
  return std::nullopt;
}

void Room::keep(std::uint64_t id, SharedLine line) {
  history_.push_back({id, std::move(line)});
  while (history_.size() > std::max(config_.memory_history, config_.welcome_history)) {
    history_.pop_front();
  }
  if (oldest_ == 0) oldest_ = id;
}

std::size_t Room::first_after(std::uint64_t after) const {
  const auto it = std::upper_bound(history_.begin(), history_.end(), after,
                                   [](std::uint64_t v, const Kept& k) { return v < k.id; });
  return static_cast<std::size_t>(it - history_.begin());
}

void Room::restore(const StoreContents& c, Store* store) {
  store_ = store;
  if (!c.room_id.empty()) config_.room_id = c.room_id;
  next_msg_id_ = std::max(next_msg_id_, c.last_id);
  oldest_ = c.oldest_id;
  history_.clear();
  for (const StoredMsg& m : c.recent) {
    keep(m.id, make_line(proto::encode(proto::ChatMsg{m.id, m.from, m.text, m.ts, {}, m.action})));
  }
}

Member* Room::find_nick(std::string_view nick) {
  return find(nick::keys_of(nick));
}

std::optional<proto::Error> Room::change_nick(Member& m, std::string nick) {
  nick::Keys keys = nick::keys_of(nick);
  if (auto reserved = nick::reserved_lookalike(keys)) {
    return proto::Error{
        std::string(proto::err::bad_nick),
        "nick \"" + nick + "\" looks like the reserved name \"" + std::string(*reserved) + "\""};
  }
  if (nick == m.nick) {
    return proto::Error{std::string(proto::err::bad_nick), "you are already \"" + nick + "\""};
  }
  // Another member who reads the same is in the way; the member itself is not (alice may
  // become Alice).
  if (Member* holder = find(keys); holder != nullptr && holder != &m) {
    return proto::Error{std::string(proto::err::nick_taken),
                        holder->nick == nick ? "nick \"" + nick + "\" is already in use"
                                             : "nick \"" + nick + "\" looks like \"" +
                                                   holder->nick + "\", who is already here"};
  }
  by_folded_.erase(m.keys.folded);
  by_shape_.erase(m.keys.shape);
  const std::string old = m.nick;
  m.nick = std::move(nick);
  m.keys = std::move(keys);
  by_folded_.emplace(m.keys.folded, &m);
  by_shape_.emplace(m.keys.shape, &m);
  users_stale_ = true;
  const std::int64_t ts = now_ms();
  broadcast(make_line(proto::encode(proto::NickChanged{old, m.nick, ts})), nullptr, Delivery::now);
  events_.emit(PeerNick{m.conn, m.nick});
  events_.log(LogLevel::info, old + " is now known as " + m.nick);
  return std::nullopt;
}

void Room::kick(Member& m, const std::string& message) {
  const std::string nick = m.nick;
  // Everyone hears it, the one kicked too (the last thing on its connection).
  broadcast(make_line(proto::encode(
                proto::Leave{nick, std::string(proto::reason::kicked), now_ms(), message})),
            nullptr, Delivery::now);
  remove(m);
  events_.log(LogLevel::info, nick + " left (kicked)");
}

void Room::set_muted(Member& m, bool muted) {
  if (m.muted == muted) return;
  m.muted = muted;
  notice(muted ? m.nick + " was muted by the host" : m.nick + " can speak again");
  events_.emit(PeerMuted{m.conn, muted});
}

void Room::notice(const std::string& text) {
  broadcast(make_line(proto::encode(proto::Notice{text, now_ms()})), nullptr, Delivery::now);
}

void Room::hand_to_store() {
  if (store_ == nullptr) return;
  store_->append(to_store_);
  if (unstored_id_ != 0) {
    store_->note_last_id(unstored_id_);  // direct messages move the counter on too
    unstored_id_ = 0;
  }
}

void Room::set_oldest(std::uint64_t id) {
  if (id == 0) return;
  oldest_ = id;
  while (!history_.empty() && history_.front().id < id) history_.pop_front();
}

std::optional<Room::Page> Room::page_in_memory(std::uint64_t before, std::size_t limit) const {
  const std::size_t end = before == 0 ? history_.size() : first_after(before - 1);
  // Enough here, or here is everything the room has: answer without the store.
  const bool complete = history_.empty() || history_.front().id <= oldest_;
  if (end < limit && !complete) return std::nullopt;
  const std::size_t start = end > limit ? end - limit : 0;
  Page p;
  p.lines.reserve(end - start);
  for (std::size_t i = start; i < end; ++i) p.lines.emplace_back(*history_[i].line);
  p.more = start < end ? history_[start].id > oldest_ : false;
  return p;
}

void Room::broadcast(const SharedLine& line, const Member* except, Delivery how) {
  flush_presence();
  for (Member* m : fanout_) {
    if (m != except) m->participant->deliver(line, how);
  }
  if (on_broadcast_) on_broadcast_();
}

}  // namespace lanchat::net
