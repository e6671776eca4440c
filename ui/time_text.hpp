#pragma once
// Times as the windows show them (local time). No ImGui here: the models use them too.
#include <cstdint>
#include <string>

namespace lanchat::ui {

std::string clock_time(std::int64_t ts_ms);    // 12:03:04
std::string format_duration(std::int64_t ms);  // 1h 02m 03s
int local_day(std::int64_t ts_ms);             // 20261123, for "same day?"
std::string day_text(std::int64_t ts_ms);      // Monday, 23 November 2026

}  // namespace lanchat::ui
