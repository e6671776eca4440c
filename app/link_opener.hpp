#pragma once
// Opens a web link with the desktop's handler: `xdg-open URL`, started directly (never
// through a shell) with the URL as its one argument, and not waited for.
#include <sys/types.h>

#include <string>
#include <vector>

namespace lanchat::app {

class LinkOpener {
 public:
  LinkOpener() = default;
  LinkOpener(const LinkOpener&) = delete;
  LinkOpener& operator=(const LinkOpener&) = delete;
  ~LinkOpener();

  // Empty when xdg-open was started; otherwise what went wrong, in words for the chat.
  // Anything but an http(s) URL is refused.
  std::string open(const std::string& url);
  // Collects the handlers that have finished (call now and then; never blocks).
  void reap();

 private:
  std::vector<pid_t> children_;
};

}  // namespace lanchat::app
