#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "net/paths.hpp"

namespace lanchat::net {

namespace fs = std::filesystem;

namespace {

template <class T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Freer<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Freer<BIGNUM, BN_free>>;

// The newest OpenSSL error as text (and the queue emptied), for messages to people.
std::string openssl_error(const char* fallback) {
  const unsigned long e = ERR_peek_last_error();
  std::string text = fallback;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    if (reason != nullptr) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      text = buf;
    }
  }
  ERR_clear_error();
  return text;
}

std::string hex_upper(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[data[i] >> 4];
    s += digits[data[i] & 15];
  }
  return s;
}

std::string fingerprint_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
  return hex_upper(md, len);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw TlsError("cannot read " + p.string() + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "lanchat host";
  return buf;
}

// A fresh P-256 key and a self-signed certificate for it, both as PEM.
std::pair<std::string, std::string> make_key_and_certificate() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw TlsError("cannot make a key pair: " + openssl_error("EC key generation failed"));
  CertPtr cert(X509_new());
  BnPtr serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), 36500, 0, nullptr) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    throw TlsError("cannot make a certificate: " + openssl_error("X.509 set-up failed"));
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = "lanchat host " + host_name();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("lanchat"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (X509_set_issuer_name(cert.get(), name) != 1 ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    throw TlsError("cannot sign the certificate: " + openssl_error("signing failed"));
  }
  BioPtr kb(BIO_new(BIO_s_mem()));
  BioPtr cb(BIO_new(BIO_s_mem()));
  if (!kb || !cb ||
      PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cb.get(), cert.get()) != 1) {
    throw TlsError("cannot encode the identity: " + openssl_error("PEM encoding failed"));
  }
  auto text = [](BIO* b) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  return {text(kb.get()), text(cb.get())};
}

Identity load_identity(const fs::path& dir) {
  const fs::path key_file = dir / "key.pem";
  const fs::path cert_file = dir / "cert.pem";
  const std::string fix = "; move " + dir.string() +
                          " away to make a new identity (clients that trusted the old one will "
                          "then refuse this host until their users trust the new one)";
  struct stat st {};
  if (::stat(key_file.c_str(), &st) != 0 || ::access(cert_file.c_str(), F_OK) != 0) {
    throw TlsError("the host identity in " + dir.string() + " is incomplete (key.pem and " +
                   "cert.pem are both needed)" + fix);
  }
  if ((st.st_mode & 077) != 0) {
    throw TlsError("the host's private key " + key_file.string() +
                   " can be read by other users; run: chmod 600 " + key_file.string());
  }
  Identity id;
  id.dir = dir;
  id.key_pem = read_file(key_file);
  id.cert_pem = read_file(cert_file);
  BioPtr kb(BIO_new_mem_buf(id.key_pem.data(), static_cast<int>(id.key_pem.size())));
  BioPtr cb(BIO_new_mem_buf(id.cert_pem.data(), static_cast<int>(id.cert_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  CertPtr cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!key) throw TlsError(key_file.string() + " is not a private key in PEM form" + fix);
  if (!cert) throw TlsError(cert_file.string() + " is not a certificate in PEM form" + fix);
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw TlsError(key_file.string() + " does not belong to " + cert_file.string() + fix);
  }
  id.fingerprint = fingerprint_of(cert.get());
  return id;
}

// OpenSSL writes to sockets with write(), which raises SIGPIPE when the peer has gone;
// the network code handles EPIPE as an error, so the signal must not kill the process.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace

std::optional<TlsMode> parse_tls_mode(std::string_view text) {
  if (text == "off") return TlsMode::off;
  if (text == "on") return TlsMode::on;
  if (text == "required") return TlsMode::required;
  return std::nullopt;
}

const char* to_string(TlsMode mode) {
  switch (mode) {
    case TlsMode::off:
      return "off";
    case TlsMode::on:
      return "on";
    case TlsMode::required:
      return "required";
  }
  return "?";
}

Identity load_or_create_identity(const fs::path& data_dir) {
  const fs::path dir = data_dir / "identity";
  std::error_code ec;
  if (fs::exists(dir, ec)) return load_identity(dir);
  fs::create_directories(data_dir, ec);
  if (ec) throw TlsError("cannot create " + data_dir.string() + ": " + ec.message());
  // Made whole in a private folder beside it, then renamed into place in one step, so a
  // crash never leaves half an identity and two hosts starting at once agree on one.
  std::array<unsigned char, 6> rnd{};
  RAND_bytes(rnd.data(), static_cast<int>(rnd.size()));
  const fs::path tmp = data_dir / ("identity.new-" + hex_upper(rnd.data(), rnd.size()));
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    throw TlsError("cannot create " + tmp.string() + ": " + std::strerror(errno));
  }
  try {
    auto [key_pem, cert_pem] = make_key_and_certificate();
    write_private_file(tmp / "key.pem", key_pem);
    write_private_file(tmp / "cert.pem", cert_pem);
  } catch (const std::runtime_error& e) {
    fs::remove_all(tmp, ec);
    throw TlsError(e.what());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    const int err = errno;
    fs::remove_all(tmp, ec);
    if (err != EEXIST && err != ENOTEMPTY) {
      throw TlsError("cannot create " + dir.string() + ": " + std::strerror(err));
    }
    return load_identity(dir);  // another lanchat made one first: use that
  }
  Identity id = load_identity(dir);
  id.created = true;
  return id;
}

// ---- contexts ----------------------------------------------------------------------------

TlsContext::TlsContext() = default;
TlsContext::~TlsContext() = default;

asio::ssl::context& TlsContext::asio() {
  return *ctx_;
}

ssl_ctx_st* TlsContext::native() {
  return ctx_->native_handle();
}

std::shared_ptr<TlsContext> TlsContext::server(const Identity& identity) {
  std::shared_ptr<TlsContext> c(new TlsContext());
  c->ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* ctx = c->native();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Partial writes: a write that fills the socket returns what went, record by record.
  // Moving buffer: a retried write may come from a rebuilt buffer with the same bytes.
  // Release buffers: an idle connection holds no 16 KiB record buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Read whatever the socket has, not one record header then its body: a busy connection
  // then costs one read() per turn instead of two per record.
  SSL_CTX_set_read_ahead(ctx, 1);
  // Nobody resumes sessions here: no tickets (TLS 1.3 would send two after every
  // handshake) and no cache.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  asio::error_code ec;
  c->ctx_->use_certificate(asio::buffer(identity.cert_pem), asio::ssl::context::pem, ec);
  if (!ec) c->ctx_->use_private_key(asio::buffer(identity.key_pem), asio::ssl::context::pem, ec);
  if (ec) throw TlsError("cannot use the host identity: " + ec.message());
  ignore_sigpipe();
  return c;
}

std::shared_ptr<TlsContext> TlsContext::client() {
  std::shared_ptr<TlsContext> c(new TlsContext());
  c->ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = c->native();
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Read whatever the socket has, not one record header then its body: a busy connection
  // then costs one read() per turn instead of two per record.
  SSL_CTX_set_read_ahead(ctx, 1);
  // There is no certificate authority on a LAN: the certificate is checked by its
  // fingerprint once the handshake is done, before a single byte of chat is sent.
  c->ctx_->set_verify_mode(asio::ssl::verify_none);
  ignore_sigpipe();
  return c;
}

std::string peer_fingerprint(ssl_st* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  return fingerprint_of(cert);
}

std::string session_description(ssl_st* ssl) {
  std::string s = SSL_get_version(ssl);
  if (const char* cipher = SSL_get_cipher_name(ssl)) s += std::string(" ") + cipher;
  return s;
}

bool tls_not_offered(const std::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_UNSUPPORTED_PROTOCOL:
      return true;
    default:
      return false;
  }
}

// ---- channel -----------------------------------------------------------------------------

TlsChannel::TlsChannel(TlsContext& context, int fd, Role role) {
  ERR_clear_error();
  ssl_ = SSL_new(context.native());
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1) {
    error_ = openssl_error("cannot start a TLS session");
    return;
  }
  if (role == Role::server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsChannel::~TlsChannel() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

TlsChannel::Io TlsChannel::outcome(int ret, const char* doing) {
  const int e = SSL_get_error(ssl_, ret);
  switch (e) {
    case SSL_ERROR_WANT_READ:
      return Io::want_read;
    case SSL_ERROR_WANT_WRITE:
      return Io::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return Io::closed;
    case SSL_ERROR_SYSCALL: {
      const int err = errno;
      if (ERR_peek_last_error() == 0 && (err == 0 || err == ECONNRESET || err == EPIPE)) {
        ERR_clear_error();
        return Io::closed;
      }
      error_ = std::string(doing) + ": " +
               (ERR_peek_last_error() != 0 ? openssl_error("system error") : std::strerror(err));
      return Io::failed;
    }
    default:
      error_ = std::string(doing) + ": " + openssl_error("protocol error");
      return Io::failed;
  }
}

TlsChannel::Io TlsChannel::handshake() {
  if (ssl_ == nullptr) return Io::failed;
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  return r == 1 ? Io::done : outcome(r, "TLS handshake failed");
}

TlsChannel::Io TlsChannel::read(char* buf, std::size_t cap, std::size_t& n) {
  n = 0;
  ERR_clear_error();
  const int r = SSL_read_ex(ssl_, buf, cap, &n);
  return r == 1 ? Io::done : outcome(0, "TLS read failed");
}

TlsChannel::Io TlsChannel::write(const char* buf, std::size_t len, std::size_t& n) {
  n = 0;
  ERR_clear_error();
  const int r = SSL_write_ex(ssl_, buf, len, &n);
  return r == 1 ? Io::done : outcome(0, "TLS write failed");
}

void TlsChannel::close_notify() {
  if (ssl_ == nullptr || !SSL_is_init_finished(ssl_)) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string TlsChannel::description() const {
  return ssl_ != nullptr ? session_description(ssl_) : std::string();
}

}  // namespace lanchat::net
