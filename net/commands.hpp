#pragma once
// What a person types in a chat input, as a command: "/me waves", "/msg bob hi",
// "/nick alicia", and the host's "/kick", "/mute", "/unmute", "/ban", "/unban". Anything
// else is text to say ("//x" says "/x"). Shared by the window and `lanchat join`.
#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace lanchat::net {

namespace command {
struct Say {
  std::string text;
  std::string to;  // "/msg NICK ...": a direct message
  bool action = false;
};
struct Nick {
  std::string nick;
};
struct Kick {
  std::string nick;
  std::string reason;
};
struct Mute {
  std::string nick;
  bool muted = true;
};
struct Ban {
  std::string nick;
  std::chrono::seconds duration{0};  // 0: until unbanned
  std::string reason;
};
struct Unban {
  std::string who;  // a banned nick or address
};
struct Help {};
struct Invalid {
  std::string message;  // what is wrong, for the person who typed it
};
}  // namespace command

using Command = std::variant<command::Say, command::Nick, command::Kick, command::Mute,
                             command::Ban, command::Unban, command::Help, command::Invalid>;

Command parse_command(std::string_view input);

// The commands, one per line, for /help.
std::string_view command_help();

// "10 minutes", "1 hour", "until unbanned".
std::string duration_text(std::chrono::seconds d);

}  // namespace lanchat::net
