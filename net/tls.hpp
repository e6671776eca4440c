#pragma once
// TLS for lanchat, on OpenSSL 3 through asio's ssl support:
//  - the host's identity: a key pair and self-signed certificate made on first hosting and
//    kept for every room; clients pin its fingerprint on first use, as SSH does;
//  - the OpenSSL configuration each end uses (TlsContext);
//  - a TLS session driven on a non-blocking socket that OpenSSL reads and writes itself
//    (TlsChannel): the server's connections use it, so they keep reading on readiness into
//    one shared buffer (asio's ssl::stream keeps two 17 KiB buffers per connection and goes
//    through memory BIOs, which would also rule kernel TLS out).
// No asio or OpenSSL types leak from here into the UI.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "net/fingerprint.hpp"
#include "net/tls_mode.hpp"

namespace asio::ssl {
class context;
}
struct ssl_st;
struct ssl_ctx_st;

namespace lanchat::net {

class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The host's identity: DIR/identity/key.pem and cert.pem (folder 0700, files 0600).
struct Identity {
  std::string cert_pem;
  std::string key_pem;
  std::string fingerprint;  // SHA-256 of the DER certificate: 64 upper-case hex digits
  std::filesystem::path dir;
  bool created = false;  // made by this call
};
// Loads the identity in data_dir, or makes one (ECDSA P-256, self-signed, valid for a
// century: it is trusted by pinning, not by dates). Never overwrites anything. Throws
// TlsError naming the file and what to do. Slow the first time (key generation, disk):
// call it off the net thread.
Identity load_or_create_identity(const std::filesystem::path& data_dir);

// One OpenSSL context (SSL_CTX) with lanchat's settings. Making one is crypto set-up:
// do it off the net thread.
class TlsContext {
 public:
  // TLS 1.2 or 1.3 (so `openssl s_client` and Python's ssl get in too), the identity's
  // certificate, no session tickets or renegotiation.
  static std::shared_ptr<TlsContext> server(const Identity& identity);
  // TLS 1.3 only. No certificate authority: the caller pins the fingerprint.
  static std::shared_ptr<TlsContext> client();
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  asio::ssl::context& asio();
  ssl_ctx_st* native();

 private:
  TlsContext();
  std::unique_ptr<asio::ssl::context> ctx_;
};

// The fingerprint of the certificate the peer of an established session showed (empty
// if none), and "TLSv1.3 TLS_AES_128_GCM_SHA256" for people.
std::string peer_fingerprint(ssl_st* ssl);
std::string session_description(ssl_st* ssl);

// True when a client's handshake failed because the server answered with something that
// is not TLS (a plain-only lanchat server's error line, say): the server does not offer
// TLS, as opposed to offering it and failing.
bool tls_not_offered(const std::error_code& ec);

// A TLS session on a connected non-blocking socket. Every call does what it can without
// blocking and says what it waits for; retry the same call once the socket is ready. A
// write that waited must be retried with the same bytes (more may follow them).
class TlsChannel {
 public:
  enum class Role : std::uint8_t { server, client };
  enum class Io : std::uint8_t { done, want_read, want_write, closed, failed };

  TlsChannel(TlsContext& context, int fd, Role role);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  Io handshake();
  // done: n > 0 bytes of plaintext are in buf.
  Io read(char* buf, std::size_t cap, std::size_t& n);
  // done: the first n bytes (n > 0) of buf are sent.
  Io write(const char* buf, std::size_t len, std::size_t& n);
  // Sends close_notify if it can right now; never waits.
  void close_notify();

  const std::string& error() const { return error_; }
  std::string description() const;

 private:
  Io outcome(int ret, const char* doing);
  ssl_st* ssl_ = nullptr;
  std::string error_;
};

}  // namespace lanchat::net
