#include "app/link_opener.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "ui/links.hpp"

extern char** environ;

namespace lanchat::app {

namespace {

// Exactly what the chat underlines as one link, nothing around it.
bool is_web_url(const std::string& url) {
  const auto links = ui::find_links(url);
  return links.size() == 1 && links[0].begin == 0 && links[0].end == url.size();
}

}  // namespace

LinkOpener::~LinkOpener() {
  reap();  // the rest are reparented to init when the window exits
}

std::string LinkOpener::open(const std::string& url) {
  if (!is_web_url(url)) return "only http:// and https:// links are opened";
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  // The browser must not inherit the window's sockets (a listening port would stay
  // taken after lanchat quits) nor read from its terminal.
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  posix_spawnattr_t attrs;
  posix_spawnattr_init(&attrs);
  // Its own process group: a Ctrl+C meant for lanchat in a terminal leaves the browser be.
  posix_spawnattr_setflags(&attrs, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attrs, 0);
  std::string program = "xdg-open";
  std::string argument = url;
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, "xdg-open", &files, &attrs, argv, environ);
  posix_spawnattr_destroy(&attrs);
  posix_spawn_file_actions_destroy(&files);
  if (err == ENOENT) return "xdg-open was not found (Debian's xdg-utils package provides it)";
  if (err != 0) return std::string("xdg-open could not be started: ") + std::strerror(err);
  children_.push_back(pid);
  return {};
}

void LinkOpener::reap() {
  std::erase_if(children_, [](pid_t pid) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    return r == pid || (r < 0 && errno == ECHILD);
  });
}

}  // namespace lanchat::app
