#pragma once
// Desktop notifications (libnotify) for mentions and direct messages while the window is in
// the background. libnotify talks to the session's notification service over D-Bus, which
// can be slow or absent: it runs on a thread of its own, and a desktop without the service
// only costs a note (once) on stderr.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace lanchat::app {

class Notifier {
 public:
  Notifier();
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues a notification; never waits. Beyond a handful waiting, the oldest go.
  void show(std::string summary, std::string body);

 private:
  struct Note {
    std::string summary, body;
  };
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Note> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lanchat::app
