#include "net/commands.hpp"

#include <optional>

namespace lanchat::net {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The first word of s (up to a space or newline), and the rest after it.
std::pair<std::string_view, std::string_view> word(std::string_view s) {
  s = trim(s);
  const auto end = s.find_first_of(" \t\n");
  if (end == std::string_view::npos) return {s, {}};
  return {s.substr(0, end), s.substr(end + 1)};
}

std::optional<std::chrono::seconds> duration_of(std::string_view w) {
  using namespace std::chrono;
  if (w == "10m" || w == "10min" || w == "10minutes") return minutes(10);
  if (w == "1h" || w == "1hour" || w == "hour") return hours(1);
  if (w == "1d" || w == "1day" || w == "day") return hours(24);
  if (w == "forever" || w == "permanent" || w == "0") return seconds(0);
  return std::nullopt;
}

}  // namespace

Command parse_command(std::string_view input) {
  using namespace command;
  if (input.size() < 2 || input[0] != '/' || input[1] == '/') {
    // Plain text; "//text" is the way to say something that starts with a slash.
    if (input.size() >= 2 && input[0] == '/' && input[1] == '/') input.remove_prefix(1);
    return Say{std::string(input), {}, false};
  }
  auto [name, rest] = word(input.substr(1));
  if (name == "me") {
    if (trim(rest).empty()) return Invalid{"/me needs something to do: /me waves"};
    return Say{std::string(trim(rest)), {}, true};
  }
  if (name == "msg" || name == "query") {
    auto [nick, text] = word(rest);
    if (nick.empty() || trim(text).empty())
      return Invalid{"/msg needs a nick and a message: /msg bob hi"};
    return Say{std::string(trim(text)), std::string(nick), false};
  }
  if (name == "nick") {
    auto [nick, extra] = word(rest);
    if (nick.empty() || !trim(extra).empty())
      return Invalid{"/nick needs one new nick: /nick alicia"};
    return Nick{std::string(nick)};
  }
  if (name == "kick") {
    auto [nick, reason] = word(rest);
    if (nick.empty()) return Invalid{"/kick needs a nick: /kick bob [reason]"};
    return Kick{std::string(nick), std::string(trim(reason))};
  }
  if (name == "mute" || name == "unmute") {
    auto [nick, extra] = word(rest);
    if (nick.empty()) return Invalid{"/" + std::string(name) + " needs a nick"};
    return Mute{std::string(nick), name == "mute"};
  }
  if (name == "ban") {
    auto [nick, more] = word(rest);
    if (nick.empty()) return Invalid{"/ban needs a nick: /ban bob [10m|1h|1d|forever] [reason]"};
    auto [first, after] = word(more);
    if (auto d = duration_of(first)) return Ban{std::string(nick), *d, std::string(trim(after))};
    return Ban{std::string(nick), std::chrono::seconds(0), std::string(trim(more))};
  }
  if (name == "unban") {
    auto [who, extra] = word(rest);
    if (who.empty()) return Invalid{"/unban needs the nick or address of a ban"};
    return Unban{std::string(who)};
  }
  if (name == "help" || name == "?") return Help{};
  return Invalid{"unknown command /" + std::string(name) + "; /help lists them, //" +
                 std::string(name) + " says it as text"};
}

std::string_view command_help() {
  return "/me TEXT: an action (* you TEXT)\n"
         "/msg NICK TEXT: a direct message, seen only by NICK\n"
         "/nick NEW: change your nick\n"
         "/kick NICK [REASON], /mute NICK, /unmute NICK, /ban NICK [10m|1h|1d|forever] [REASON], "
         "/unban NICK|ADDRESS: the host's moderation\n"
         "//TEXT: says /TEXT";
}

std::string duration_text(std::chrono::seconds d) {
  const auto s = d.count();
  if (s == 0) return "until unbanned";
  if (s % 86400 == 0) return std::to_string(s / 86400) + (s == 86400 ? " day" : " days");
  if (s % 3600 == 0) return std::to_string(s / 3600) + (s == 3600 ? " hour" : " hours");
  return std::to_string(s / 60) + " minutes";
}

}  // namespace lanchat::net
