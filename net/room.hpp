#pragma once
// The chat room: who is in it under which nick, what was said (the history), the one total
// order of everything members see, and the fan-out of each line to every member. It knows
// no sockets: a member is a Participant (a Connection in the server, a fake in the tests),
// to which the room only hands encoded lines. Lives on the net thread.
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "net/event_queue.hpp"
#include "net/nick.hpp"
#include "net/protocol.hpp"
#include "net/store.hpp"

namespace lanchat::net {

// One encoded line, shared by every queue it is in: a broadcast is serialized once.
using SharedLine = std::shared_ptr<const std::string>;
SharedLine make_line(std::string bytes);

// How a line is queued to a member.
enum class Delivery : std::uint8_t {
  now,       // chat and replies: written in this turn of the loop
  presence,  // join and leave notices: may wait for the next presence batch (10 ms) so
             // that a storm of joins costs each member a few writes, never behind a `now`
  forced,    // welcome and shutdown: also exempt from the reader's backlog bound
};

// What the room needs of a member's connection.
class Participant {
 public:
  virtual void deliver(const SharedLine& line, Delivery how) = 0;
  // The room let this member go without being asked (its nick was reclaimed by a new
  // connection of the same person); the participant closes. Its leave is already out.
  virtual void dismissed(std::string_view reason) = 0;

 protected:
  ~Participant() = default;
};

struct Member {
  Participant* participant = nullptr;
  std::uint64_t conn = 0;  // the connection's number, as in the log and the panel
  std::string nick;
  nick::Keys keys;
  std::string reclaim;               // the secret its welcome carried (see proto::Hello::reclaim)
  std::uint64_t seq = 0;             // join order
  std::size_t slot = 0;              // index in the fan-out list
  bool host = false;                 // the host's own client
  bool muted = false;                // its says are refused (muted) until the host unmutes it
  bool summaries = false;            // hears of joins and leaves in summaries in a large room
  std::size_t classic_slot = 0;      // index in the list of members without summaries
  std::list<Member>::iterator self;  // where the room keeps it (O(1) removal)
};

struct RoomConfig {
  std::string name = "lanchat";
  std::string room_id;  // empty: a new random id (ids are comparable for this run only)
  std::size_t welcome_history = proto::kHistorySize;
  // The newest messages kept encoded in memory: every welcome (a resume gives up to 1,000)
  // and most history pages are answered from here, without the disk.
  std::size_t memory_history = 2000;
  // A room with this many members or more is large (0: never): members that asked for
  // summaries hear of joins and leaves in one `presence` line per summary period instead
  // of one line each, and their welcome lists only the first large_welcome_users members.
  // Announcing every join to every member is what made seating 10,000 people quadratic.
  std::size_t large_room = 500;
  std::size_t large_welcome_users = 100;
};

class Room {
 public:
  Room(RoomConfig config, EventSink& events);
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  // Admits a member under hello.nick, sends it the welcome and tells the others. On error
  // nothing is sent to anyone; the caller replies with the error.
  std::variant<Member*, proto::Error> join(Participant& who, std::uint64_t conn,
                                           proto::Hello& hello, bool host);
  // Removes a member and tells the others why (unless the room is closing).
  void leave(Member& m, std::string_view reason);
  // A message to the room, in the total order, to everyone including the sender; with
  // say.to, a direct message to that member and the sender only (never kept or stored).
  // Returns the error to reply with instead (muted, no_such_nick).
  std::optional<proto::Error> say(Member& m, proto::Say& say);
  // Changes a member's nick; everyone (the member too) hears of it in the total order.
  std::optional<proto::Error> change_nick(Member& m, std::string nick);
  // Removes a member on the host's word: everyone, the member included, gets a leave with
  // reason kicked and the message. The caller closes the connection after that line.
  void kick(Member& m, const std::string& message);
  // Mutes or unmutes a member, and tells the room.
  void set_muted(Member& m, bool muted);
  // A notice to everyone in the room.
  void notice(const std::string& text);
  // The member under this nick (compared as people read nicks), if any.
  Member* find_nick(std::string_view nick);
  // A page of the member list, in join order (see proto::MembersRequest).
  proto::MembersPage members_page(const proto::MembersRequest& req) const;
  bool large() const { return config_.large_room > 0 && fanout_.size() >= config_.large_room; }
  // Sends the summary of the joins and leaves noted since the last one, if any. The owner
  // calls it once per summary period; every other line to the room sends it first, so
  // the summary keeps its place in the room's one order.
  void flush_presence();
  // Called when a join or leave is noted for a summary and none was pending: the owner
  // arms its summary timer.
  void on_presence_pending(std::function<void()> f) { on_presence_pending_ = std::move(f); }
  // Called for every line sent to the whole room, after it is queued to every member: the
  // owner counts the lines waiting for its next write pass.
  void on_broadcast(std::function<void()> f) { on_broadcast_ = std::move(f); }
  // The server is stopping: from now on leaves are not broadcast (everyone gets
  // `shutdown` instead).
  void silence() { closing_ = true; }

  // Takes up where the store left off: its room id, ids going on from its last one, its
  // newest messages in memory. Messages said from now on are appended to `store`.
  void restore(const StoreContents& contents, Store* store);
  // The store dropped old messages (retention): the oldest kept is now this one, and
  // memory lets go of the older ones too.
  void set_oldest(std::uint64_t id);

  // A history page answered from memory (lines oldest first), or nothing if the store
  // must answer it.
  struct Page {
    std::vector<std::string_view> lines;
    bool more = false;
  };
  std::optional<Page> page_in_memory(std::uint64_t before, std::size_t limit) const;
  Store* store() const { return store_; }
  // Hands what was said since the last call to the store in one go (once per turn of the
  // net thread's loop, not once per message).
  void hand_to_store();

  const RoomConfig& config() const { return config_; }
  const std::string& room_id() const { return config_.room_id; }
  std::size_t size() const { return fanout_.size(); }
  const std::list<Member>& members() const { return members_; }  // join order
  std::uint64_t last_msg_id() const { return next_msg_id_; }

 private:
  Member* find(const nick::Keys& keys);
  void keep(std::uint64_t id, SharedLine line);
  // Index of the first kept message with id > after.
  std::size_t first_after(std::uint64_t after) const;
  void broadcast(const SharedLine& line, const Member* except, Delivery how);
  void remove(Member& m);
  const std::string& users_array();
  // The first n members' nicks, encoded, for a large room's welcome.
  std::string first_users(std::size_t n) const;
  void note_join(const std::string& nick);
  void note_leave(const std::string& nick, std::string_view reason);
  // True if the pending summary can list one more change; past the limit it stops listing.
  bool room_to_list_one_more();
  // Joins and leaves to the members without summaries, one line each.
  void tell_classic(const SharedLine& line, const Member* except);

  RoomConfig config_;
  EventSink& events_;
  std::list<Member> members_;     // owns the members, in join order
  std::vector<Member*> fanout_;   // the same members, compact, for broadcasts
  std::vector<Member*> classic_;  // those without summaries (protocol-1 clients)
  proto::Presence pending_;       // changes for the next summary
  std::function<void()> on_presence_pending_;
  std::function<void()> on_broadcast_;
  std::unordered_map<std::string, Member*> by_folded_, by_shape_;
  std::string users_array_ = "[]";  // members' nicks, encoded for the welcome
  bool users_stale_ = false;
  struct Kept {
    std::uint64_t id;
    SharedLine line;
  };
  std::deque<Kept> history_;  // the newest messages, encoded, oldest first
  Store* store_ = nullptr;
  std::vector<StoredMsg> to_store_;
  std::uint64_t unstored_id_ = 0;  // the newest direct message id, for the store's counter
  std::uint64_t oldest_ = 0;       // the oldest message the room still has (memory or store)
  std::uint64_t next_msg_id_ = 0;
  std::uint64_t next_seq_ = 0;
  bool closing_ = false;
};

// A new random id, 128 bits as 32 hex digits (room ids, reclaim secrets).
std::string random_token();

}  // namespace lanchat::net
