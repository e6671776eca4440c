// libFuzzer target: arbitrary bytes through the line framer, the decoders (the server's
// simdjson path for say lines must agree with decode_client wherever it answers) and the field
// validators, the input line's command parser and mention matching. Must never crash, and what
// decodes must survive an encode/decode round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/commands.hpp"
#include "net/line_framer.hpp"
#include "net/log_text.hpp"
#include "net/nick.hpp"
#include "net/protocol.hpp"
#include "net/utf8.hpp"

using namespace lanchat;

namespace {

void require(bool ok) {
  if (!ok) std::abort();  // an invariant broke: libFuzzer reports the input
}

void check_line(proto::ClientDecoder& decoder, std::string_view line) {
  auto c = proto::decode_client(line);
  // The server's fast path for say lines reads a line the same way or not at all.
  if (auto fast = decoder.decode_fast(line)) require(*fast == c);
  if (auto* m = std::get_if<proto::ClientMessage>(&c)) {
    std::visit(
        [](const auto& msg) {
          const std::string again = proto::encode(msg);
          require(!again.empty() && again.back() == '\n');
          require(again.find('\n') == again.size() - 1);  // one message, one line
          auto back = proto::decode_client(std::string_view(again).substr(0, again.size() - 1));
          require(std::holds_alternative<proto::ClientMessage>(back));
        },
        *m);
  } else {
    require(!std::get<proto::Error>(c).code.empty());
  }
  auto s = proto::decode_server(line);
  if (auto* m = std::get_if<proto::ServerMessage>(&s)) {
    std::visit([](const auto& msg) { require(!proto::encode(msg).empty()); }, *m);
  }
  if (utf8::is_valid(line)) {
    (void)utf8::length(line);
    const auto keys = nick::keys_of(line);
    require(nick::look_alike(keys, nick::keys_of(line)));  // deterministic
    (void)nick::reserved_lookalike(keys);
    (void)net::escaped(line);
    (void)nick::fold_case(line);
    // Mention matching both ways round.
    const std::size_t half = line.size() / 2;
    (void)nick::mentions(line.substr(0, half), line.substr(half));
    (void)nick::mentions(line, "bob");
  }
  (void)net::parse_command(line);  // stdin of `lanchat join` may be any bytes
  (void)proto::check_nick(line);
  (void)proto::check_text(line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Small cap so over-long handling is exercised with small inputs too.
  const std::size_t cap = size > 0 ? 64 + data[0] : 64;
  net::LineFramer framer(cap);
  proto::ClientDecoder decoder;
  framer.feed(
      bytes,
      [&](std::string_view line) {
        check_line(decoder, line);
        return true;
      },
      [] { return true; });
  require(framer.buffered() < cap);
  check_line(decoder, bytes);  // the whole input as one line too
  return 0;
}
