#pragma once
// Where lanchat keeps things, by the XDG base directory rules.
#include <filesystem>
#include <string_view>

namespace lanchat::net {

// $XDG_DATA_HOME/lanchat (~/.local/share/lanchat): rooms' stores, the host's identity.
std::filesystem::path default_data_dir();
// $XDG_CONFIG_HOME/lanchat (~/.config/lanchat): settings, known hosts.
std::filesystem::path default_config_dir();

// Creates `file` (which must not exist) with exactly these bytes, readable and writable by
// the owner only, and syncs it to disk. Throws std::runtime_error naming the file.
void write_private_file(const std::filesystem::path& file, std::string_view bytes);
// Replaces `file` (made with its folders if missing) with these bytes, owner-only: written
// beside it and renamed into place, so a crash leaves the old file or the new one, never
// half of one. Throws std::runtime_error naming the file.
void replace_private_file(const std::filesystem::path& file, std::string_view bytes);

}  // namespace lanchat::net
