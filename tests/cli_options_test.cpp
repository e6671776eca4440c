// Command-line limits reach the server whether it runs headless or in the window (both
// build their ServerConfig with server_config()).
#include <gtest/gtest.h>

#include <vector>

#include "app/cli.hpp"

namespace {

lanchat::app::Options parse(std::vector<const char*> args) {
  args.insert(args.begin(), "lanchat");
  auto parsed =
      lanchat::app::parse_cli(static_cast<int>(args.size()), const_cast<char**>(args.data()));
  EXPECT_TRUE(std::holds_alternative<lanchat::app::Options>(parsed));
  return std::get<lanchat::app::Options>(parsed);
}

}  // namespace

TEST(CliOptions, HostLimitsReachTheServerConfig) {
  auto o = parse({"host",      "--nick",
                  "teacher",   "--bind",
                  "127.0.0.1", "--port",
                  "6000",      "--name",
                  "Aula 3",    "--max-msg-rate",
                  "0",         "--max-msg-burst",
                  "5",         "--max-clients",
                  "50",        "--max-per-ip",
                  "3",         "--max-backlog-kib",
                  "128",       "--dead-peer-timeout",
                  "0"});
  const auto c = lanchat::app::server_config(o.host);
  EXPECT_EQ(c.bind_address, "127.0.0.1");
  EXPECT_EQ(c.port, 6000);
  EXPECT_EQ(c.room, "Aula 3");
  EXPECT_EQ(c.max_msg_rate, 0.0);
  EXPECT_EQ(c.max_msg_burst, 5u);
  EXPECT_EQ(c.max_clients, 50u);
  EXPECT_EQ(c.max_per_ip, 3u);
  EXPECT_EQ(c.max_backlog_bytes, 128u * 1024);
  EXPECT_EQ(c.keepalive_count, 0);
}

TEST(CliOptions, DefaultsAreTheServersDefaults) {
  auto o = parse({"host", "--headless"});
  const auto c = lanchat::app::server_config(o.host);
  const lanchat::net::ServerConfig d;
  EXPECT_EQ(c.max_msg_rate, d.max_msg_rate);
  EXPECT_EQ(c.max_msg_burst, d.max_msg_burst);
  EXPECT_EQ(c.max_clients, d.max_clients);
  EXPECT_EQ(c.max_per_ip, d.max_per_ip);
  EXPECT_EQ(c.max_backlog_bytes, d.max_backlog_bytes);
}

TEST(CliOptions, HostsAnnounceUnlessToldNotTo) {
  auto o = parse({"host", "--headless"});
  EXPECT_TRUE(lanchat::app::server_config(o.host).announce.enabled);
  EXPECT_EQ(lanchat::app::server_config(o.host).announce.port, 5555);
  EXPECT_TRUE(o.discovery);

  o = parse({"host", "--headless", "--no-announce"});
  EXPECT_FALSE(lanchat::app::server_config(o.host).announce.enabled);

  o = parse({"host", "--headless", "--announce-port", "6001"});
  EXPECT_EQ(lanchat::app::server_config(o.host).announce.port, 6001);
  EXPECT_EQ(o.discovery_port, 6001);

  // --no-discovery keeps the whole program off the LAN's discovery, wherever it is written.
  for (auto args : {std::vector<const char*>{"--no-discovery", "host"},
                    std::vector<const char*>{"host", "--no-discovery"}}) {
    o = parse(args);
    EXPECT_FALSE(o.discovery);
    EXPECT_FALSE(lanchat::app::server_config(o.host).announce.enabled);
  }
  // The library's own default stays quiet (tests and embedders never broadcast by accident).
  EXPECT_FALSE(lanchat::net::ServerConfig{}.announce.enabled);
}

TEST(CliOptions, ListOptions) {
  auto o = parse({"list"});
  EXPECT_EQ(o.mode, lanchat::app::Mode::list);
  EXPECT_DOUBLE_EQ(o.list.timeout, 1.5);
  EXPECT_FALSE(o.list.json);
  o = parse({"list", "--timeout", "0.4", "--json", "--watch", "--port", "6001"});
  EXPECT_DOUBLE_EQ(o.list.timeout, 0.4);
  EXPECT_TRUE(o.list.json);
  EXPECT_TRUE(o.list.watch);
  EXPECT_EQ(o.list.port, 6001);
}
