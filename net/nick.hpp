#pragma once
// How nicks are compared: the way people read them, not byte by byte. Two nicks collide
// when they look alike after Unicode NFKC case folding and UTS #39 confusable skeletons
// (ICU's uspoof), so "аlice" (Cyrillic а) collides with "alice", and "ＡＤＭＩＮ" or
// "Admin" with the reserved "admin". Each nick gets two keys because the order of the two
// steps matters: folding first makes "ALICE" equal "alice"; the skeleton first keeps the
// capital I that reads as l ("BiII" = "Bill").
#include <optional>
#include <string>
#include <string_view>

namespace lanchat::nick {

struct Keys {
  std::string folded;  // skeleton(NFKC_Casefold(nick)), folded again
  std::string shape;   // NFKC_Casefold(skeleton(nick))
  bool operator==(const Keys&) const = default;
};

// nick must be valid UTF-8 (see proto::check_nick).
Keys keys_of(std::string_view nick);

// Two nicks people would take for the same one.
inline bool look_alike(const Keys& a, const Keys& b) {
  return a.folded == b.folded || a.shape == b.shape;
}

// The reserved name ("server", "admin", "system") the nick looks like, if any.
std::optional<std::string_view> reserved_lookalike(const Keys& keys);

// Unicode case folding (not the confusable skeleton): for finding a nick in a message.
std::string fold_case(std::string_view text);

// Whether `text` names `nick` as a whole word, in any case, with or without an "@" before
// it: "hi Bob", "@bob:", "BOB!" name bob; "bobby" and "kebob" do not.
bool mentions(std::string_view text, std::string_view nick);

}  // namespace lanchat::nick
