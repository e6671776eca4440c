#include "app/console.hpp"

#include <ctime>

namespace lanchat::app {

namespace {
std::tm local_tm(std::int64_t ts_ms) {
  const auto t = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string clock_time(std::int64_t ts_ms) {
  const std::tm tm = local_tm(ts_ms);
  char buf[32];
  return std::string(buf, std::strftime(buf, sizeof buf, "%H:%M:%S", &tm));
}

std::string date_time(std::int64_t ts_ms) {
  const std::tm tm = local_tm(ts_ms);
  char buf[32];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm));
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7F) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_chat(const lanchat::proto::ChatMsg& m) {
  // "<alice> hi", "* alice waves", and for a direct message "<alice → bob> hi".
  const std::string who = printable(m.from) + (m.to.empty() ? "" : " → " + printable(m.to));
  std::string head =
      "[" + clock_time(m.ts) + "] " + (m.action ? "* " + who + " " : "<" + who + "> ");
  const std::string indent(head.size(), ' ');
  std::string out = head;
  // Continuation lines are indented under the first so a multi-line message reads as one.
  for (char c : printable(m.text)) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

std::string format_log(const lanchat::net::ServerLog& e) {
  std::string out = "[" + date_time(e.ts) + "] ";
  if (e.level == lanchat::net::LogLevel::warn) out += "warning: ";
  if (e.level == lanchat::net::LogLevel::error) out += "error: ";
  return out + printable(e.text);
}

}  // namespace lanchat::app
