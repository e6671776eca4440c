#pragma once
// Owns the network side of the window: the net thread, our server (when hosting) and our
// client. The only place where UI actions become posts to the net thread.
#include <memory>

#include "net/client.hpp"
#include "net/event_queue.hpp"
#include "net/net_thread.hpp"
#include "net/server.hpp"
#include "ui/actions.hpp"

namespace lanchat::app {

class Session {
 public:
  explicit Session(net::EventQueue& events);
  ~Session();

  // Limits and other settings for the server host() starts (from the command line);
  // the launcher fills in address, port, room and password.
  void set_server_defaults(net::ServerConfig config) { server_defaults_ = std::move(config); }
  void host(const ui::HostRequest& r);
  void join(const ui::JoinRequest& r);
  void say(std::string text);
  void stop_server(std::string reason);
  // Leaves the room: bye from our client and, when hosting, the server stopped.
  void leave();
  // Before the window closes: stops gracefully (bounded wait), then joins the net thread.
  void shutdown();
  // Sees every event before the UI does (starts the host's own client once listening).
  void on_event(const net::Event& e);

 private:
  net::ServerConfig server_defaults_;
  void start_client(net::ClientConfig cfg);
  void drop_client();
  void drop_server(std::string reason);

  net::EventQueue& events_;
  net::NetThread net_;
  std::shared_ptr<net::Server> server_;
  std::shared_ptr<net::Client> client_;
  ui::HostRequest hosting_;  // what we host, to start our own client once listening
  bool awaiting_listen_ = false;
};

}  // namespace lanchat::app
