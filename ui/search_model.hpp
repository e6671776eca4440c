#pragma once
// What the search panel shows: the last search's hits (newest first) and, for the hit the
// user picked, the messages around it. Built only from net events.
#include <cstdint>
#include <string>
#include <vector>

#include "net/events.hpp"

namespace lanchat::ui {

class SearchModel {
 public:
  void begin(std::string text);          // a search was sent
  void begin_context(std::uint64_t id);  // the messages around this hit were asked for
  void apply(const net::Event& e);
  void reset() { *this = SearchModel(); }

  const std::string& text() const { return text_; }
  bool searching() const { return searching_; }
  const std::vector<proto::ChatMsg>& hits() const { return hits_; }
  const std::string& error() const { return error_; }
  std::uint64_t context_id() const { return context_id_; }
  bool context_loading() const { return context_loading_; }
  const std::vector<proto::ChatMsg>& context() const { return context_; }  // oldest first

 private:
  std::string text_;
  bool searching_ = false;
  std::vector<proto::ChatMsg> hits_;
  std::string error_;
  std::uint64_t context_id_ = 0;
  bool context_loading_ = false;
  std::vector<proto::ChatMsg> context_;
};

}  // namespace lanchat::ui
