#pragma once
// One client connection to the server: the socket, the line framing, the protocol state
// (joined or not, as which member), the per-connection budgets, and the write queue.
//
// Reads on readiness into the server's shared scratch buffer (an idle connection holds no
// read buffer); writes from a queue of shared encoded lines with one write in flight that
// gathers everything queued. Lives on the net thread.
//
// The first byte a client sends decides the transport: 0x16 (a TLS handshake record)
// starts TLS, anything else is plain JSON lines (refused with tls_required when the room
// requires TLS). Under TLS, OpenSSL reads and writes the socket itself (TlsChannel) and the
// queue is written one record (16 KiB) at a time.
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/budget.hpp"
#include "net/line_framer.hpp"
#include "net/room.hpp"
#include "net/tls.hpp"

namespace lanchat::net {

class Server;

class Connection final : public Participant, public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, asio::ip::tcp::socket socket, std::uint64_t id, std::string address,
             std::string ip);

  void start();

  // Participant: queues a line (see Delivery).
  void deliver(const SharedLine& line, Delivery how) override;
  void dismissed(std::string_view reason) override;
  // The host removed this member: everyone hears it (this connection last), then it closes.
  void kicked(const std::string& message);

  // Queues an error reply, and logs it (the first few one by one, then as counts) unless
  // the caller has logged it in its own words. ref: the request's label, echoed.
  void reply_error(std::string_view code, std::string message, bool log = true,
                   const nlohmann::json& ref = nullptr);
  // Leaves the room (if joined) with this reason, and tells the panel the connection is
  // gone; what is queued still goes out. Safe to call more than once.
  void depart(std::string_view reason);
  // Stop taking input, flush what is queued, then close. Used for bye and refusals.
  void begin_close();
  // Close now; reason reaches the others in a leave if this connection had joined.
  void close(std::string_view reason);
  // Close without telling the server (it is going away).
  void detach();
  // Starts the one write in flight, gathering what is queued (the server's flush).
  void start_write();
  // Logs the errors counted but not yet logged (the server's housekeeping, and on close).
  void report_errors(bool final);

  std::uint64_t id() const { return id_; }
  const std::string& address() const { return address_; }
  const std::string& ip() const { return ip_; }
  std::size_t backlog() const { return out_bytes_; }
  Member* member() const { return member_; }
  bool joined() const { return member_ != nullptr; }
  bool closed() const { return closed_; }
  bool encrypted() const { return transport_ == Transport::tls; }
  std::string tls_description() const { return tls_ ? tls_->description() : std::string(); }
  bool has_unreported_errors() const { return !error_tally_.empty(); }
  // "#12" or "#12 (alice)" for the log.
  std::string who() const;

  bool host = false;         // the host's own client
  bool reported = false;     // PeerClosed already emitted (at leave time)
  bool ever_joined = false;  // counted as joined for its address
  bool slow = false;         // over its backlog bound: about to be dropped as too_slow
  std::int64_t connected_at = 0;

 private:
  enum class Transport : std::uint8_t { sniffing, plain, handshake, tls };

  void wait_readable();
  void on_readable(const asio::error_code& ec);
  // Reads the first byte without taking it and picks the transport; false if nothing
  // has arrived yet.
  bool sniff();
  void start_handshake();
  void continue_handshake();
  void read_tls();
  // The outcomes every TLS call shares: wait for the socket (then `retry`), or the peer
  // closed. True when it was one of those and is dealt with.
  bool tls_blocked(TlsChannel::Io io, void (Connection::*retry)());
  void write_tls();
  // Waits until the socket can be written (or read), then runs next, unless closed.
  void when_writable(void (Connection::*next)());
  void when_readable(void (Connection::*next)());
  void when_ready(asio::ip::tcp::socket::wait_type what, void (Connection::*next)());
  // Input bytes, in whatever transport: false if handling them failed and the connection
  // was closed.
  bool consume(std::string_view bytes);
  void on_written(const asio::error_code& ec, std::size_t n);
  // n bytes of the queue went out.
  void advance(std::size_t n);
  // A write finished: true if the queue holds only join/leave notices that came in
  // meanwhile, which wait for the presence batch (see on_written).
  bool defer_to_presence_batch();
  void half_close();
  // Returns false to stop reading this batch of input.
  bool on_line(std::string_view line);
  bool on_too_long();
  // Charges one inbound line against the budgets; false if it was refused.
  bool charge_line(std::size_t bytes);
  void refused(std::string message, const nlohmann::json& ref = nullptr);
  void handle(proto::ClientMessage& msg);
  void handle_hello(proto::Hello& hello);
  void handle_say(proto::Say& say);
  void handle_nick(proto::NickChange& n);
  void handle_history(proto::HistoryRequest& h);
  void handle_search(proto::Search& s);
  // Hands a request to the store (ask returns false if it is too busy) with a way to post
  // the answer back, within the per-connection limit of requests in flight.
  void ask_store(const nlohmann::json& ref,
                 const std::function<bool(std::function<void(SharedLine)>)>& ask);
  // A store answer, posted back to the net thread.
  void answered(SharedLine line);
  void release_queue();

  Server* server_;
  asio::ip::tcp::socket socket_;
  Transport transport_ = Transport::sniffing;
  std::unique_ptr<TlsChannel> tls_;
  std::unique_ptr<asio::steady_timer> handshake_deadline_;
  LineFramer framer_;
  std::uint64_t id_;
  std::string address_;  // ip:port
  std::string ip_;
  Member* member_ = nullptr;  // set while joined

  // Budgets.
  TokenBucket say_budget_, line_budget_, byte_budget_, nick_budget_;
  int queries_ = 0;  // history and search requests the store is still answering
  std::chrono::steady_clock::time_point refusals_since_{};
  std::size_t refusals_ = 0;

  // Errors sent, for the log: the first few are logged one by one, then counted by code
  // and logged as counts every few seconds and at close, so nothing goes unrecorded.
  int errors_logged_ = 0;
  std::map<std::string, std::uint64_t> error_tally_;
  std::chrono::steady_clock::time_point tally_since_{};

  // Output.
  std::deque<SharedLine> out_;
  std::vector<asio::const_buffer> gather_;
  std::size_t out_bytes_ = 0;     // queued bytes not yet written
  std::size_t front_offset_ = 0;  // bytes of out_.front() already written
  std::unique_ptr<asio::steady_timer> linger_;
  bool writing_ = false;
  bool read_waiting_ = false;    // an async_wait for input is outstanding
  bool dirty_ = false;           // waits in the server's next flush
  bool presence_dirty_ = false;  // waits in the next presence batch
  bool urgent_queued_ = false;   // out_ holds more than join/leave notices
  bool closing_ = false;
  bool half_closed_ = false;
  bool closed_ = false;
};

}  // namespace lanchat::net
