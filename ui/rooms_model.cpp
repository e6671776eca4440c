#include "ui/rooms_model.hpp"

#include <algorithm>

namespace lanchat::ui {

void RoomsModel::begin(std::int64_t now_ms) {
  *this = RoomsModel();
  looking_ = true;
  since_ = now_ms;
}

void RoomsModel::asked_again(std::int64_t now_ms) {
  since_ = now_ms;
}

void RoomsModel::end() {
  looking_ = false;
}

void RoomsModel::apply(const net::Event& e) {
  const auto* f = std::get_if<net::RoomsFound>(&e.data);
  if (f == nullptr || !looking_) return;
  rooms_ = f->rooms;
  problem_ = f->problem;
  interfaces_ = f->interfaces;
}

const net::FoundRoom* RoomsModel::find(const std::string& instance) const {
  auto it = std::find_if(rooms_.begin(), rooms_.end(),
                         [&](const net::FoundRoom& r) { return r.instance == instance; });
  return it == rooms_.end() ? nullptr : &*it;
}

std::string seen_text(std::int64_t seen_ms, std::int64_t now_ms) {
  const std::int64_t s = std::max<std::int64_t>(0, now_ms - seen_ms) / 1000;
  if (s < 2) return "just now";
  if (s < 120) return std::to_string(s) + " s ago";
  return std::to_string(s / 60) + " min ago";
}

}  // namespace lanchat::ui
