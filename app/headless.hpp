#pragma once
#include "app/cli.hpp"

namespace lanchat::app {

// Exit statuses of the headless modes (documented in the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitStartup = 1;   // could not listen / bad setup
inline constexpr int kExitUsage = 2;     // bad command line
inline constexpr int kExitRefused = 3;   // could not connect, or hello refused
inline constexpr int kExitShutdown = 4;  // the server shut down
inline constexpr int kExitLost = 5;      // the connection was lost
inline constexpr int kExitIdentity = 6;  // the host is not the one pinned for it

int run_headless_host(const HostOptions& options);
int run_headless_join(const JoinOptions& options);
int run_list(const ListOptions& options);

}  // namespace lanchat::app
