#include "tests/support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

namespace lanchat::test {

RawClient::RawClient(std::uint16_t port, int rcvbuf) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    throw std::runtime_error("connect() failed");
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawClient::~RawClient() {
  close();
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawClient::close_with_rst() {
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

void RawClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      ADD_FAILURE() << "send failed";
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool RawClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (eof_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count()))) <= 0) return false;
  char tmp[65536];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> RawClient::recv_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

std::optional<json> RawClient::recv(std::chrono::milliseconds timeout) {
  auto line = recv_line(timeout);
  if (!line) return std::nullopt;
  json j = json::parse(*line, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "server sent a line that is not JSON: " << *line;
  return j;
}

std::optional<json> RawClient::recv_type(const std::string& type,
                                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto j = recv(left);
    if (!j) return std::nullopt;
    if ((*j)["type"] == type) return j;
  }
}

bool RawClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    fill(deadline);
  }
  return true;
}

bool RawClient::silent_for(std::chrono::milliseconds quiet) {
  if (buf_.find('\n') != std::string::npos) return false;
  const auto deadline = std::chrono::steady_clock::now() + quiet;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fill(deadline) && buf_.find('\n') != std::string::npos) return false;
    if (eof_) return true;
  }
  return true;
}

json RawClient::join(const std::string& nick) {
  send({{"type", "hello"}, {"nick", nick}, {"proto", 1}});
  auto w = recv();
  EXPECT_TRUE(w.has_value()) << "no reply to hello for " << nick;
  if (!w) return json();
  EXPECT_EQ((*w)["type"], "welcome") << w->dump();
  return *w;
}

TestServer::TestServer(net::ServerConfig config, std::optional<net::StoreOptions> store) {
  config.bind_address = "127.0.0.1";
  config.port = 0;
  server_ = net::Server::create(net_.context(), std::move(config), events_);
  if (store) {
    net::StoreContents contents;
    std::shared_ptr<net::Store> opened = net::Store::open(*store, contents);
    server_->attach_store(std::move(opened), std::move(contents));
  }
  if (auto err = server_->start()) throw std::runtime_error(*err);
  port_ = server_->local_endpoint().port();
  net_.start();
}

TestServer::~TestServer() {
  if (!stopped_) stop("test over");
  net_.stop();
}

void TestServer::run_on_net(std::function<void()> fn) {
  std::promise<void> done;
  net_.post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

std::size_t TestServer::connections() {
  std::size_t n = 0;
  run_on_net([&] { n = server_->connection_count(); });
  return n;
}

std::size_t TestServer::queued() {
  std::size_t n = 0;
  run_on_net([&] { n = server_->queued_bytes(); });
  return n;
}

void TestServer::treat_as_host(const RawClient& c) {
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ASSERT_EQ(::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&local), &len), 0);
  const asio::ip::tcp::endpoint ep(asio::ip::address_v4(ntohl(local.sin_addr.s_addr)),
                                   ntohs(local.sin_port));
  run_on_net([&] { server_->set_host_endpoint(ep); });
}

net::ServerConfig without_rate_limits() {
  net::ServerConfig c;
  c.max_msg_rate = 0;
  c.max_line_rate = 0;
  return c;
}

std::size_t TestServer::members() {
  std::size_t n = 0;
  run_on_net([&] { n = server_->member_count(); });
  return n;
}

void TestServer::stop(const std::string& reason) {
  if (stopped_) return;
  stopped_ = true;
  std::promise<void> done;
  auto fut = done.get_future();
  net_.post([&] { server_->stop(reason, [&] { done.set_value(); }); });
  fut.wait_for(10s);
}

void TestServer::drain() {
  net::Event e;
  events_.begin_drain();
  while (events_.try_pop(e)) seen_.push_back(std::move(e));
}

std::vector<net::Event>& TestServer::seen() {
  drain();
  return seen_;
}

std::vector<std::string> TestServer::log_lines() {
  drain();
  std::vector<std::string> out;
  for (auto& e : seen_) {
    if (auto* l = std::get_if<net::ServerLog>(&e.data)) out.push_back(l->text);
  }
  return out;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/lanchat-test-XXXXXX";
  path = ::mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

net::ServerConfig with_tls(net::ServerConfig config, net::TlsMode mode,
                           const std::filesystem::path& data_dir) {
  config.tls.mode = mode;
  net::prepare_tls(config, data_dir);
  return config;
}

}  // namespace lanchat::test
