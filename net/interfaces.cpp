#include "net/interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <asio/ip/multicast.hpp>
#include <asio/ip/v6_only.hpp>
#include <cstring>

#include "net/discovery.hpp"

namespace lanchat::net {

std::vector<LanInterface> lan_interfaces() {
  std::vector<LanInterface> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  auto entry = [&](const ifaddrs* ifa) -> LanInterface& {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const LanInterface& i) { return i.name == ifa->ifa_name; });
    if (it != out.end()) return *it;
    LanInterface i;
    i.name = ifa->ifa_name;
    i.index = if_nametoindex(ifa->ifa_name);
    out.push_back(std::move(i));
    return out.back();
  };
  for (const ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr) continue;
    const unsigned flags = ifa->ifa_flags;
    if ((flags & IFF_UP) == 0 || (flags & IFF_LOOPBACK) != 0) continue;
    if (ifa->ifa_addr->sa_family == AF_INET && (flags & IFF_BROADCAST) != 0 &&
        ifa->ifa_netmask != nullptr) {
      sockaddr_in addr{};
      sockaddr_in mask{};
      std::memcpy(&addr, ifa->ifa_addr, sizeof addr);
      std::memcpy(&mask, ifa->ifa_netmask, sizeof mask);
      // From address and mask rather than the configured broadcast address, which an
      // interface set up by hand (`ip addr add` without `brd +`) leaves at 0.0.0.0.
      const std::uint32_t a = ntohl(addr.sin_addr.s_addr);
      const std::uint32_t m = ntohl(mask.sin_addr.s_addr);
      if (m == 0xFFFFFFFFU || m == 0xFFFFFFFEU) continue;  // /32 and /31 have no broadcast
      entry(ifa).v4.push_back({asio::ip::address_v4(a), asio::ip::address_v4(a | ~m)});
    } else if (ifa->ifa_addr->sa_family == AF_INET6 && (flags & IFF_MULTICAST) != 0) {
      sockaddr_in6 addr{};
      std::memcpy(&addr, ifa->ifa_addr, sizeof addr);
      std::array<unsigned char, 16> bytes{};
      std::memcpy(bytes.data(), &addr.sin6_addr, 16);
      LanInterface& i = entry(ifa);
      i.multicast_v6 = true;
      i.v6.emplace_back(bytes, addr.sin6_scope_id);
    }
  }
  freeifaddrs(list);
  std::erase_if(
      out, [](const LanInterface& i) { return i.index == 0 || (i.v4.empty() && !i.multicast_v6); });
  return out;
}

}  // namespace lanchat::net

namespace lanchat::net {

LanTargets lan_targets(const std::vector<LanInterface>& interfaces, std::uint16_t port,
                       bool want_v4, bool want_v6, const asio::ip::address& only) {
  LanTargets t;
  const auto group = asio::ip::make_address_v6(discovery::kGroupV6);
  const bool any = only.is_unspecified();
  for (const LanInterface& i : interfaces) {
    std::string used;
    if (want_v4 && (any || only.is_v4())) {
      for (const auto& a : i.v4) {
        if (!any && a.address != only.to_v4()) continue;
        used += (used.empty() ? "" : " ") + a.address.to_string();
        // Two addresses in one subnet share its broadcast address: one datagram is enough.
        const asio::ip::udp::endpoint ep(a.broadcast, port);
        if (std::find(t.v4.begin(), t.v4.end(), ep) != t.v4.end()) continue;
        t.v4.push_back(ep);
      }
    }
    const bool has_only_v6 =
        !any && only.is_v6() &&
        std::any_of(i.v6.begin(), i.v6.end(), [&](const auto& a) { return a == only.to_v6(); });
    if (want_v6 && i.multicast_v6 && (any || has_only_v6)) {
      auto scoped = group;
      scoped.scope_id(i.index);
      t.v6.emplace_back(scoped, port);
      t.v6_interfaces.push_back(i.index);
      used += used.empty() ? "IPv6" : " and IPv6";
    }
    if (!used.empty()) t.description += (t.description.empty() ? "" : ", ") + i.name + " " + used;
  }
  return t;
}

std::optional<std::string> open_shared_udp(asio::ip::udp::socket& socket, bool v6,
                                           std::uint16_t port) {
  asio::error_code ec;
  socket.open(v6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
  if (!ec) socket.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && v6) socket.set_option(asio::ip::v6_only(true), ec);
  if (!ec && !v6) socket.set_option(asio::socket_base::broadcast(true), ec);
  if (!ec && v6) socket.set_option(asio::ip::multicast::hops(1), ec);
  if (!ec) {
    socket.bind(asio::ip::udp::endpoint(v6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), port), ec);
  }
  if (!ec) return std::nullopt;
  asio::error_code ignored;
  socket.close(ignored);
  if (ec == asio::error::address_in_use) {
    return "UDP port " + std::to_string(port) + " is taken by another program";
  }
  return ec.message();
}

void receive_datagrams(DatagramSocket& s, std::function<bool(std::size_t)> handle) {
  s.socket.async_receive_from(
      asio::buffer(s.buffer), s.from,
      [&s, handle = std::move(handle)](const asio::error_code& ec, std::size_t n) mutable {
        if (ec == asio::error::operation_aborted || !s.socket.is_open()) return;
        // An error on one datagram (an ICMP unreachable for an earlier send) is not the end.
        if (!ec && !handle(n)) return;
        receive_datagrams(s, std::move(handle));
      });
}

void join_group(asio::ip::udp::socket& socket, unsigned interface_index) {
  asio::error_code ignored;  // joined already, or the interface just went away
  socket.set_option(asio::ip::multicast::join_group(asio::ip::make_address_v6(discovery::kGroupV6),
                                                    interface_index),
                    ignored);
}

}  // namespace lanchat::net
