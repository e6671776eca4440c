#include "app/stop_signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>

namespace lanchat::app {

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

void StopSignals::watch(asio::io_context& io, std::function<void(int)> on_signal) {
  on_signal_ = std::move(on_signal);
  stream_ = std::make_unique<asio::posix::stream_descriptor>(io, fd_);
  fd_ = -1;  // the stream closes it
  read_next();
}

void StopSignals::cancel() {
  if (!stream_) return;
  asio::error_code ignored;
  stream_->cancel(ignored);
  on_signal_ = nullptr;
}

void StopSignals::read_next() {
  // The buffer is shared with the read, so that it outlives this object if the context
  // is destroyed with the read still queued.
  auto reading = std::make_shared<signalfd_siginfo>();
  stream_->async_read_some(asio::buffer(reading.get(), sizeof *reading),
                           [this, reading](const asio::error_code& ec, std::size_t n) {
                             if (ec || !on_signal_) return;
                             // A signalfd hands over whole records; anything shorter is not a
                             // signal.
                             if (n == sizeof *reading)
                               on_signal_(static_cast<int>(reading->ssi_signo));
                             if (on_signal_) read_next();
                           });
}

}  // namespace lanchat::app
