#include "net/net_thread.hpp"

#include <sys/resource.h>

#include <exception>

#include "net/thread_name.hpp"

namespace lanchat::net {

void NetThread::start(std::function<void(const char*)> on_exception) {
  if (thread_.joinable()) return;
  io_.restart();
  guard_.emplace(io_.get_executor());
  thread_ = std::thread([this, report = std::move(on_exception)] {
    name_this_thread("lanchat-net");
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // Keep serving: one bad handler must not take every connection down with it.
        if (report) report(e.what());
      } catch (...) {
        if (report) report("unknown exception");
      }
    }
  });
}

void NetThread::stop() {
  if (!thread_.joinable()) return;
  guard_.reset();
  io_.stop();
  thread_.join();
}

unsigned long raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<unsigned long>(lim.rlim_cur);
}

}  // namespace lanchat::net
