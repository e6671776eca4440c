#include "net/address.hpp"

#include <gtest/gtest.h>

using namespace lanchat::net;

TEST(Address, HostAndOptionalPort) {
  auto a = std::get<HostPort>(parse_host_port("127.0.0.1", 5555));
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 5555);
  auto b = std::get<HostPort>(parse_host_port("localhost:6000", 5555));
  EXPECT_EQ(b.host, "localhost");
  EXPECT_EQ(b.port, 6000);
  auto c = std::get<HostPort>(parse_host_port("[::1]:7000", 5555));
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 7000);
  auto d = std::get<HostPort>(parse_host_port("::1", 5555));
  EXPECT_EQ(d.host, "::1");
}

TEST(Address, ClearErrors) {
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("", 5555)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("host:99999", 5555)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("host:0", 5555)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("host:", 5555)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("192.168.1.300", 5555)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("bad host", 5555)));
  const auto e = std::get<std::string>(parse_host_port("h:99999", 5555));
  EXPECT_NE(e.find("1 to 65535"), std::string::npos) << e;
}

TEST(Address, Ports) {
  EXPECT_EQ(std::get<std::uint16_t>(parse_port("65535", false)), 65535);
  EXPECT_EQ(std::get<std::uint16_t>(parse_port("0", true)), 0);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_port("0", false)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_port("65536", true)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_port("12a", true)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_port("-1", true)));
}

TEST(Address, HostPortTextIsWhatParseHostPortReads) {
  EXPECT_EQ(lanchat::net::host_port_text("10.0.0.5", 5555), "10.0.0.5:5555");
  EXPECT_EQ(lanchat::net::host_port_text("fe80::1%eth0", 5556), "[fe80::1%eth0]:5556");
  auto hp = lanchat::net::parse_host_port(lanchat::net::host_port_text("fe80::1%lo", 7), 1);
  ASSERT_TRUE(std::holds_alternative<lanchat::net::HostPort>(hp));
  EXPECT_EQ(std::get<lanchat::net::HostPort>(hp).host, "fe80::1%lo");
  EXPECT_EQ(std::get<lanchat::net::HostPort>(hp).port, 7);
}
