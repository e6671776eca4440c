#pragma once
// What the windows ask the application to do. The app turns these into posts to the
// network thread; the windows never see the network.
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "net/tls_mode.hpp"

namespace lanchat::ui {

struct HostRequest {
  std::string bind;
  std::uint16_t port = 0;
  std::string room;
  std::string nick;
  std::string password;
  // With a password, `on` becomes `required` unless allow_plaintext_password.
  net::TlsMode tls = net::TlsMode::on;
  bool allow_plaintext_password = false;
};
struct JoinRequest {
  std::string host;
  std::uint16_t port = 0;
  std::string nick;
  std::string password;
  std::string fingerprint{};  // pinned ahead of time; empty: known_hosts or first use
  bool plaintext = false;     // no TLS, on purpose
};
// After ClientIdentityMismatch, the person's explicit decision: from now on trust what
// this host shows (fingerprint; empty: that it offers no encryption), and join again.
struct TrustIdentity {
  std::string host;
  std::uint16_t port = 0;
  std::string fingerprint;
};
struct SendText {
  std::string text;
  std::string to;  // a direct message to this nick
  bool action = false;
};
struct ChangeNick {
  std::string nick;
};
// Open the conversation with someone (a click in the users list).
struct OpenDirect {
  std::string peer;
};
// A line in the chat that only this window shows (the answer to /help).
struct ShowInfo {
  std::string text;
};
// The host's moderation of one connection (by its number, as in the panel).
struct Moderate {
  enum class Kind : std::uint8_t { kick, mute, unmute, ban };
  Kind kind = Kind::kick;
  std::uint64_t conn = 0;
  std::string reason;
  std::chrono::seconds duration{0};  // bans: 0 until unbanned
};
struct Unban {
  std::string address;
};
struct SetNotifications {
  bool on = true;
};
// After the server refused our nick (taken while we were away, or by someone faster than
// the host's own client): join again as this one.
struct RejoinAs {
  std::string nick;
};
// A message that could not be sent: try again, or forget it.
struct RetrySay {
  std::uint64_t local_id = 0;
};
struct DismissSay {
  std::uint64_t local_id = 0;
};
// History and search.
struct LoadOlder {
  std::uint64_t before = 0;
};
struct SearchFor {
  std::string text;
};
struct ShowContext {
  std::uint64_t id = 0;
};
struct StopServer {
  std::string reason;
};
struct LeaveRoom {};  // back to the launcher (stops our server if we host)
// Ask the LAN again which rooms are there (the Join tab's Refresh).
struct RefreshRooms {};
// A link in a message was clicked: the desktop opens it (xdg-open).
struct OpenLink {
  std::string url;
};
// Ctrl + wheel, Ctrl +/-/0: the text size, in steps (0: back to the default).
struct ZoomText {
  int steps = 0;
};

using Action = std::variant<HostRequest, JoinRequest, SendText, ChangeNick, OpenDirect, ShowInfo,
                            Moderate, Unban, SetNotifications, RejoinAs, RetrySay, DismissSay,
                            LoadOlder, SearchFor, ShowContext, StopServer, LeaveRoom, TrustIdentity,
                            RefreshRooms, OpenLink, ZoomText>;
using ActionList = std::vector<Action>;

}  // namespace lanchat::ui
