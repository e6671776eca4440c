#pragma once
// The whole UI's model: which screen is up, what the launcher is waiting for, and the
// chat and server models. Fed only by net events and the user's own actions.
#include <string>

#include "ui/actions.hpp"
#include "ui/chat_model.hpp"
#include "ui/rooms_model.hpp"
#include "ui/search_model.hpp"
#include "ui/server_model.hpp"

namespace lanchat::ui {

enum class Screen : std::uint8_t { launcher, room };

// Which launcher field a network error belongs to, so it shows where the user can fix it.
enum class ErrorField : std::uint8_t { none, address, nick, password };

class UiModel {
 public:
  void begin_host(const HostRequest& r);
  void begin_join(const JoinRequest& r);
  void apply(const net::Event& e);
  void back_to_launcher();
  void mark_stopping() { server.mark_stopping(); }

  Screen screen() const { return screen_; }
  bool hosting() const { return hosting_; }
  bool busy() const { return busy_; }  // launcher waits for listen/connect/welcome
  const std::string& launcher_error() const { return launcher_error_; }
  ErrorField error_field() const { return error_field_; }

  ChatModel chat;
  ServerModel server;
  SearchModel search;
  RoomsModel rooms;  // the Join tab's list, whatever screen is up

 private:
  void fail(std::string message, ErrorField field);
  Screen screen_ = Screen::launcher;
  bool hosting_ = false;
  bool busy_ = false;
  std::string launcher_error_;
  ErrorField error_field_ = ErrorField::none;
};

}  // namespace lanchat::ui
