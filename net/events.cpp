#include "net/events.hpp"

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

}  // namespace lanchat::net
