#pragma once
// Net thread -> UI: a lock-free single-producer/single-consumer queue of Event values.
// The producer is the net thread, the consumer the UI (or headless) thread.
#include <readerwriterqueue/readerwriterqueue.h>

#include <atomic>
#include <chrono>
#include <functional>

#include "net/events.hpp"

namespace lanchat::net {

class EventQueue {
 public:
  explicit EventQueue(std::size_t initial_capacity = 1024) : queue_(initial_capacity) {}

  // Called (from the producer thread) when the queue goes from drained to non-empty.
  // Set it before the net thread starts. The window passes glfwPostEmptyEvent.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  // Producer side.
  void push(Event e) {
    queue_.enqueue(Stamped{std::move(e), std::chrono::steady_clock::now()});
    // One wake per drain: a burst of 10,000 events must not post 10,000 X11 messages.
    if (!wake_pending_.exchange(true, std::memory_order_acq_rel) && wake_) wake_();
  }

  // Consumer side. Call begin_drain() before popping so that anything pushed after the
  // drain wakes the consumer again.
  void begin_drain() { wake_pending_.store(false, std::memory_order_release); }
  bool try_pop(Event& out) {
    std::chrono::steady_clock::time_point ignored;
    return try_pop(out, ignored);
  }
  // Also says when the event was pushed: the window measures event-to-screen delay.
  bool try_pop(Event& out, std::chrono::steady_clock::time_point& pushed) {
    Stamped s;
    if (!queue_.try_dequeue(s)) return false;
    out = std::move(s.event);
    pushed = s.pushed;
    return true;
  }
  bool wait_pop(Event& out, std::chrono::microseconds timeout) {
    Stamped s;
    if (!queue_.wait_dequeue_timed(s, timeout)) return false;
    out = std::move(s.event);
    return true;
  }
  std::size_t size_approx() const { return queue_.size_approx(); }

 private:
  struct Stamped {
    Event event;
    std::chrono::steady_clock::time_point pushed;
  };
  moodycamel::BlockingReaderWriterQueue<Stamped> queue_;
  std::function<void()> wake_;
  std::atomic<bool> wake_pending_{false};
};

}  // namespace lanchat::net
