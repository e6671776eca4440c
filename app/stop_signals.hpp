#pragma once
// SIGINT and SIGTERM for a headless front end, taken synchronously from a signalfd.
#include <signal.h>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>

namespace lanchat::app {

// Construct it before any thread starts: it blocks both signals in the calling thread, so
// every thread started after inherits the block and none is interrupted by them. They wait
// in the kernel until the watching context reads them from its signalfd. An asynchronous
// handler instead runs on whichever thread the kernel picks, and under ThreadSanitizer one
// that arrived while the net thread was starting was lost: 6 hosts in 200 ignored Ctrl-C.
class StopSignals {
 public:
  // Blocks them, or says on stderr why it could not and returns null.
  static std::unique_ptr<StopSignals> block();
  StopSignals();  // throws std::system_error if the signalfd cannot be made
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Calls `on_first` with the first signal's number, on `io`'s thread. A second one, while
  // that stop takes its time, ends the process at once (exit status 1), as users expect
  // of a second Ctrl-C.
  void watch(asio::io_context& io, std::function<void(int)> on_first);
  // On `io`'s thread.
  void cancel();
  // True once SIGINT or SIGTERM waits to be read: for a front end that is not watching
  // yet (still opening the room's store) and should give up what it waits for.
  bool pending() const;

 private:
  void read_next();

  sigset_t set_{};
  sigset_t old_mask_{};
  int fd_ = -1;
  std::unique_ptr<asio::posix::stream_descriptor> stream_;
  std::function<void(int)> on_first_;
  bool watching_ = false;
  int received_ = 0;
};

}  // namespace lanchat::app
