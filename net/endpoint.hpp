#pragma once
// Endpoint helpers that need asio (server side and the headless host).
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <string>
#include <variant>

namespace lanchat::net {

std::string to_string(const asio::ip::tcp::endpoint& ep);

// The endpoint to bind for an address literal or a name such as "localhost".
std::variant<asio::ip::tcp::endpoint, std::string> resolve_bind_endpoint(
    asio::io_context& io, const std::string& address, std::uint16_t port);

}  // namespace lanchat::net
