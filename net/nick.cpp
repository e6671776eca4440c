#include "net/nick.hpp"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>

#include <array>
#include <cctype>
#include <memory>
#include <stdexcept>

namespace lanchat::nick {

namespace {

// ICU's data, opened once per process: both objects are immutable after creation and
// documented as safe to use from several threads at once.
struct Icu {
  const icu::Normalizer2* nfkc_cf = nullptr;
  USpoofChecker* spoof = nullptr;
  Icu() {
    UErrorCode st = U_ZERO_ERROR;
    nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(st);
    spoof = uspoof_open(&st);
    if (U_FAILURE(st) || nfkc_cf == nullptr || spoof == nullptr) {
      throw std::runtime_error(std::string("ICU could not load its Unicode data: ") +
                               u_errorName(st));
    }
  }
  ~Icu() { uspoof_close(spoof); }
  Icu(const Icu&) = delete;
  Icu& operator=(const Icu&) = delete;

  icu::UnicodeString fold(const icu::UnicodeString& s) const {
    UErrorCode st = U_ZERO_ERROR;
    icu::UnicodeString out = nfkc_cf->normalize(s, st);
    return U_FAILURE(st) ? s : out;
  }
  icu::UnicodeString skeleton(const icu::UnicodeString& s) const {
    UErrorCode st = U_ZERO_ERROR;
    icu::UnicodeString out;
    uspoof_getSkeletonUnicodeString(spoof, 0, s, out, &st);
    return U_FAILURE(st) ? s : out;
  }
};

const Icu& icu_data() {
  static const Icu data;
  return data;
}

std::string utf8_of(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

constexpr std::array<std::string_view, 3> kReserved = {"server", "admin", "system"};

}  // namespace

Keys keys_of(std::string_view nick) {
  const Icu& icu = icu_data();
  const auto u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(nick.data(), static_cast<std::int32_t>(nick.size())));
  Keys k;
  k.folded = utf8_of(icu.fold(icu.skeleton(icu.fold(u))));
  k.shape = utf8_of(icu.fold(icu.skeleton(u)));
  return k;
}

std::optional<std::string_view> reserved_lookalike(const Keys& keys) {
  // Computed once: the reserved names never change.
  static const std::array<Keys, kReserved.size()> reserved = [] {
    std::array<Keys, kReserved.size()> out;
    for (std::size_t i = 0; i < kReserved.size(); ++i) out[i] = keys_of(kReserved[i]);
    return out;
  }();
  for (std::size_t i = 0; i < kReserved.size(); ++i) {
    if (look_alike(keys, reserved[i])) return kReserved[i];
  }
  return std::nullopt;
}

std::string fold_case(std::string_view text) {
  UErrorCode st = U_ZERO_ERROR;
  const auto u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())));
  icu::UnicodeString folded(u);
  folded.foldCase(U_FOLD_CASE_DEFAULT);
  (void)st;
  return utf8_of(folded);
}

namespace {
// Letters, digits and the characters nicks are made of, so "bob" inside "bobby" is not a
// mention; anything non-ASCII counts as a letter.
bool word_byte(unsigned char c) {
  return c >= 0x80 || std::isalnum(c) != 0 || c == '_' || c == '-';
}
}  // namespace

bool mentions(std::string_view text, std::string_view nick) {
  if (nick.empty() || text.size() < nick.size()) return false;
  const std::string t = fold_case(text);
  const std::string n = fold_case(nick);
  for (std::size_t at = t.find(n); at != std::string::npos; at = t.find(n, at + 1)) {
    const bool start_ok = at == 0 || !word_byte(static_cast<unsigned char>(t[at - 1]));
    const std::size_t end = at + n.size();
    const bool end_ok = end == t.size() || !word_byte(static_cast<unsigned char>(t[end]));
    if (start_ok && end_ok) return true;
  }
  return false;
}

}  // namespace lanchat::nick
