#pragma once
// What the network thread tells the UI (or a headless front end). Plain values only:
// the consumer owns its model and never reaches back into network objects.
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "net/protocol.hpp"

namespace lanchat::net {

enum class LogLevel : std::uint8_t { debug, info, warn, error };
const char* to_string(LogLevel level);

// ---- server side: the host's event log and users table ----
struct ServerLog {
  std::int64_t ts = 0;  // ms since epoch
  LogLevel level = LogLevel::info;
  std::string text;
};
struct ServerListening {
  std::string address;
  std::uint16_t port = 0;
  std::string room;
};
struct ServerFailed {
  std::string error;  // could not bind/listen
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
};
struct PeerClosed {
  std::uint64_t conn = 0;
  std::string reason;  // a leave reason, or "disconnect" for one that never joined
  std::int64_t ts = 0;
};

// ---- client side: the chat view ----
struct ClientConnecting {
  std::string host;
  std::uint16_t port = 0;
  int attempt = 0;  // 0 = first try, then reconnect attempts
};
struct ClientWelcome {
  proto::Welcome welcome;
  bool rejoined = false;  // true after an automatic reconnect
};
struct ClientChat {
  proto::ChatMsg msg;
};
struct ClientJoin {
  proto::Join join;
};
struct ClientLeave {
  proto::Leave leave;
};
// An error reply while joined (bad_text, rate_limited, ...): shown, the session goes on.
struct ClientServerError {
  proto::Error error;
};
// hello refused (nick_taken, bad_nick, bad_password, server_full): the client closed.
struct ClientRejected {
  proto::Error error;
};
struct ClientRtt {
  std::chrono::microseconds rtt{0};
};
struct ClientShutdown {
  std::string reason;  // the server closed on purpose: no reconnect
};
// Connection failed or was lost. retry_in > 0: a reconnect is scheduled.
struct ClientDisconnected {
  std::string error;
  bool was_joined = false;
  std::chrono::milliseconds retry_in{0};
};
// The client finished on request (bye sent and acknowledged by close).
struct ClientClosed {};

using Event = std::variant<ServerLog, ServerListening, ServerFailed, ServerStopped, PeerConnected,
                           PeerJoined, PeerClosed, ClientConnecting, ClientWelcome, ClientChat,
                           ClientJoin, ClientLeave, ClientServerError, ClientRejected, ClientRtt,
                           ClientShutdown, ClientDisconnected, ClientClosed>;

std::int64_t now_ms();

}  // namespace lanchat::net
