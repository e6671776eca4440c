#include "app/net_control.hpp"

#include <future>

#include "net/thread_name.hpp"

namespace lanchat::app {

NetControl::NetControl(net::EventQueue& events) : events_(events) {
  net::raise_fd_limit();
  net_.start([this](const char* what) {
    events_.push(net::ServerLog{net::now_ms(), net::LogLevel::error,
                                std::string("internal error (recovered): ") + what});
  });
}

NetControl::~NetControl() {
  shutdown();
}

void NetControl::host(const ui::HostRequest& r) {
  drop_client();
  drop_server("the host restarted the server");
  net::ServerConfig cfg = server_defaults_;
  cfg.bind_address = r.bind;
  cfg.port = r.port;
  cfg.room = r.room;
  cfg.password = r.password;
  cfg.tls.mode = r.tls;
  cfg.allow_plaintext_password = r.allow_plaintext_password;
  server_ = net::Server::create(net_.context(), cfg, events_);
  server_id_ = server_->id();
  hosting_ = r;
  awaiting_listen_ = true;
  join_starter();  // quick: drop_server told it to give up
  const std::filesystem::path data_dir =
      store_settings_.data_dir.empty() ? net::default_data_dir() : store_settings_.data_dir;
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  starter_dropped_ = dropped;
  net::StoreOptions options = net::store_options(store_settings_, r.room);
  options.keep_waiting = [dropped](long) { return !dropped->load(); };
  starter_ = std::thread([this, s = server_, options = std::move(options), cfg, data_dir,
                          dropped]() mutable {
    net::name_this_thread("lanchat-start");
    net::StoreContents contents;
    std::shared_ptr<net::Store> store;
    std::string error;
    try {
      store = net::Store::open(options, contents);
      net::prepare_tls(cfg, data_dir);  // the host identity: disk, maybe key generation
    } catch (const net::StoreError& e) {
      error = e.what();
    } catch (const std::exception& e) {
      error = e.what();
    }
    // Left or closed meanwhile: the store closes here, off the net thread.
    if (dropped->load()) return;
    net_.post([s, store = std::move(store), contents = std::move(contents), error, cfg]() mutable {
      // Dropped after the check above: its stop is already queued ahead of this.
      if (s->stopping()) return;
      if (!error.empty()) {
        s->fail(error);
        return;
      }
      s->attach_tls(std::move(cfg.tls));
      s->attach_store(std::move(store), std::move(contents));
      s->start();
    });
  });
}

void NetControl::join_starter() {
  if (starter_.joinable()) starter_.join();
}

void NetControl::join(const ui::JoinRequest& r) {
  drop_client();
  drop_server("the host left");
  net::ClientConfig cfg;
  cfg.host = r.host;
  cfg.port = r.port;
  cfg.nick = r.nick;
  cfg.password = r.password;
  cfg.reconnect = true;
  joined_ = r;
  if (!r.plaintext) {
    try {
      cfg.tls = client_tls();
      cfg.fingerprint = r.fingerprint;
      if (cfg.fingerprint.empty()) {
        net::KnownHosts known(net::KnownHosts::default_path());
        cfg.fingerprint = known.find(net::KnownHosts::key(r.host, r.port)).value_or("");
      }
    } catch (const std::exception& e) {
      // Never join unpinned because the list of trusted hosts could not be read.
      events_.push(net::ClientDisconnected{e.what(), false, std::chrono::milliseconds(0)});
      return;
    }
  }
  start_client(std::move(cfg));
}

std::shared_ptr<net::TlsContext> NetControl::client_tls() {
  if (!client_tls_) client_tls_ = net::TlsContext::client();
  return client_tls_;
}

void NetControl::trust_identity(const ui::TrustIdentity& t) {
  net::KnownHosts known(net::KnownHosts::default_path());
  const std::string key = net::KnownHosts::key(t.host, t.port);
  try {
    if (t.fingerprint.empty()) {
      known.forget(key);
    } else {
      known.remember(key, t.fingerprint);
    }
  } catch (const std::exception& e) {
    events_.push(net::ClientDisconnected{e.what(), false, std::chrono::milliseconds(0)});
    return;
  }
  ui::JoinRequest again = joined_;
  again.fingerprint = t.fingerprint;
  again.plaintext = t.fingerprint.empty();
  join(again);
}

void NetControl::on_event(const net::Event& e) {
  if (auto* d = std::get_if<net::EventsDropped>(&e.data); d != nullptr && d->other > 0) {
    resync();  // the queue overflowed and state changes were lost: ask for the whole state
    return;
  }
  // A host met for the first time: remember its identity, as ssh does; from now on a
  // different one is refused. (The host's own client is pinned to our identity, so it never
  // meets it for the first time.) If the file cannot be written, this session still pins it.
  if (auto* s = std::get_if<net::ClientSecured>(&e.data);
      s != nullptr && s->first_contact && e.source == client_id_ && client_id_ != 0) {
    try {
      net::KnownHosts(net::KnownHosts::default_path())
          .remember(net::KnownHosts::key(joined_.host, joined_.port), s->fingerprint);
    } catch (const std::exception& x) {
      events_.push(net::Event(
          net::ClientServerError{
              {"known_hosts", std::string(x.what()) + " (trusted for this session only)"}},
          client_id_));
    }
    return;
  }
  if (e.source != server_id_ || server_id_ == 0) return;
  if (auto* l = std::get_if<net::ServerListening>(&e.data); l != nullptr && awaiting_listen_) {
    awaiting_listen_ = false;
    // The host chats through its own server like everyone else, over loopback; the server
    // learns which connection that is, so it is shown as the host's and never moderated.
    net::ClientConfig cfg;
    const bool any = hosting_.bind == "0.0.0.0" || hosting_.bind.empty();
    cfg.host = any ? "127.0.0.1" : hosting_.bind == "::" ? "::1" : l->address;
    cfg.port = l->port;
    cfg.nick = hosting_.nick;
    cfg.password = hosting_.password;
    cfg.reconnect = true;
    cfg.on_connected = [weak = std::weak_ptr<net::Server>(server_)](const auto& local) {
      if (auto s = weak.lock()) s->set_host_endpoint(local);
    };
    // Our own client talks to our own server: encrypted when the port offers it, pinned to
    // the identity we serve with, and never filed in known_hosts.
    if (l->tls != net::TlsMode::off) {
      try {
        cfg.tls = client_tls();
        cfg.fingerprint = l->fingerprint;
      } catch (const std::exception& x) {
        events_.push(net::ServerLog{net::now_ms(), net::LogLevel::error, x.what()});
      }
    }
    start_client(std::move(cfg));
  } else if (std::holds_alternative<net::ServerFailed>(e.data)) {
    awaiting_listen_ = false;
    server_.reset();
  } else if (std::holds_alternative<net::ServerStopped>(e.data)) {
    server_.reset();
  }
}

void NetControl::start_client(net::ClientConfig cfg) {
  client_ = net::Client::create(net_.context(), std::move(cfg), events_);
  client_id_ = client_->id();
  net_.post([c = client_] { c->start(); });
}

bool NetControl::say(std::string text, std::uint64_t local_id, std::string to, bool action) {
  if (!client_) return false;
  net_.post([c = client_, t = std::move(text), local_id, to = std::move(to), action]() mutable {
    c->say(std::move(t), local_id, std::move(to), action);
  });
  return true;
}

void NetControl::change_nick(std::string nick) {
  if (client_) {
    net_.post([c = client_, n = std::move(nick)]() mutable { c->change_nick(std::move(n)); });
  }
}

void NetControl::moderate(const ui::Moderate& m) {
  if (!server_) return;
  net_.post([s = server_, m] {
    switch (m.kind) {
      case ui::Moderate::Kind::kick:
        s->kick(m.conn, m.reason);
        break;
      case ui::Moderate::Kind::mute:
        s->mute(m.conn, true);
        break;
      case ui::Moderate::Kind::unmute:
        s->mute(m.conn, false);
        break;
      case ui::Moderate::Kind::ban:
        s->ban(m.conn, m.duration, m.reason);
        break;
    }
  });
}

void NetControl::unban(std::string address) {
  if (server_) net_.post([s = server_, a = std::move(address)] { s->unban(a); });
}

void NetControl::rejoin_as(std::string nick) {
  if (!client_) return;
  net_.post([c = client_, n = std::move(nick)]() mutable { c->rejoin_as(std::move(n)); });
}

void NetControl::load_older(std::uint64_t before) {
  if (client_) net_.post([c = client_, before] { c->load_older(before); });
}

void NetControl::search(std::string text) {
  if (client_) net_.post([c = client_, t = std::move(text)]() mutable { c->search(std::move(t)); });
}

void NetControl::show_context(std::uint64_t id) {
  if (client_) net_.post([c = client_, id] { c->show_context(id); });
}

void NetControl::stop_server(std::string reason) {
  if (!server_) return;
  net_.post([s = server_, r = std::move(reason)]() mutable { s->stop(std::move(r)); });
}

void NetControl::resync() {
  if (server_) net_.post([s = server_] { s->emit_snapshot(); });
  if (client_) net_.post([c = client_] { c->emit_snapshot(); });
}

void NetControl::drop_client() {
  client_id_ = 0;
  if (!client_) return;
  net_.post([c = std::move(client_)] { c->quit(); });
  client_.reset();
}

void NetControl::drop_server(std::string reason) {
  if (starter_dropped_) starter_dropped_->store(true);
  awaiting_listen_ = false;
  server_id_ = 0;
  if (!server_) return;
  net_.post([s = std::move(server_), r = std::move(reason)]() mutable { s->stop(std::move(r)); });
  server_.reset();
}

void NetControl::leave() {
  drop_client();
  drop_server("the host left the room");
}

void NetControl::browse(bool on, std::uint16_t port) {
  if (on == (browser_ != nullptr)) return;
  if (!on) {
    net_.post([b = std::move(browser_)] { b->stop(); });
    browser_id_ = 0;
    return;
  }
  net::BrowserConfig config;
  config.port = port;
  browser_ = net::Browser::create(net_.context(), config, events_);
  browser_id_ = browser_->id();
  net_.post([b = browser_] { b->start(); });
}

void NetControl::refresh_rooms() {
  if (browser_) net_.post([b = browser_] { b->query(); });
}

void NetControl::shutdown() {
  if (starter_dropped_) starter_dropped_->store(true);
  join_starter();
  if (!net_.running()) return;
  browse(false, 0);
  // Say bye and send everyone the shutdown notice before the thread goes; wait a little
  // for it to get out, never for long.
  std::promise<void> stopped;
  auto done = stopped.get_future();
  const bool had_server = server_ != nullptr;
  if (client_) net_.post([c = client_] { c->quit(); });
  if (server_) {
    net_.post([s = server_, &stopped] {
      s->stop("the host closed lanchat", [&stopped] { stopped.set_value(); });
    });
  }
  if (had_server)
    done.wait_for(std::chrono::seconds(3));
  else
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the bye out
  net_.stop();
  client_.reset();
  server_.reset();
}

}  // namespace lanchat::app
