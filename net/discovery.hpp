#pragma once
// LAN discovery datagrams (docs/PROTOCOL.md, "Discovery"): a hosting lanchat announces its
// room, a joiner asks who is there, a host that stops says goodbye. Small JSON objects over
// UDP, apart from the TCP protocol and free of sockets so they can be unit-tested and fuzzed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "net/tls_mode.hpp"

namespace lanchat::net::discovery {

inline constexpr std::uint16_t kDefaultPort = 5555;
// Fits one unfragmented datagram on any link (IPv6's minimum MTU is 1280).
inline constexpr std::size_t kMaxDatagram = 1200;
inline constexpr int kFormat = 1;  // the datagrams' own version ("v")
// The IPv6 group: transient (1), link-local scope (2); the last 32 bits spell "lanc".
inline constexpr const char* kGroupV6 = "ff12::6c61:6e63";
inline constexpr std::size_t kMaxRoomBytes = 64;
// What this build calls itself in announcements and --version.
inline constexpr const char* kLanchatVersion = "0.2.0";

struct Announce {
  std::string instance;  // 16 hex digits, new for every run of a server
  std::string room;
  std::uint16_t port = 0;  // the TCP port to join on
  std::uint32_t users = 0;
  bool password = false;
  TlsMode tls = TlsMode::off;
  std::string fingerprint{};  // the host identity's, 64 hex digits; empty without TLS
  std::string version{kLanchatVersion};
  int proto = 1;                     // the TCP protocol version it speaks
  std::uint32_t interval_ms = 3000;  // the next announcement comes within this
  // Set only when the host listens on one address: join there rather than at the
  // datagram's source address.
  std::string address{};
};
struct Query {};
struct Goodbye {
  std::string instance;
};
using Datagram = std::variant<Announce, Query, Goodbye>;

std::string encode(const Announce& a);
std::string encode(const Query& q);
std::string encode(const Goodbye& g);

// One received datagram, or why it was dropped. Never throws.
std::variant<Datagram, std::string> parse(std::string_view bytes);

// A new random instance id (16 hex digits).
std::string new_instance_id();

}  // namespace lanchat::net::discovery
