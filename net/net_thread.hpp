#pragma once
// The one network thread: owns the io_context, runs it, and is the only place that
// starts and joins the thread. Everything else reaches the network through post().
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <functional>
#include <optional>
#include <thread>

namespace lanchat::net {

class NetThread {
 public:
  NetThread() = default;
  ~NetThread() { stop(); }
  NetThread(const NetThread&) = delete;
  NetThread& operator=(const NetThread&) = delete;

  asio::io_context& context() { return io_; }

  // on_exception reports (on the net thread) anything a handler threw; the loop goes on.
  void start(std::function<void(const char*)> on_exception = {});
  // Stops the loop and joins. Servers and clients should be shut down gracefully first.
  void stop();
  bool running() const { return thread_.joinable(); }

  template <class F>
  void post(F&& f) {
    asio::post(io_, std::forward<F>(f));
  }

 private:
  asio::io_context io_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

// Raises RLIMIT_NOFILE to its hard limit (a 1,000-client LAN needs more than 1,024 fds).
// Returns the soft limit in force afterwards.
unsigned long raise_fd_limit();

}  // namespace lanchat::net
