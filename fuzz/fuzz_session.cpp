// libFuzzer target: arbitrary bytes sent to a real server session over loopback. The
// server must never crash, leak or hang: every input ends with the connection closed and
// the server back to no connections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "net/net_thread.hpp"
#include "net/server.hpp"

using namespace lanchat;

namespace {

struct World {
  asio::io_context io;
  net::EventQueue events;
  std::shared_ptr<net::Server> server;
  std::uint16_t port = 0;
  World() {
    net::ServerConfig cfg;
    cfg.bind_address = "127.0.0.1";
    cfg.port = 0;
    cfg.close_grace = std::chrono::milliseconds(50);
    cfg.max_line_bytes = 1024;  // small inputs reach the too_long path
    cfg.max_msg_rate = 0;
    // TLS on, as by default: inputs starting with 0x16 go down the handshake path. One
    // identity for every run, made the first time.
    cfg.tls.mode = net::TlsMode::on;
    cfg.tls_handshake_timeout = std::chrono::milliseconds(1000);
    net::prepare_tls(cfg, std::filesystem::temp_directory_path() / "lanchat-fuzz-session");
    server = net::Server::create(io, cfg, events);
    if (server->start()) std::abort();
    port = server->local_endpoint().port();
  }
};

World& world() {
  static World w;  // one server for the whole run, as in real life
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(w.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A refused connection means the server stopped listening: a real bug, abort at once.
  // Running out of local ports or descriptors is the harness's environment (earlier test
  // stages leave sockets in TIME_WAIT): wait and retry, and say so if it persists.
  int fd = -1;
  for (int attempt = 0;; ++attempt) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
    const int err = errno;
    if (fd >= 0) ::close(fd);
    const bool transient = err == EADDRNOTAVAIL || err == EAGAIN || err == EINTR || err == EMFILE ||
                           err == ENFILE || err == ETIMEDOUT;
    if (!transient || attempt == 50) {
      std::fprintf(stderr, "fuzz_session: cannot connect: %s (server connections: %zu)\n",
                   std::strerror(err), w.server->connection_count());
      std::abort();
    }
    w.io.poll();
    w.io.restart();
    ::usleep(100000);
  }
  // Send everything, then end our side; read whatever comes back until the server closes.
  std::size_t sent = 0;
  bool half_closed = false;
  bool eof = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  char sink[65536];
  while (!eof) {
    if (std::chrono::steady_clock::now() > deadline) std::abort();  // the server hung
    if (sent < size) {
      const ssize_t n = ::send(fd, data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
    } else if (!half_closed) {
      ::shutdown(fd, SHUT_WR);
      half_closed = true;
    }
    w.io.poll();
    w.io.restart();
    for (;;) {
      const ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n == 0) eof = true;
      if (n <= 0) break;
    }
    if (!eof) {
      pollfd p{fd, POLLIN, 0};
      ::poll(&p, 1, 1);
    }
  }
  // The exchange is over (the server closed first or after our FIN): drop the socket
  // without TIME_WAIT so that a long run does not use up the local ports.
  const linger no_linger{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
  ::close(fd);
  // Let the server see the close and free the session.
  for (int i = 0; i < 1000 && w.server->connection_count() > 0; ++i) {
    w.io.poll();
    w.io.restart();
    if (w.server->connection_count() > 0) ::usleep(100);
  }
  if (w.server->connection_count() != 0) std::abort();  // a session outlived its socket
  net::Event e;
  while (w.events.try_pop(e)) {
  }
  return 0;
}
