// A room with a long memory: fills a store with N messages (1,000,000 by default) of
// chat-like text, then measures, with a real server on 127.0.0.1 and a raw socket client:
//   start-up  opening the store and loading what a room needs (as `lanchat host` does)
//   resume    hello with room_id and last_id 1,000 messages back, to the whole welcome
//   history   one page of 100 from the middle of the store
//   search    a common word, a rare word and a word beginning
// Each timing is the median of several tries. One JSON line on stdout.
//   lanchat_store_bench [--messages N] [--dir DIR] [--keep]
// With --keep, a store already filled in DIR is reused (filling takes a while).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/net_thread.hpp"
#include "net/server.hpp"
#include "net/store.hpp"

using namespace lanchat;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Chat-like text from a fixed vocabulary (deterministic: same store every run).
struct Words {
  std::uint64_t state = 88172645463325252ull;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::string sentence(std::uint64_t i) {
    static const char* kWords[] = {
        "the",    "lab",    "today", "meeting", "lunch",    "server",  "build", "test",
        "coffee", "room",   "class", "project", "deadline", "slides",  "bug",   "fix",
        "please", "thanks", "where", "when",    "tomorrow", "yes",     "no",    "maybe",
        "città",  "perché", "über",  "naïve",   "déjà",     "vu",      "ok",    "see",
        "you",    "at",     "nine",  "ten",     "upload",   "printer", "wifi",  "network"};
    constexpr std::size_t n = sizeof kWords / sizeof kWords[0];
    std::string out;
    const std::uint64_t count = 4 + next() % 12;
    for (std::uint64_t k = 0; k < count; ++k) {
      if (!out.empty()) out += ' ';
      out += kWords[next() % n];
    }
    if (i % 100'000 == 12'345) out += " zanzibar";  // a rare word: 10 in a million
    return out;
  }
};

class Raw {
 public:
  explicit Raw(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("connect failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Raw() { ::close(fd_); }
  void send(const json& j) {
    const std::string s = j.dump() + "\n";
    (void)!::write(fd_, s.data(), s.size());
  }
  json recv_type(const std::string& type) {
    for (;;) {
      const auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        json j = json::parse(buf_.substr(0, nl));
        buf_.erase(0, nl + 1);
        if (j["type"] == type) return j;
        continue;
      }
      char tmp[1 << 16];
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10'000) <= 0) throw std::runtime_error("no answer");
      const ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) throw std::runtime_error("closed");
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t messages = 1'000'000;
  fs::path dir = fs::temp_directory_path() / "lanchat-store-bench";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--messages" && i + 1 < argc)
      messages = std::stoull(argv[++i]);
    else if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--keep")
      keep = true;
    else {
      std::cerr << "usage: lanchat_store_bench [--messages N] [--dir DIR] [--keep]\n";
      return 2;
    }
  }
  net::StoreOptions options;
  options.file = net::room_store_path(dir, "bench " + std::to_string(messages));
  json out{{"messages", messages}, {"file", options.file.string()}};

  // ---- fill --------------------------------------------------------------------------
  if (!keep) fs::remove_all(options.file.parent_path());
  {
    net::StoreContents c;
    auto store = net::Store::open(options, c);
    if (c.count < messages) {
      Words words;
      const auto t = Clock::now();
      const std::int64_t day_ago = net::now_ms() - 86'400'000;
      for (std::uint64_t i = c.last_id + 1; i <= messages; ++i) {
        store->append({i,
                       day_ago + static_cast<std::int64_t>(i) * 86'400'000 /
                                     static_cast<std::int64_t>(messages),
                       i % 7 == 0   ? "alice"
                       : i % 5 == 0 ? "bob"
                                    : "carol",
                       words.sentence(i), false});
        if (i % 20'000 == 0) {  // let the writer keep up rather than queue a million
          std::promise<void> p;
          store->flush([&] { p.set_value(); });
          p.get_future().wait();
        }
      }
      std::promise<void> p;
      store->flush([&] { p.set_value(); });
      p.get_future().wait();
      out["fill_seconds"] = ms_since(t) / 1000;
      out["fill_messages_per_s"] = static_cast<double>(messages) / (ms_since(t) / 1000);
    }
  }
  std::uint64_t bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto n = fs::file_size(options.file.string() + suffix, ec);
    if (!ec) bytes += n;
  }
  out["store_bytes"] = bytes;
  out["bytes_per_message"] = static_cast<double>(bytes) / static_cast<double>(messages);

  // ---- start-up: what `lanchat host` does before it listens ----------------------------
  std::vector<double> opens;
  for (int k = 0; k < 5; ++k) {
    const auto t = Clock::now();
    net::StoreContents c;
    auto s = net::Store::open(options, c);
    opens.push_back(ms_since(t));
  }
  out["startup_ms"] = median(opens);

  net::EventQueue events(1'000'000);
  net::NetThread thread;
  net::ServerConfig cfg;
  cfg.bind_address = "127.0.0.1";
  cfg.port = 0;
  cfg.max_msg_rate = 0;
  cfg.max_line_rate = 0;
  auto server = net::Server::create(thread.context(), cfg, events);
  net::StoreContents contents;
  const auto t_start = Clock::now();
  std::shared_ptr<net::Store> store = net::Store::open(options, contents);
  server->attach_store(store, contents);
  if (auto err = server->start()) {
    std::cerr << *err << "\n";
    return 1;
  }
  out["startup_to_listening_ms"] = ms_since(t_start);
  const std::uint16_t port = server->local_endpoint().port();
  thread.start();
  std::thread drain([&] {
    net::Event e;
    while (events.wait_pop(e, std::chrono::milliseconds(200))) {
    }
  });

  // ---- a welcome with resume of 1,000 --------------------------------------------------
  std::vector<double> resumes;
  for (int k = 0; k < 7; ++k) {
    Raw c(port);
    const auto t = Clock::now();
    c.send({{"type", "hello"},
            {"nick", "r" + std::to_string(k)},
            {"proto", 1},
            {"room_id", contents.room_id},
            {"last_id", contents.last_id - 1000}});
    const json w = c.recv_type("welcome");
    resumes.push_back(ms_since(t));
    if (w["history"].size() != 1000) {
      std::cerr << "resume gave " << w["history"].size() << " messages\n";
      return 1;
    }
  }
  out["resume_1000_ms"] = median(resumes);

  // ---- a history page from the middle, and searches ------------------------------------
  Raw c(port);
  c.send({{"type", "hello"}, {"nick", "reader"}, {"proto", 1}});
  c.recv_type("welcome");
  std::vector<double> pages;
  for (int k = 0; k < 7; ++k) {
    const auto t = Clock::now();
    c.send({{"type", "history"}, {"before", messages / 2 + static_cast<std::uint64_t>(k) * 1000}});
    const json h = c.recv_type("history");
    pages.push_back(ms_since(t));
    if (h["msgs"].size() != 100) return 1;
  }
  out["history_page_ms"] = median(pages);
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{{"common_word", "lab"},
                                                        {"rare_word", "zanzibar"},
                                                        {"folded_word", "citta"},
                                                        {"word_beginning", "dead"},
                                                        {"two_words", "printer wifi"}}) {
    std::vector<double> times;
    std::size_t found = 0;
    for (int k = 0; k < 5; ++k) {
      const auto t = Clock::now();
      c.send({{"type", "search"}, {"text", text}});
      const json f = c.recv_type("found");
      times.push_back(ms_since(t));
      found = f["msgs"].size();
    }
    out["search_ms"][name] = {{"text", text}, {"ms", median(times)}, {"results", found}};
  }

  std::promise<void> stopped;
  thread.post([&] { server->stop("bench over", [&] { stopped.set_value(); }); });
  stopped.get_future().wait_for(std::chrono::seconds(10));
  thread.stop();
  drain.join();
  std::cout << out.dump() << std::endl;
  return 0;
}
