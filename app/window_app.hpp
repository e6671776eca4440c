#pragma once
#include "app/cli.hpp"

namespace lanchat::app {

// Opens the window (launcher, or straight into host/join from the command line) and runs
// it until it is closed. Returns the process exit status.
int run_window(const Options& options);

}  // namespace lanchat::app
