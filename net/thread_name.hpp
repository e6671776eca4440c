#pragma once
// Names the calling thread as top, perf and /proc/PID/task/*/comm show it (Linux keeps 15
// characters), so a profile or the benchmark's per-thread CPU says which thread is which.
#include <pthread.h>

namespace lanchat::net {

inline void name_this_thread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

}  // namespace lanchat::net
