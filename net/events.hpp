#pragma once
// What the network thread tells the UI (or a headless front end). Plain values only:
// the consumer owns its model and never reaches back into network objects.
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "net/protocol.hpp"
#include "net/tls_mode.hpp"

namespace lanchat::net {

// Names one Server or Client object for its whole life. Every event carries the id of the
// instance that emitted it, so the owner can ignore what a server or client it has already
// let go of says while it winds down (its ServerStopped must not reset a newer server).
using InstanceId = std::uint64_t;
InstanceId next_instance_id();

enum class LogLevel : std::uint8_t { debug, info, warn, error };
const char* to_string(LogLevel level);

// ---- server side: the host's event log and users table ----
struct ServerLog {
  std::int64_t ts = 0;  // ms since epoch
  LogLevel level = LogLevel::info;
  std::string text;  // every client-supplied string in it is already escaped
};
struct ServerListening {
  std::string address;
  std::uint16_t port = 0;
  std::string room;
  TlsMode tls = TlsMode::off;  // what the port offers
  std::string fingerprint{};   // the host identity's (hex); empty without TLS
};
struct ServerFailed {
  std::string error;   // could not bind/listen, or open the room's store
  bool store = false;  // the store would not open
};
struct ServerStopped {
  std::string reason;
};
struct PeerConnected {
  std::uint64_t conn = 0;
  std::string address;
  std::int64_t ts = 0;
};
struct PeerJoined {
  std::uint64_t conn = 0;
  std::string nick;
  std::int64_t ts = 0;
  bool host = false;  // the host's own client, which moderation never targets
};
// A connection finished its TLS handshake ("TLSv1.3 TLS_AES_256_GCM_SHA384").
struct PeerSecured {
  std::uint64_t conn = 0;
  std::string description;
};
struct PeerNick {
  std::uint64_t conn = 0;
  std::string nick;  // its new nick
};
struct PeerMuted {
  std::uint64_t conn = 0;
  bool muted = false;
};
// The room's bans, all of them, whenever they change.
struct ServerBans {
  struct Entry {
    std::string address;
    std::int64_t until = 0;  // ms since the epoch; 0: until unbanned
    std::string nick;
    std::string reason;
  };
  std::vector<Entry> bans;
};
struct PeerClosed {
  std::uint64_t conn = 0;
  std::string reason;  // a leave reason, or "disconnect" for one that never joined
  std::int64_t ts = 0;
};
// The room's store: where it is, how big, and whether writing to it works.
struct ServerStore {
  std::string path;  // empty: in memory only
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  bool failing = false;
  std::string error{};
  std::uint64_t unsaved = 0;  // messages waiting to be written while it fails
};
// The whole connections table at once: sent after the queue overflowed and dropped
// some of the events above, so the panel is right again.
struct ServerSnapshot {
  struct Peer {
    std::uint64_t conn = 0;
    std::string address;
    std::string nick;  // empty: not joined
    std::int64_t since = 0;
    bool host = false;
    bool muted = false;
    std::string tls{};  // its PeerSecured description; empty: plain JSON
  };
  std::vector<Peer> peers;
};

// ---- client side: the chat view ----
struct ClientConnecting {
  std::string host;
  std::uint16_t port = 0;
  int attempt = 0;  // 0 = first try, then reconnect attempts
};
struct ClientWelcome {
  proto::Welcome welcome;  // history holds only what this client has not shown yet
  bool rejoined = false;   // true after an automatic reconnect
  // After a rejoin: the room's id is the one we knew, so history continues where it left
  // off; false means the server restarted without its history (ids start over).
  bool same_room = false;
  // Messages this client sent before the link dropped whose echo it never saw, found in
  // the history: they did reach the room (their lines are in `history`), by local id.
  std::vector<std::uint64_t> confirmed{};
};
struct ClientChat {
  proto::ChatMsg msg;
  // Non-zero when this is the server's echo of a message this client sent: the id the
  // front end gave it in say(), so a pending line can become the real one.
  std::uint64_t local_id = 0;
};
struct ClientJoin {
  proto::Join join;
};
struct ClientNick {
  proto::NickChanged change;
  bool mine = false;  // it was this client's own nick
};
struct ClientNotice {
  proto::Notice notice;
};
struct ClientLeave {
  proto::Leave leave;
};
// A large room's summary of joins and leaves (see proto::Presence). When it could not list
// them (`listed` false), a ClientSnapshot with the whole list follows once it is fetched.
struct ClientPresence {
  proto::Presence presence;
};
// An error reply while joined (bad_text, rate_limited, ...): shown, the session goes on.
struct ClientServerError {
  proto::Error error;
};
// A message the user sent that will not be delivered: refused by the server (the error
// says why) or given up because the connection ended.
struct ClientSayFailed {
  std::uint64_t local_id = 0;
  std::string text;
  proto::Error error;
};
// hello refused (nick_taken, bad_nick, bad_password, server_full). The client keeps its
// unsent messages and waits: rejoin_as() tries again with another nick.
struct ClientRejected {
  proto::Error error;
  bool was_joined = false;  // refused while reconnecting (the nick was taken meanwhile)
  std::string nick{};       // the nick that was asked for
};
// A page of older messages (the answer to load_older), or the messages around a search
// hit (the answer to show_context: `around` is the hit's id). error: it failed, and why.
struct ClientHistory {
  std::vector<proto::ChatMsg> msgs;  // oldest first
  bool more = false;                 // older ones exist
  std::uint64_t around = 0;
  std::string error{};
};
struct ClientFound {
  std::string text;
  std::vector<proto::ChatMsg> msgs;  // newest first
  std::string error{};
};
struct ClientRtt {
  std::chrono::microseconds rtt{0};
};
struct ClientShutdown {
  std::string reason;  // the server closed on purpose: no reconnect
};
// The host removed us from the room: no reconnect either.
struct ClientKicked {
  std::string message;
};
// The connection is encrypted: TLS with the host whose certificate has this fingerprint.
// first_contact: nothing was pinned for this host before (the owner records it, as SSH
// records a new host key); otherwise it matched the pinned one.
struct ClientSecured {
  std::string fingerprint;  // 64 hex digits
  std::string description;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  bool first_contact = false;
};
// The host is not the one this client pinned: it showed another certificate, or (got
// empty) no longer offers encryption at all. Nothing was sent; the client has ended and
// never reconnects on its own. Trusting the new identity is the person's decision.
struct ClientIdentityMismatch {
  std::string host;
  std::uint16_t port = 0;
  std::string expected;  // the pinned fingerprint
  std::string got;       // what the host showed; empty: it offered no TLS
  std::string message;   // a full explanation, both fingerprints grouped
};
// Connection failed or was lost. retry_in > 0: a reconnect is scheduled.
struct ClientDisconnected {
  std::string error;
  bool was_joined = false;
  std::chrono::milliseconds retry_in{0};
};
// The client finished on request (bye sent and acknowledged by close).
struct ClientClosed {};
// Who is in the room, all at once (after the queue overflowed; see ServerSnapshot).
struct ClientSnapshot {
  std::vector<std::string> users;
};

// ---- discovery: rooms announced on the LAN (net::Browser) ----
struct FoundRoom {
  std::string instance;  // the announcing server's run
  std::string room;
  std::string address;  // where to join: an address this machine heard it from
  std::uint16_t port = 0;
  std::uint32_t users = 0;
  bool password = false;
  TlsMode tls = TlsMode::off;
  std::string fingerprint{};  // hex; empty without TLS
  std::string version{};
  int proto = 1;
  std::int64_t seen = 0;  // ms since the epoch, last heard
};
// Whether two sightings of a room list the same thing (all but when it was seen).
bool same_listing(const FoundRoom& a, const FoundRoom& b);
// Every room heard of, whenever the list changes (coalesced).
struct RoomsFound {
  std::vector<FoundRoom> rooms;  // in the order first heard
  std::int64_t since = 0;        // when looking began (ms since the epoch)
  std::size_t interfaces = 0;    // LAN interfaces the queries went out on
  std::string problem{};         // why fewer rooms may show than there are
  std::uint64_t dropped = 0;     // datagrams dropped (malformed, spoofed, list full)
};

// Made by the consumer's queue, not by the network: events it had to drop because the
// consumer fell too far behind (see EventQueue).
struct EventsDropped {
  std::uint64_t chat = 0;   // chat messages not shown
  std::uint64_t log = 0;    // server log lines
  std::uint64_t other = 0;  // state changes (followed by a snapshot)
};

using EventData =
    std::variant<ServerLog, ServerListening, ServerFailed, ServerStopped, PeerConnected, PeerJoined,
                 PeerClosed, PeerSecured, PeerNick, PeerMuted, ServerBans, ServerSnapshot,
                 ServerStore, ClientConnecting, ClientWelcome, ClientChat, ClientJoin, ClientNick,
                 ClientNotice, ClientLeave, ClientPresence, ClientServerError, ClientSayFailed,
                 ClientHistory, ClientFound, ClientRejected, ClientRtt, ClientShutdown,
                 ClientKicked, ClientDisconnected, ClientClosed, ClientSnapshot, ClientSecured,
                 ClientIdentityMismatch, RoomsFound, EventsDropped>;

struct Event {
  Event() = default;
  // Implicit, so a payload can be passed where an event is expected (tests, models).
  template <class T>
  requires std::is_constructible_v<EventData, T&&> Event(
      T&& payload, InstanceId from = 0)  // NOLINT(google-explicit-constructor)
      : source(from), data(std::forward<T>(payload)) {}

  InstanceId source = 0;
  EventData data;
};

std::int64_t now_ms();

// A large room's summary for people: "carol and dave joined, erin left (523 in the room)";
// "250 joined, 3 left (10,000 in the room)" when it could not list them.
std::string describe_presence(const proto::Presence& p);
// Applies a summary's listed changes to a member list (left first, then joined, which keeps
// a leave and a rejoin under the same nick right); an unlisted summary changes nothing.
void apply_presence(std::vector<std::string>& users, const proto::Presence& p);

}  // namespace lanchat::net
