// libFuzzer target: arbitrary bytes as a discovery datagram (what anyone on the LAN can
// send to UDP 5555). Must never crash; what parses must survive an encode/parse round trip
// and still fit one datagram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/discovery.hpp"

using namespace lanchat::net;

namespace {
void require(bool ok) {
  if (!ok) std::abort();  // an invariant broke: libFuzzer reports the input
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto parsed = discovery::parse(bytes);
  auto* d = std::get_if<discovery::Datagram>(&parsed);
  if (d == nullptr) {
    require(!std::get<std::string>(parsed).empty());
    return 0;
  }
  std::visit(
      [](const auto& msg) {
        const std::string again = discovery::encode(msg);
        require(again.size() <= discovery::kMaxDatagram);
        auto reparsed = discovery::parse(again);
        require(std::holds_alternative<discovery::Datagram>(reparsed));
        using T = std::decay_t<decltype(msg)>;
        const auto* back = std::get_if<T>(&std::get<discovery::Datagram>(reparsed));
        require(back != nullptr);
        if constexpr (std::is_same_v<T, discovery::Announce>) {
          require(back->instance == msg.instance && back->room == msg.room &&
                  back->port == msg.port && back->users == msg.users &&
                  back->password == msg.password && back->tls == msg.tls &&
                  back->fingerprint == msg.fingerprint && back->address == msg.address);
        }
      },
      *d);
  return 0;
}
