#pragma once
// Owns the network side of the window: the net thread, our server (when hosting) and our
// client. The only place where UI actions become posts to the net thread, and the one
// that knows which server and client instances are ours: events from any other (one we
// already let go of, still winding down) are not for the UI.
#include <atomic>
#include <memory>
#include <thread>

#include "net/browser.hpp"
#include "net/client.hpp"
#include "net/event_queue.hpp"
#include "net/known_hosts.hpp"
#include "net/net_thread.hpp"
#include "net/server.hpp"
#include "net/store.hpp"
#include "net/tls.hpp"
#include "ui/actions.hpp"

namespace lanchat::app {

class NetControl {
 public:
  explicit NetControl(net::EventQueue& events);
  ~NetControl();
  NetControl(const NetControl&) = delete;
  NetControl& operator=(const NetControl&) = delete;

  // Limits and other settings for the server host() starts (from the command line);
  // the launcher fills in address, port, room and password.
  void set_server_defaults(net::ServerConfig config) { server_defaults_ = std::move(config); }
  // Where hosted rooms keep their history (from the command line).
  void set_store_settings(net::StoreSettings s) { store_settings_ = std::move(s); }
  void host(const ui::HostRequest& r);
  void join(const ui::JoinRequest& r);
  // The person trusts the identity a host now shows (see ui::TrustIdentity): files it in
  // known_hosts and joins again as last time.
  void trust_identity(const ui::TrustIdentity& t);
  // False if there is no client to send it (the caller shows it as not sent).
  bool say(std::string text, std::uint64_t local_id, std::string to = {}, bool action = false);
  void change_nick(std::string nick);
  // The host's moderation of one connection of our server (see net::Server).
  void moderate(const ui::Moderate& m);
  void unban(std::string address);
  void rejoin_as(std::string nick);
  void load_older(std::uint64_t before);
  void search(std::string text);
  void show_context(std::uint64_t id);
  void stop_server(std::string reason);
  // Leaves the room: bye from our client and, when hosting, the server stopped.
  void leave();
  // Before the window closes: stops gracefully (bounded wait), then joins the net thread.
  void shutdown();
  // Looks for rooms on the LAN (the Join tab is open) or stops looking. Idempotent.
  void browse(bool on, std::uint16_t port);
  // Asks the LAN again at once (Refresh).
  void refresh_rooms();
  // Asks our server and client for a snapshot of their state (after the queue overflowed).
  void resync();

  // True for events the UI should see: from our current server or client, or made by the
  // queue itself (source 0).
  bool owns(const net::Event& e) const {
    return e.source == 0 || (e.source == server_id_ && server_id_ != 0) ||
           (e.source == client_id_ && client_id_ != 0) ||
           (e.source == browser_id_ && browser_id_ != 0);
  }
  // Sees every event the UI will see, before it does (starts the host's own client once
  // the server listens).
  void on_event(const net::Event& e);

 private:
  void start_client(net::ClientConfig cfg);
  void drop_client();
  void drop_server(std::string reason);
  void join_starter();

  net::ServerConfig server_defaults_;
  net::StoreSettings store_settings_;
  // Opens a hosted room's store (disk reads) off both the UI and the net thread, then
  // posts the server's start to the net thread.
  std::thread starter_;
  // Set when the server it starts is dropped: the starter stops waiting for the room's
  // store (another host, or our own last one, may hold it for seconds) and starts nothing,
  // so joining it never keeps the UI thread.
  std::shared_ptr<std::atomic<bool>> starter_dropped_;
  net::EventQueue& events_;
  net::NetThread net_;
  std::shared_ptr<net::Server> server_;
  std::shared_ptr<net::Client> client_;
  net::InstanceId server_id_ = 0;
  net::InstanceId client_id_ = 0;
  std::shared_ptr<net::Browser> browser_;
  net::InstanceId browser_id_ = 0;
  ui::HostRequest hosting_;  // what we host, to start our own client once listening
  ui::JoinRequest joined_;   // what we joined last (to join again after TrustIdentity)
  // One client TLS context for every join (making it is crypto set-up: once, not per
  // connection, and never on the net thread).
  std::shared_ptr<net::TlsContext> client_tls_;
  std::shared_ptr<net::TlsContext> client_tls();
  bool awaiting_listen_ = false;
};

}  // namespace lanchat::app
