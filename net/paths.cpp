#include "net/paths.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace lanchat::net {

namespace {

// $VAR/lanchat when VAR is an absolute path (the spec says to ignore relative ones), else
// ~/FALLBACK/lanchat; with no home at all, a folder under /tmp rather than the cwd.
std::filesystem::path xdg_dir(const char* var, const char* fallback) {
  if (const char* v = std::getenv(var); v != nullptr && *v == '/') {
    return std::filesystem::path(v) / "lanchat";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / fallback / "lanchat";
  }
  return std::filesystem::temp_directory_path() / "lanchat";
}

}  // namespace

std::filesystem::path default_data_dir() {
  return xdg_dir("XDG_DATA_HOME", ".local/share");
}

std::filesystem::path default_config_dir() {
  return xdg_dir("XDG_CONFIG_HOME", ".config");
}

void write_private_file(const std::filesystem::path& file, std::string_view bytes) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(err));
  }
  ::close(fd);
}

void replace_private_file(const std::filesystem::path& file, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) {
    throw std::runtime_error("cannot create " + file.parent_path().string() + ": " + ec.message());
  }
  const std::filesystem::path tmp = file.string() + ".new-" + std::to_string(::getpid());
  std::filesystem::remove(tmp, ec);  // left by a crash of an earlier process with our pid
  try {
    write_private_file(tmp, bytes);
  } catch (...) {
    std::filesystem::remove(tmp, ec);
    throw;
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(err));
  }
}

}  // namespace lanchat::net
