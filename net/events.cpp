#include "net/events.hpp"

#include <algorithm>
#include <atomic>

namespace lanchat::net {

InstanceId next_instance_id() {
  static std::atomic<InstanceId> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) + 1;
}

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool same_listing(const FoundRoom& a, const FoundRoom& b) {
  return a.instance == b.instance && a.room == b.room && a.address == b.address &&
         a.port == b.port && a.users == b.users && a.password == b.password && a.tls == b.tls &&
         a.fingerprint == b.fingerprint && a.version == b.version && a.proto == b.proto;
}

namespace {
std::string some_names(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 5;
  std::string out;
  const std::size_t shown = names.size() > kShown ? kShown - 1 : names.size();
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  if (shown < names.size()) out += " and " + std::to_string(names.size() - shown) + " others";
  return out;
}
}  // namespace

std::string describe_presence(const proto::Presence& p) {
  std::string out;
  if (p.listed) {
    if (!p.joined.empty()) out = some_names(p.joined) + " joined";
    if (!p.left.empty()) {
      std::vector<std::string> left;
      left.reserve(p.left.size());
      for (const auto& l : p.left) left.push_back(l.nick);
      out += (out.empty() ? "" : ", ") + some_names(left) + " left";
    }
  }
  if (out.empty()) {
    // Not listed, or only people who came and went within one summary.
    out = std::to_string(p.joins) + " joined, " + std::to_string(p.leaves) + " left";
  }
  return out + " (" + std::to_string(p.members) + " in the room)";
}

void apply_presence(std::vector<std::string>& users, const proto::Presence& p) {
  if (!p.listed) return;
  for (const auto& gone : p.left) std::erase(users, gone.nick);
  for (const auto& came : p.joined) {
    if (std::find(users.begin(), users.end(), came) == users.end()) users.push_back(came);
  }
}

}  // namespace lanchat::net
