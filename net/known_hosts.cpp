#include "net/known_hosts.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "net/paths.hpp"
#include "net/tls.hpp"

namespace lanchat::net {

namespace {

// "host:port SHA256:HEX" split in two; nullopt for comments and blank lines.
std::optional<std::pair<std::string_view, std::string_view>> fields(std::string_view line) {
  const auto start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos || line[start] == '#') return std::nullopt;
  line.remove_prefix(start);
  const auto space = line.find_first_of(" \t");
  if (space == std::string_view::npos) return std::pair{line, std::string_view()};
  std::string_view rest = line.substr(space + 1);
  const auto value = rest.find_first_not_of(" \t");
  rest = value == std::string_view::npos ? std::string_view() : rest.substr(value);
  const auto end = rest.find_last_not_of(" \t\r");
  return std::pair{line.substr(0, space),
                   rest.substr(0, end == std::string_view::npos ? 0 : end + 1)};
}

}  // namespace

std::filesystem::path KnownHosts::default_path() {
  return default_config_dir() / "known_hosts";
}

std::string KnownHosts::key(std::string_view host, std::uint16_t port) {
  std::string h(host);
  for (char& c : h) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

std::vector<std::string> KnownHosts::read_lines() const {
  std::vector<std::string> lines;
  std::ifstream in(file_);
  if (!in) {
    if (errno == ENOENT || !std::filesystem::exists(file_)) return lines;
    throw KnownHostsError("cannot read " + file_.string() + ": " + std::strerror(errno));
  }
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

std::optional<std::string> KnownHosts::find(const std::string& key) const {
  const auto lines = read_lines();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto f = fields(lines[i]);
    if (!f || f->first != key) continue;
    auto fp = parse_fingerprint(f->second);
    if (!fp) {
      throw KnownHostsError(file_.string() + " line " + std::to_string(i + 1) +
                            ": not a SHA-256 fingerprint for " + key + "; fix or delete that line");
    }
    return fp;
  }
  return std::nullopt;
}

namespace {

// Removes the lines for `key`; returns how many there were.
std::size_t erase_key(std::vector<std::string>& lines, const std::string& key) {
  return std::erase_if(lines, [&](const std::string& l) {
    const auto f = fields(l);
    return f && f->first == key;
  });
}

}  // namespace

void KnownHosts::remember(const std::string& key, const std::string& fingerprint) {
  auto lines = read_lines();
  erase_key(lines, key);
  if (lines.empty()) {
    lines.push_back("# lanchat known hosts: the identity each host showed when first met.");
    lines.push_back("# HOST:PORT SHA256:FINGERPRINT; delete a line to trust that host anew.");
  }
  lines.push_back(key + " SHA256:" + fingerprint);
  write_lines(lines);
}

void KnownHosts::forget(const std::string& key) {
  auto lines = read_lines();
  if (erase_key(lines, key) > 0) write_lines(lines);
}

void KnownHosts::write_lines(const std::vector<std::string>& lines) const {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  try {
    replace_private_file(file_, text);
  } catch (const std::runtime_error& e) {
    throw KnownHostsError(e.what());
  }
}

}  // namespace lanchat::net
