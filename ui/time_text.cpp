#include "ui/time_text.hpp"

#include <cstdio>
#include <ctime>

namespace lanchat::ui {

namespace {
std::tm local(std::int64_t ts_ms) {
  const auto t = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string clock_time(std::int64_t ts_ms) {
  const std::tm tm = local(ts_ms);
  char buf[16];
  return std::string(buf, std::strftime(buf, sizeof buf, "%H:%M:%S", &tm));
}

int local_day(std::int64_t ts_ms) {
  const std::tm tm = local(ts_ms);
  return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

std::string day_text(std::int64_t ts_ms) {
  const std::tm tm = local(ts_ms);
  char buf[64];
  return std::string(buf, std::strftime(buf, sizeof buf, "%A, %d %B %Y", &tm));
}

std::string format_duration(std::int64_t ms) {
  const std::int64_t s = ms / 1000;
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

}  // namespace lanchat::ui
