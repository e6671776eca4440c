#include "app/notifier.hpp"

#include <libnotify/notify.h>

#include <iostream>

#include "net/thread_name.hpp"

namespace lanchat::app {

Notifier::Notifier() : thread_([this] { run(); }) {}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Notifier::show(std::string summary, std::string body) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= 8) queue_.pop_front();  // a burst of mentions: the newest matter
    queue_.push_back({std::move(summary), std::move(body)});
  }
  wake_.notify_one();
}

void Notifier::run() {
  net::name_this_thread("lanchat-notify");
  bool ready = false;
  bool told = false;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    Note note = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    if (!ready) ready = notify_init("lanchat") != 0;
    GError* error = nullptr;
    if (ready) {
      NotifyNotification* n =
          notify_notification_new(note.summary.c_str(), note.body.c_str(), "lanchat");
      notify_notification_set_category(n, "im.received");
      if (notify_notification_show(n, &error) == 0 && !told) {
        std::cerr << "lanchat: no desktop notification shown ("
                  << (error != nullptr ? error->message : "no notification service")
                  << "); the window title and its attention request still tell you\n";
        told = true;
      }
      if (error != nullptr) g_error_free(error);
      g_object_unref(G_OBJECT(n));
    }
    lock.lock();
  }
  if (ready) notify_uninit();
}

}  // namespace lanchat::app
