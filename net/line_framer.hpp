#pragma once
// Splits a byte stream into "\n"-terminated lines with a hard cap on line length.
// Complete lines that arrive in one chunk are handed out as views into that chunk (no
// copy); only an unfinished tail is kept, so the buffer grows only as a line needs it.
#include <cstddef>
#include <string>
#include <string_view>

namespace lanchat::net {

class LineFramer {
 public:
  // max_line_bytes counts the terminating "\n".
  explicit LineFramer(std::size_t max_line_bytes) : max_(max_line_bytes) {}

  // Calls on_line(std::string_view) for each complete line (without "\n" or a trailing
  // "\r") and on_too_long() for each line over the cap, which is skipped whole. Either
  // callback returns false to stop: the rest of `data` is then dropped.
  template <class OnLine, class OnTooLong>
  void feed(std::string_view data, OnLine&& on_line, OnTooLong&& on_too_long) {
    while (!data.empty()) {
      const std::size_t nl = data.find('\n');
      if (discarding_) {
        if (nl == std::string_view::npos) return;
        data.remove_prefix(nl + 1);
        discarding_ = false;
        if (!on_too_long()) return;
        continue;
      }
      if (nl == std::string_view::npos) {
        if (partial_.size() + data.size() >= max_) {
          // Already longer than any acceptable line: stop buffering it.
          release();
          discarding_ = true;
          return;
        }
        partial_.append(data);
        return;
      }
      if (partial_.size() + nl + 1 > max_) {
        release();
        data.remove_prefix(nl + 1);
        if (!on_too_long()) return;
        continue;
      }
      std::string_view line;
      if (partial_.empty()) {
        line = data.substr(0, nl);
      } else {
        partial_.append(data.substr(0, nl));
        line = partial_;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const bool go_on = on_line(line);
      if (!partial_.empty()) release();
      data.remove_prefix(nl + 1);
      if (!go_on) return;
    }
  }

  // Bytes held for an unfinished line.
  std::size_t buffered() const { return partial_.size(); }
  std::size_t capacity() const { return partial_.capacity(); }

 private:
  void release() {
    partial_.clear();
    // A one-off huge line must not pin its memory for the life of the connection.
    if (partial_.capacity() > 4096) partial_.shrink_to_fit();
  }

  std::size_t max_;
  std::string partial_;
  bool discarding_ = false;
};

}  // namespace lanchat::net
