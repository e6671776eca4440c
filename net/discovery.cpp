#include "net/discovery.hpp"

#include <nlohmann/json.hpp>
#include <random>

#include "net/fingerprint.hpp"
#include "net/utf8.hpp"

namespace lanchat::net::discovery {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

std::string dump(const ojson& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

bool printable_utf8(std::string_view s) {
  if (!utf8::is_valid(s)) return false;
  for (std::size_t i = 0; i < s.size();) {
    const char32_t c = utf8::next(s, i);
    if (utf8::is_control(c)) return false;
  }
  return true;
}

// The room name as it fits an announcement: at most kMaxRoomBytes, cut on a character.
std::string fit_room(const std::string& room) {
  if (room.size() <= kMaxRoomBytes) return room;
  std::size_t end = kMaxRoomBytes;
  while (end > 0 && (static_cast<unsigned char>(room[end]) & 0xC0U) == 0x80U) --end;
  return room.substr(0, end);
}

const json* field(const json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

std::optional<std::string> instance_of(const json& j) {
  const json* v = field(j, "instance");
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() < 8 || s.size() > 32 || !is_hex(s)) return std::nullopt;
  return s;
}

}  // namespace

std::string encode(const Announce& a) {
  ojson j;
  j["lanchat"] = "announce";
  j["v"] = kFormat;
  j["instance"] = a.instance;
  j["room"] = fit_room(a.room);
  j["port"] = a.port;
  j["users"] = a.users;
  j["password"] = a.password;
  j["tls"] = to_string(a.tls);
  j["tls_fingerprint"] = a.fingerprint;
  j["version"] = a.version;
  j["proto"] = a.proto;
  j["interval_ms"] = a.interval_ms;
  if (!a.address.empty()) j["address"] = a.address;
  return dump(j);
}

std::string encode(const Query&) {
  ojson j;
  j["lanchat"] = "query";
  j["v"] = kFormat;
  return dump(j);
}

std::string encode(const Goodbye& g) {
  ojson j;
  j["lanchat"] = "goodbye";
  j["v"] = kFormat;
  j["instance"] = g.instance;
  return dump(j);
}

std::variant<Datagram, std::string> parse(std::string_view bytes) {
  using R = std::variant<Datagram, std::string>;
  if (bytes.size() > kMaxDatagram) return R{std::string("oversized")};
  // Depth needs one opener per level; a datagram of ours has one object and no arrays.
  if (std::count_if(bytes.begin(), bytes.end(), [](char c) { return c == '{' || c == '['; }) > 8) {
    return R{std::string("nested too deep")};
  }
  const json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return R{std::string("not a JSON object")};
  const json* kind = field(j, "lanchat");
  const json* v = field(j, "v");
  if (kind == nullptr || !kind->is_string()) return R{std::string("not a lanchat datagram")};
  // Later formats keep every field of this one, so any v >= 1 is read.
  if (v == nullptr || !v->is_number_integer() || v->get<std::int64_t>() < 1) {
    return R{std::string("no format version")};
  }
  const auto& type = kind->get_ref<const std::string&>();
  if (type == "query") return R{Datagram{Query{}}};
  if (type == "goodbye") {
    auto id = instance_of(j);
    if (!id) return R{std::string("goodbye without an instance id")};
    return R{Datagram{Goodbye{std::move(*id)}}};
  }
  if (type != "announce") return R{std::string("unknown datagram type")};

  Announce a;
  auto id = instance_of(j);
  if (!id) return R{std::string("announce without an instance id")};
  a.instance = std::move(*id);
  const json* room = field(j, "room");
  if (room == nullptr || !room->is_string()) return R{std::string("announce without a room")};
  a.room = room->get<std::string>();
  if (a.room.empty() || a.room.size() > kMaxRoomBytes || !printable_utf8(a.room)) {
    return R{std::string("bad room name")};
  }
  const json* port = field(j, "port");
  if (port == nullptr || !port->is_number_unsigned() || port->get<std::uint64_t>() == 0 ||
      port->get<std::uint64_t>() > 65535) {
    return R{std::string("bad port")};
  }
  a.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  const json* users = field(j, "users");
  if (users == nullptr || !users->is_number_unsigned() || users->get<std::uint64_t>() > 10000000) {
    return R{std::string("bad users count")};
  }
  a.users = static_cast<std::uint32_t>(users->get<std::uint64_t>());
  const json* password = field(j, "password");
  if (password == nullptr || !password->is_boolean()) return R{std::string("bad password flag")};
  a.password = password->get<bool>();
  if (const json* tls = field(j, "tls"); tls != nullptr) {
    const auto mode =
        tls->is_string() ? parse_tls_mode(tls->get_ref<const std::string&>()) : std::nullopt;
    if (!mode) return R{std::string("bad tls mode")};
    a.tls = *mode;
  }
  if (const json* fp = field(j, "tls_fingerprint"); fp != nullptr && !fp->is_null()) {
    if (!fp->is_string()) return R{std::string("bad tls_fingerprint")};
    const auto& s = fp->get_ref<const std::string&>();
    if (!s.empty()) {
      auto parsed = parse_fingerprint(s);
      if (!parsed || s.size() != 64) return R{std::string("bad tls_fingerprint")};
      a.fingerprint = *parsed;
    }
  }
  if (a.tls != TlsMode::off && a.fingerprint.empty()) {
    return R{std::string("tls without a fingerprint")};
  }
  if (const json* version = field(j, "version"); version != nullptr) {
    if (!version->is_string() || version->get_ref<const std::string&>().size() > 32 ||
        !printable_utf8(version->get_ref<const std::string&>())) {
      return R{std::string("bad version")};
    }
    a.version = version->get<std::string>();
  } else {
    a.version.clear();
  }
  if (const json* proto = field(j, "proto"); proto != nullptr) {
    if (!proto->is_number_unsigned() || proto->get<std::uint64_t>() == 0 ||
        proto->get<std::uint64_t>() > 1000) {
      return R{std::string("bad proto")};
    }
    a.proto = static_cast<int>(proto->get<std::uint64_t>());
  }
  if (const json* interval = field(j, "interval_ms"); interval != nullptr) {
    if (!interval->is_number_unsigned()) return R{std::string("bad interval_ms")};
    // A host that claims to announce once a day would never expire; a tiny interval would
    // expire at once. Both are clamped rather than trusted.
    a.interval_ms = static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(interval->get<std::uint64_t>(), 500, 60000));
  }
  if (const json* address = field(j, "address"); address != nullptr) {
    if (!address->is_string() || address->get_ref<const std::string&>().size() > 64 ||
        !printable_utf8(address->get_ref<const std::string&>())) {
      return R{std::string("bad address")};
    }
    a.address = address->get<std::string>();
  }
  return R{Datagram{std::move(a)}};
}

std::string new_instance_id() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint32_t> dist;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", dist(rd), dist(rd));
  return buf;
}

}  // namespace lanchat::net::discovery
