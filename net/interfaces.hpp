#pragma once
// The machine's LAN interfaces as discovery needs them: up, not loopback, with their IPv4
// broadcast addresses and whether they carry IPv6 multicast. Read fresh each time (cables
// come and go; Wi-Fi changes network): getifaddrs is one netlink round trip, no disk.
#include <array>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>
#include <asio/ip/udp.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "net/discovery.hpp"

namespace lanchat::net {

struct LanInterface {
  std::string name;
  unsigned index = 0;
  struct V4 {
    asio::ip::address_v4 address;
    asio::ip::address_v4 broadcast;
  };
  std::vector<V4> v4;         // only on broadcast-capable interfaces
  bool multicast_v6 = false;  // up, multicast-capable and has an IPv6 address
  std::vector<asio::ip::address_v6> v6;
};

std::vector<LanInterface> lan_interfaces();

// Where a discovery datagram goes on each interface: its IPv4 broadcast address(es) and
// the IPv6 group scoped to it.
struct LanTargets {
  std::vector<asio::ip::udp::endpoint> v4;
  std::vector<asio::ip::udp::endpoint> v6;
  std::vector<unsigned> v6_interfaces;  // to join the group on
  std::string description;              // "eth0 10.0.0.5, wlan0 IPv6" for the log
};
// only: restrict to the interface holding this address (unspecified: all).
LanTargets lan_targets(const std::vector<LanInterface>& interfaces, std::uint16_t port,
                       bool want_v4, bool want_v6, const asio::ip::address& only = {});

// A socket every lanchat on this machine can bind to the discovery port at once, so that
// each receives the broadcasts and group datagrams (SO_REUSEADDR). Returns why not.
std::optional<std::string> open_shared_udp(asio::ip::udp::socket& socket, bool v6,
                                           std::uint16_t port);
// Joins the discovery group on one interface (already joined is fine).
void join_group(asio::ip::udp::socket& socket, unsigned interface_index);

// A UDP socket and the buffer its datagrams land in, one receive in flight.
struct DatagramSocket {
  explicit DatagramSocket(asio::io_context& io) : socket(io) {}
  asio::ip::udp::socket socket;
  asio::ip::udp::endpoint from;                            // the last datagram's sender
  std::array<char, discovery::kMaxDatagram + 1> buffer{};  // one more: oversized shows
};
// Receives datagrams one after another, each handed to `handle` (its size; the bytes are in
// s.buffer) until the socket closes or `handle` returns false. `handle` keeps s's owner alive.
void receive_datagrams(DatagramSocket& s, std::function<bool(std::size_t)> handle);

}  // namespace lanchat::net
