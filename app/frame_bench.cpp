#include "app/frame_bench.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

namespace lanchat::app {

namespace {

// CPU time of the whole process: the GL driver (llvmpipe under Xvfb) renders on threads of
// its own, and that is part of what a frame costs.
double cpu_ms(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

template <class T>
T percentile(std::vector<T> v, double p) {
  if (v.empty()) return T{};
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1))];
}

double mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

void FrameBench::begin_frame() {
  if (!busy()) return;
  cpu_start_ = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
  thread_cpu_start_ = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
  wall_start_ = std::chrono::steady_clock::now();
}

void FrameBench::end_frame(std::size_t history_lines) {
  if (!enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& pushed : pending_) {
    event_to_screen_us_.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(now - pushed).count());
  }
  pending_.clear();
  if (!busy()) return;
  if (--frames_left_ < kMeasuredFrames) {
    cpu_ms_.push_back(cpu_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu_start_);
    thread_cpu_ms_.push_back(cpu_ms(CLOCK_THREAD_CPUTIME_ID) - thread_cpu_start_);
    wall_ms_.push_back(std::chrono::duration<double, std::milli>(now - wall_start_).count());
  }
  if (frames_left_ == 0) write(history_lines);
}

void FrameBench::write(std::size_t history_lines) {
  ++marks_;
  const auto& e = event_to_screen_us_;
  nlohmann::ordered_json j{
      {"mark", marks_},
      {"history_lines", history_lines},
      {"frames", cpu_ms_.size()},
      {"frame_cpu_ms",
       {{"mean", mean(cpu_ms_)},
        {"p50", percentile(cpu_ms_, 50)},
        {"p90", percentile(cpu_ms_, 90)}}},
      {"frame_thread_cpu_ms",
       {{"mean", mean(thread_cpu_ms_)}, {"p50", percentile(thread_cpu_ms_, 50)}}},
      {"frame_wall_ms", {{"mean", mean(wall_ms_)}, {"p50", percentile(wall_ms_, 50)}}},
      {"event_to_screen_us",
       {{"count", e.size()},
        {"p50", percentile(e, 50)},
        {"p99", percentile(e, 99)},
        {"max", e.empty() ? 0 : *std::max_element(e.begin(), e.end())}}},
  };
  cpu_ms_.clear();
  thread_cpu_ms_.clear();
  wall_ms_.clear();
  event_to_screen_us_.clear();
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << '\n';
  }
  std::rename(tmp.c_str(), path_.c_str());
}

}  // namespace lanchat::app
