// Entry point: parse the command line and hand over to a headless mode or the window.
#include <csignal>
#include <iostream>

#include "app/cli.hpp"
#include "app/headless.hpp"
#include "net/store.hpp"
#ifdef LANCHAT_HAVE_UI
#include "app/window_app.hpp"
#endif

int main(int argc, char** argv) {
  // A file that hits its size limit (a full quota, ulimit -f) must fail the write, which
  // the store reports, rather than kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  lanchat::net::configure_sqlite();
  auto parsed = lanchat::app::parse_cli(argc, argv);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  const auto& options = std::get<lanchat::app::Options>(parsed);
  if (options.mode == lanchat::app::Mode::list) return lanchat::app::run_list(options.list);
  if (options.headless) {
    return options.mode == lanchat::app::Mode::host ? lanchat::app::run_headless_host(options.host)
                                                    : lanchat::app::run_headless_join(options.join);
  }
#ifdef LANCHAT_HAVE_UI
  return lanchat::app::run_window(options);
#else
  std::cerr << "lanchat: this build has no window (LANCHAT_BUILD_UI=OFF); use --headless\n";
  return lanchat::app::kExitUsage;
#endif
}
