#include "ui/ui_model.hpp"

namespace lanchat::ui {

void UiModel::begin_host(const HostRequest&) {
  chat.reset();
  server.reset();
  search.reset();
  server.mark_starting();
  hosting_ = true;
  busy_ = true;
  launcher_error_.clear();
  error_field_ = ErrorField::none;
}

void UiModel::begin_join(const JoinRequest&) {
  chat.reset();
  server.reset();
  search.reset();
  hosting_ = false;
  busy_ = true;
  launcher_error_.clear();
  error_field_ = ErrorField::none;
}

void UiModel::back_to_launcher() {
  screen_ = Screen::launcher;
  busy_ = false;
  hosting_ = false;
}

void UiModel::fail(std::string message, ErrorField field) {
  busy_ = false;
  hosting_ = false;
  launcher_error_ = std::move(message);
  error_field_ = field;
}

void UiModel::apply(const net::Event& event) {
  // Late events from a session the user already left must not leak into the next one (the
  // app also drops events from server and client instances it no longer owns).
  rooms.apply(event);
  const bool live = busy_ || screen_ == Screen::room;
  if (!live) return;
  if (hosting_) server.apply(event);
  chat.apply(event);
  search.apply(event);
  if (!busy_) return;
  const auto& e = event.data;
  if (auto* f = std::get_if<net::ServerFailed>(&e)) {
    fail(f->error, f->store ? ErrorField::none : ErrorField::address);
  } else if (hosting_ && std::holds_alternative<net::ServerListening>(e)) {
    // The room is up: show it (and its Stop Server) at once, whatever becomes of the
    // host's own client, so a running server is never out of sight.
    busy_ = false;
    screen_ = Screen::room;
  } else if (std::holds_alternative<net::ClientWelcome>(e)) {
    busy_ = false;
    screen_ = Screen::room;
  } else if (auto* r = std::get_if<net::ClientRejected>(&e)) {
    const auto& code = r->error.code;
    fail(r->error.message, code == "bad_password"                       ? ErrorField::password
                           : code == "nick_taken" || code == "bad_nick" ? ErrorField::nick
                                                                        : ErrorField::none);
  } else if (auto* d = std::get_if<net::ClientDisconnected>(&e)) {
    fail(d->error, ErrorField::address);
  } else if (auto* m = std::get_if<net::ClientIdentityMismatch>(&e)) {
    fail(m->message, ErrorField::address);  // chat.mismatch() offers the way on
  } else if (auto* s = std::get_if<net::ClientShutdown>(&e)) {
    fail("The server shut down: " + s->reason, ErrorField::none);
  }
}

}  // namespace lanchat::ui
