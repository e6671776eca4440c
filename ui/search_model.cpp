#include "ui/search_model.hpp"

namespace lanchat::ui {

void SearchModel::begin(std::string text) {
  text_ = std::move(text);
  searching_ = true;
  error_.clear();
}

void SearchModel::begin_context(std::uint64_t id) {
  context_id_ = id;
  context_loading_ = true;
  context_.clear();
}

void SearchModel::apply(const net::Event& event) {
  if (auto* f = std::get_if<net::ClientFound>(&event.data)) {
    if (f->text != text_) return;  // an answer to an earlier search, overtaken
    searching_ = false;
    error_ = f->error;
    hits_ = f->msgs;
  } else if (auto* h = std::get_if<net::ClientHistory>(&event.data)) {
    if (h->around == 0 || h->around != context_id_) return;
    context_loading_ = false;
    context_ = h->msgs;
    if (!h->error.empty()) error_ = h->error;
  }
}

}  // namespace lanchat::ui
