#pragma once
// Text rendering of events for the headless modes.
#include <cstdint>
#include <string>
#include <string_view>

#include "net/events.hpp"

namespace lanchat::app {

std::string clock_time(std::int64_t ts_ms);  // "12:03:04", local time
std::string date_time(std::int64_t ts_ms);   // "2026-11-22 12:03:04", local time
// Replaces terminal control characters (escape sequences) a foreign server might send.
std::string printable(std::string_view s);

std::string format_chat(const lanchat::proto::ChatMsg& m);  // "[12:03:04] <bob> hi"
std::string format_log(const lanchat::net::ServerLog& e);   // "[2026-11-22 12:03:04] text"

}  // namespace lanchat::app
