#pragma once
// The hosts this user has met, as SSH keeps them: each host:port with the fingerprint of
// the identity it showed the first time. One line per host, "HOST:PORT SHA256:HEX";
// lines starting with # are comments and are kept. Written whole to a temporary file and
// renamed into place, readable by the owner only.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lanchat::net {

class KnownHostsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class KnownHosts {
 public:
  // $XDG_CONFIG_HOME/lanchat/known_hosts.
  static std::filesystem::path default_path();
  explicit KnownHosts(std::filesystem::path file) : file_(std::move(file)) {}

  // The key a host is filed under: "host:port", the host in lower case, IPv6 in brackets.
  static std::string key(std::string_view host, std::uint16_t port);

  // The fingerprint on file for this host (64 upper-case hex digits), if any. A file that
  // cannot be read or a line that makes no sense is an error (KnownHostsError), not a
  // reason to trust anyone anew.
  std::optional<std::string> find(const std::string& key) const;
  // Files the fingerprint for this host, replacing what was there.
  void remember(const std::string& key, const std::string& fingerprint);
  void forget(const std::string& key);

  const std::filesystem::path& file() const { return file_; }

 private:
  std::vector<std::string> read_lines() const;
  void write_lines(const std::vector<std::string>& lines) const;
  std::filesystem::path file_;
};

}  // namespace lanchat::net
