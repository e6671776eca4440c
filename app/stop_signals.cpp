#include "app/stop_signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <system_error>

#include "app/headless.hpp"

namespace lanchat::app {

std::unique_ptr<StopSignals> StopSignals::block() {
  try {
    return std::make_unique<StopSignals>();
  } catch (const std::system_error& e) {
    std::cerr << "lanchat: " << e.what() << "\n";
    return nullptr;
  }
}

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  if (const int e = pthread_sigmask(SIG_BLOCK, &set_, &old_mask_); e != 0) {
    throw std::system_error(e, std::generic_category(), "blocking SIGINT and SIGTERM");
  }
  fd_ = signalfd(-1, &set_, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) {
    const int e = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw std::system_error(e, std::generic_category(), "signalfd");
  }
}

StopSignals::~StopSignals() {
  stream_.reset();  // closes fd_ if it took it
  if (fd_ >= 0) ::close(fd_);
  // A signal that came during the shutdown is answered already: the process is ending.
  // Unblocking it unread would kill it with the default action instead of exiting cleanly.
  const timespec none{};
  while (sigtimedwait(&set_, nullptr, &none) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void StopSignals::watch(asio::io_context& io, std::function<void(int)> on_first) {
  on_first_ = std::move(on_first);
  watching_ = true;
  stream_ = std::make_unique<asio::posix::stream_descriptor>(io, fd_);
  fd_ = -1;  // the stream closes it
  read_next();
}

void StopSignals::cancel() {
  if (!stream_) return;
  watching_ = false;
  asio::error_code ignored;
  stream_->cancel(ignored);
}

bool StopSignals::pending() const {
  sigset_t waiting;
  if (::sigpending(&waiting) != 0) return false;
  return ::sigismember(&waiting, SIGINT) == 1 || ::sigismember(&waiting, SIGTERM) == 1;
}

void StopSignals::read_next() {
  // The buffer is shared with the read, so that it outlives this object if the context
  // is destroyed with the read still queued.
  auto info = std::make_shared<signalfd_siginfo>();
  stream_->async_read_some(asio::buffer(info.get(), sizeof *info),
                           [this, info](const asio::error_code& ec, std::size_t n) {
                             if (ec || !watching_) return;
                             // A signalfd hands over whole records; anything shorter is not a
                             // signal.
                             if (n == sizeof *info) {
                               if (++received_ > 1) {
                                 std::cerr << "lanchat: second signal, closing at once\n";
                                 std::_Exit(kExitStartup);
                               }
                               on_first_(static_cast<int>(info->ssi_signo));
                             }
                             if (watching_) read_next();
                           });
}

}  // namespace lanchat::app
