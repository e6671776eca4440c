#pragma once
// Figures for bench/run, collected only with --bench-report: how long after the net thread
// pushed a chat message it was on screen, and what a frame costs. On each SIGUSR2 mark the
// window draws a run of frames back to back (no waiting), times them (CPU of the whole
// process, since the GL driver may render on threads of its own, and of the main thread
// alone), and writes one JSON object with both figures since the previous mark.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lanchat::app {

class FrameBench {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr int kMeasuredFrames = 240;

  explicit FrameBench(std::string report_path) : path_(std::move(report_path)) {}
  bool enabled() const { return !path_.empty(); }

  // A chat message drained this frame, pushed at `pushed`.
  void on_message(TimePoint pushed) {
    if (enabled()) pending_.push_back(pushed);
  }
  // Starts a measured run of frames (called for SIGUSR2).
  void mark() { frames_left_ = kMeasuredFrames + kWarmup; }
  // True while measured frames remain: the loop must not wait for events.
  bool busy() const { return frames_left_ > 0; }
  void begin_frame();
  // After the buffer swap; history_lines is what the chat view holds.
  void end_frame(std::size_t history_lines);

 private:
  static constexpr int kWarmup = 10;
  void write(std::size_t history_lines);

  std::string path_;
  std::vector<TimePoint> pending_;
  std::vector<std::int64_t> event_to_screen_us_;
  std::vector<double> cpu_ms_, thread_cpu_ms_, wall_ms_;
  double cpu_start_ = 0, thread_cpu_start_ = 0;
  TimePoint wall_start_{};
  int frames_left_ = 0;
  int marks_ = 0;
};

}  // namespace lanchat::app
