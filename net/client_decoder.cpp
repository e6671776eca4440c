// proto::ClientDecoder: the fast path for plain `say` lines (see protocol.hpp). It accepts
// a line only when it is sure decode_client would read the same message from it; at the
// first doubt it returns nothing and decode_client reads the line, errors and all.
//
// simdjson's DOM parser, not its on-demand one: Debian's library picks its SIMD kernels at
// run time for the DOM parser, while on-demand code is compiled into the caller for the
// instruction set the build targets, which for a portable x86-64 build is the scalar
// fallback, slower than nlohmann's SAX reader it is meant to replace.
#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "net/protocol.hpp"
#include "net/utf8.hpp"

namespace lanchat::proto {

struct ClientDecoder::Impl {
  simdjson::dom::parser parser;
  std::vector<char> padded;  // the line, with the zeroed tail simdjson reads past its end
};

ClientDecoder::ClientDecoder() : impl_(std::make_unique<Impl>()) {}
ClientDecoder::~ClientDecoder() = default;

Decoded<ClientMessage> ClientDecoder::decode(std::string_view line) {
  if (auto fast = decode_fast(line)) return std::move(*fast);
  return decode_client(line);
}

std::optional<Decoded<ClientMessage>> ClientDecoder::decode_fast(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Raw control bytes are never in a valid string, and a tab between tokens is rare: both
  // go the slow way, where nlohmann judges them.
  if (std::any_of(line.begin(), line.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return std::nullopt;
  }
  std::vector<char>& buf = impl_->padded;
  if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING) {
    buf.assign(line.size() + simdjson::SIMDJSON_PADDING, '\0');
  }
  std::memcpy(buf.data(), line.data(), line.size());
  std::memset(buf.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);

  simdjson::dom::element root;
  if (impl_->parser.parse(buf.data(), line.size(), /*realloc_if_needed=*/false).get(root)) {
    return std::nullopt;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) return std::nullopt;

  enum : unsigned { kType = 1, kText = 2, kTo = 4, kAction = 8, kRef = 16 };
  unsigned seen = 0;
  std::string text;
  std::optional<std::string> to;
  bool action = false;
  nlohmann::json ref = nullptr;
  for (const auto [key, value] : object) {
    unsigned bit = 0;
    std::string_view s;
    if (key == "type") {
      bit = kType;
      if (value.get_string().get(s) || s != "say") return std::nullopt;
    } else if (key == "text") {
      bit = kText;
      if (value.get_string().get(s)) return std::nullopt;
      text.assign(s);
    } else if (key == "to") {
      bit = kTo;
      if (value.get_string().get(s)) return std::nullopt;
      to.emplace(s);
    } else if (key == "action") {
      bit = kAction;
      if (value.get_bool().get(action)) return std::nullopt;
    } else if (key == "ref") {
      bit = kRef;
      using simdjson::dom::element_type;
      if (value.type() == element_type::STRING) {
        if (value.get_string().get(s)) return std::nullopt;
        ref = std::string(s);  // label() decides whether it is usable, as for decode_client
      } else if (value.type() == element_type::UINT64) {
        ref = value.get_uint64().value_unsafe();
      } else if (value.type() == element_type::INT64) {
        // nlohmann keeps a non-negative integer as unsigned: so does this, so the echo and
        // any comparison of the two decoders agree.
        const std::int64_t n = value.get_int64().value_unsafe();
        if (n >= 0) {
          ref = static_cast<std::uint64_t>(n);
        } else {
          ref = n;
        }
      } else {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
    if ((seen & bit) != 0) return std::nullopt;  // a repeated field: the last one wins there
    seen |= bit;
  }
  if ((seen & (kType | kText)) != (kType | kText)) return std::nullopt;
  // simdjson validated the line's UTF-8, so only an escape can have made a string invalid:
  // it may pass an escaped lone surrogate that nlohmann refuses.
  if (line.find("\\u") != std::string_view::npos &&
      (!utf8::is_valid(text) || (to && !utf8::is_valid(*to)))) {
    return std::nullopt;
  }
  auto decoded = say_of(std::move(text), std::move(to), action);
  label(decoded, std::move(ref));
  return decoded;
}

}  // namespace lanchat::proto
