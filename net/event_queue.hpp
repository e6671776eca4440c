#pragma once
// Net thread -> UI: a lock-free single-producer/single-consumer queue of Event values.
// The producer is the net thread, the consumer the UI (or headless) thread.
//
// Bounded: a consumer that stops draining (a window stuck in a modal resize, a stopped
// debugger) must not let a busy room grow the queue without end. Past the capacity, events
// are dropped and counted by kind; the consumer gets an EventsDropped when it drains next,
// so it can say what it did not show and ask for a snapshot of the state it lost.
#include <readerwriterqueue/readerwriterqueue.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include "net/events.hpp"

namespace lanchat::net {

class EventQueue {
 public:
  static constexpr std::size_t kDefaultCapacity = 250'000;

  explicit EventQueue(std::size_t capacity = kDefaultCapacity)
      : queue_(1024), capacity_(capacity) {}

  // Called (from the producer thread) when the queue goes from drained to non-empty.
  // Set it before the net thread starts. The window passes glfwPostEmptyEvent.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  // Producer side. Returns false if the event was dropped because the queue is full.
  bool push(Event e) {
    if (size_.load(std::memory_order_relaxed) >= capacity_) {
      count_drop(e);
      return false;
    }
    size_.fetch_add(1, std::memory_order_relaxed);
    queue_.enqueue(Stamped{std::move(e), std::chrono::steady_clock::now()});
    wake();
    return true;
  }

  // Consumer side. Call begin_drain() before popping so that anything pushed after the
  // drain wakes the consumer again.
  void begin_drain() { wake_pending_.store(false, std::memory_order_release); }
  bool try_pop(Event& out) {
    std::chrono::steady_clock::time_point ignored;
    return try_pop(out, ignored);
  }
  // Also says when the event was pushed: the window measures event-to-screen delay.
  // When events were dropped, an EventsDropped comes out first, once the queue has room.
  bool try_pop(Event& out, std::chrono::steady_clock::time_point& pushed) {
    if (auto d = take_dropped()) {
      out = Event(*d);
      pushed = std::chrono::steady_clock::now();
      return true;
    }
    Stamped s;
    if (!queue_.try_dequeue(s)) return false;
    size_.fetch_sub(1, std::memory_order_relaxed);
    out = std::move(s.event);
    pushed = s.pushed;
    return true;
  }
  bool wait_pop(Event& out, std::chrono::microseconds timeout) {
    if (auto d = take_dropped()) {
      out = Event(*d);
      return true;
    }
    Stamped s;
    if (!queue_.wait_dequeue_timed(s, timeout)) return false;
    size_.fetch_sub(1, std::memory_order_relaxed);
    out = std::move(s.event);
    return true;
  }
  std::size_t size_approx() const { return size_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return capacity_; }

 private:
  struct Stamped {
    Event event;
    std::chrono::steady_clock::time_point pushed;
  };

  void wake() {
    // One wake per drain: a burst of 10,000 events must not post 10,000 X11 messages.
    if (!wake_pending_.exchange(true, std::memory_order_acq_rel) && wake_) wake_();
  }

  void count_drop(const Event& e) {
    if (std::holds_alternative<ClientChat>(e.data)) {
      dropped_chat_.fetch_add(1, std::memory_order_relaxed);
    } else if (std::holds_alternative<ServerLog>(e.data)) {
      dropped_log_.fetch_add(1, std::memory_order_relaxed);
    } else {
      dropped_other_.fetch_add(1, std::memory_order_relaxed);
    }
    dropped_any_.store(true, std::memory_order_release);
    wake();
  }

  // Only once the backlog has drained below half, so the note comes after what was kept.
  std::optional<EventsDropped> take_dropped() {
    if (!dropped_any_.load(std::memory_order_acquire)) return std::nullopt;
    if (size_.load(std::memory_order_relaxed) > capacity_ / 2) return std::nullopt;
    dropped_any_.store(false, std::memory_order_release);
    EventsDropped d;
    d.chat = dropped_chat_.exchange(0, std::memory_order_relaxed);
    d.log = dropped_log_.exchange(0, std::memory_order_relaxed);
    d.other = dropped_other_.exchange(0, std::memory_order_relaxed);
    if (d.chat + d.log + d.other == 0) return std::nullopt;
    return d;
  }

  moodycamel::BlockingReaderWriterQueue<Stamped> queue_;
  std::size_t capacity_;
  std::atomic<std::size_t> size_{0};
  std::function<void()> wake_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> dropped_any_{false};
  std::atomic<std::uint64_t> dropped_chat_{0}, dropped_log_{0}, dropped_other_{0};
};

// Pushes one Server's or Client's events, each stamped with its instance id.
class EventSink {
 public:
  EventSink(EventQueue& queue, InstanceId id) : queue_(&queue), id_(id) {}
  InstanceId id() const { return id_; }
  bool emit(EventData e) { return queue_->push(Event(std::move(e), id_)); }
  bool log(LogLevel level, std::string text) {
    return emit(ServerLog{now_ms(), level, std::move(text)});
  }

 private:
  EventQueue* queue_;
  InstanceId id_;
};

}  // namespace lanchat::net
