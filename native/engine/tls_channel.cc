#include "tls_channel.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace muxftpd {

namespace {

// The ex_data slot of an SSL that holds its channel's Tls13Records (control
// connections only): the keylog callback gets nothing else to find it by.
int RecordsIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// OpenSSL's keylog lines (NSS's format): "LABEL <client random> <secret>",
// in hex. The application traffic secrets are logged as OpenSSL installs
// them, between the last record under the handshake keys and the first
// under these.
void OnKeylog(const SSL* ssl, const char* line) {
  auto* records = static_cast<Tls13Records*>(SSL_get_ex_data(ssl, RecordsIndex()));
  if (records == nullptr) return;
  static constexpr char kServer[] = "SERVER_TRAFFIC_SECRET_0 ";
  static constexpr char kClient[] = "CLIENT_TRAFFIC_SECRET_0 ";
  bool write = std::strncmp(line, kServer, sizeof kServer - 1) == 0;
  if (!write && std::strncmp(line, kClient, sizeof kClient - 1) != 0) return;
  const char* hex = std::strrchr(line, ' ') + 1;  // the label's space at least
  size_t digits = std::strlen(hex);
  uint8_t secret[tls13::kMaxSecret];
  bool ok = digits % 2 == 0 && digits / 2 <= sizeof secret;
  for (size_t i = 0; ok && i < digits / 2; ++i) {
    int hi = HexDigit(hex[2 * i]);
    int lo = HexDigit(hex[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    secret[i] = static_cast<uint8_t>(hi << 4 | (lo & 0xf));
  }
  if (ok) records->SetSecret(write, secret, digits / 2);
  else records->Spoil();
  OPENSSL_cleanse(secret, sizeof secret);
}

// Every record header OpenSSL reads or writes (SSL3_RT_HEADER), counted in
// the direction whose application secret is known: the sequence numbers.
// A KeyUpdate either way changes keys behind our back: no switch then.
void OnMessage(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void* arg) {
  auto* records = static_cast<Tls13Records*>(arg);
  if (content_type == SSL3_RT_HEADER) {
    records->CountRecord(write_p != 0);
  } else if (content_type == SSL3_RT_HANDSHAKE && len > 0 &&
             static_cast<const uint8_t*>(buf)[0] == SSL3_MT_KEY_UPDATE) {
    records->Spoil();
  }
}

}  // namespace

void TlsChannel::PrepareContext(SSL_CTX* ctx) {
  static_cast<void>(RecordsIndex());  // made before any worker thread needs it
  SSL_CTX_set_keylog_callback(ctx, OnKeylog);
}

std::unique_ptr<TlsChannel> TlsChannel::Accept(SSL_CTX* ctx, int fd, uint64_t owner, bool control,
                                               std::atomic<uint64_t>* switches) {
  SslPtr ssl(SSL_new(ctx));
  // SSL_set_fd makes a socket BIO that does not close the fd: the session's
  // UniqueFd stays its owner.
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl.get());
  SetTlsChannelOwner(ssl.get(), owner, control);
  std::unique_ptr<TlsChannel> channel(new TlsChannel(std::move(ssl)));
  if (control && switches != nullptr && RecordsIndex() >= 0) {
    channel->records_ = std::make_unique<Tls13Records>();
    channel->switches_ = switches;
    SSL* s = channel->ssl_.get();
    if (SSL_set_ex_data(s, RecordsIndex(), channel->records_.get()) != 1) {
      ERR_clear_error();
      channel->records_.reset();
    } else {
      SSL_set_msg_callback_arg(s, channel->records_.get());
      SSL_set_msg_callback(s, OnMessage);
    }
  }
  return channel;
}

void TlsChannel::StayWithOpenSsl() {
  SSL_set_msg_callback(ssl_.get(), nullptr);
  SSL_set_msg_callback_arg(ssl_.get(), nullptr);
  static_cast<void>(SSL_set_ex_data(ssl_.get(), RecordsIndex(), nullptr));
  records_.reset();
}

void TlsChannel::MaybeSwitch() {
  if (!records_ || switched() || write_blocked_) return;
  SSL* ssl = ssl_.get();
  if (!SSL_is_init_finished(ssl)) return;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (SSL_version(ssl) != TLS1_3_VERSION || cipher == nullptr || records_->spoiled() ||
      !tls13::IsSuite(SSL_CIPHER_get_protocol_id(cipher))) {
    StayWithOpenSsl();
    return;
  }
  // Quiet: no plain text or record bytes buffered, the record layer between
  // records (not past a header, awaiting its body), no alert sent or read.
  if (SSL_has_pending(ssl) != 0 || std::strcmp(SSL_rstate_string(ssl), "RH") != 0 || SSL_get_shutdown(ssl) != 0 ||
      SSL_want(ssl) == SSL_WRITING) {
    return;
  }
  std::string description = Description();
  if (!records_->Start(SSL_get_fd(ssl), SSL_CIPHER_get_protocol_id(cipher))) {
    StayWithOpenSsl();
    return;
  }
  description_ = std::move(description);
  ssl_.reset();
  // Only this channel's worker thread writes the counter (as worker.h's Bump).
  if (switches_ != nullptr) switches_->store(switches_->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

namespace {

// Before every SSL I/O call. SSL_get_error reads the thread's error queue
// first: an error some other connection of this worker left there turns this
// one's WANT_READ into SSL_ERROR_SYSCALL, and with errno 0 that reads as the
// peer's EOF (seen: an upload under ASan ended at 114,688 of 300,000 bytes
// with a 226). errno 0 before the call keeps a real EOF apart from a stale one.
void ClearTlsErrors() {
  ERR_clear_error();
  errno = 0;
}

}  // namespace

ssize_t TlsChannel::Failure(int r) {
  int saved_errno = errno;  // before SSL_get_error, which may call into libc
  int err = SSL_get_error(ssl_.get(), r);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      want_ = TlsWant::kRead;
      return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
      want_ = TlsWant::kWrite;
      return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      // errno 0: the peer closed without close_notify (kept by OpenSSL only
      // without SSL_OP_IGNORE_UNEXPECTED_EOF, which the context sets).
      return saved_errno != 0 ? -saved_errno : 0;
    default:
      error_ = TakeTlsError("tls error");
      return -EPROTO;
  }
}

void TlsChannel::SendNoTickets() { static_cast<void>(SSL_set_num_tickets(ssl_.get(), 0)); }

TlsStep TlsChannel::Handshake() {
  want_ = TlsWant::kNothing;
  ClearTlsErrors();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) return TlsStep::kDone;
  ssize_t f = Failure(r);
  if (f == -EAGAIN) return TlsStep::kWait;
  if (f != -EPROTO) error_ = f == 0 ? "connection closed in the handshake" : "handshake: socket error";
  return TlsStep::kFailed;
}

ssize_t TlsChannel::Read(char* buf, size_t n) {
  if (switched()) return records_->Read(buf, n);
  want_ = TlsWant::kNothing;
  ClearTlsErrors();
  int r = SSL_read(ssl_.get(), buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
  if (r > 0) return r;
  ssize_t f = Failure(r);
  if (f == -EAGAIN && want_ == TlsWant::kRead) MaybeSwitch();
  return f;
}

ssize_t TlsChannel::Write(const char* buf, size_t n) {
  if (switched()) return records_->Write(buf, n);
  want_ = TlsWant::kNothing;
  ClearTlsErrors();
  int r = SSL_write(ssl_.get(), buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
  if (r > 0) {
    write_blocked_ = false;
    // A reply written whole: the usual moment an idle session goes quiet.
    if (static_cast<size_t>(r) == n) MaybeSwitch();
    return r;
  }
  ssize_t f = Failure(r);
  if (f == -EAGAIN) write_blocked_ = true;
  return f == 0 ? -EPIPE : f;  // a write that meets the peer's close_notify
}

ssize_t TlsChannel::FlushPending() { return switched() ? records_->FlushPending() : 0; }

TlsStep TlsChannel::Shutdown() {
  if (switched()) return records_->Shutdown();
  want_ = TlsWant::kNothing;
  // A retry after kWait sends what is left of the alert.
  ClearTlsErrors();
  int r = SSL_shutdown(ssl_.get());
  if (r >= 0) return TlsStep::kDone;  // 0: ours is out, theirs not yet; 1: both
  ssize_t f = Failure(r);
  if (f == -EAGAIN && want_ == TlsWant::kWrite) return TlsStep::kWait;
  // Wanting to read: ours went out on an earlier call and OpenSSL went on to
  // wait for theirs, which this does not do.
  if (f == -EAGAIN) return TlsStep::kDone;
  if (error_.empty()) error_ = "shutdown: socket error";
  return TlsStep::kFailed;
}

TlsStep TlsChannel::AwaitPeerShutdown() {
  if (switched()) return records_->AwaitPeerShutdown();
  want_ = TlsWant::kNothing;
  ClearTlsErrors();
  int r = SSL_shutdown(ssl_.get());
  if (r == 1) return TlsStep::kDone;
  if (r == 0) {
    want_ = TlsWant::kRead;
    return TlsStep::kWait;
  }
  ssize_t f = Failure(r);
  if (f == -EAGAIN) return TlsStep::kWait;
  if (f == 0) return TlsStep::kDone;
  if (error_.empty()) error_ = "shutdown: socket error";
  return TlsStep::kFailed;
}

std::string TlsChannel::Description() const {
  if (switched()) return description_;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get());
  return std::string(SSL_get_version(ssl_.get())) + " " + (cipher ? SSL_CIPHER_get_name(cipher) : "none");
}

bool TlsChannel::ResumedSessionOf(uint64_t owner) const {
  uint64_t tag = 0;
  return SSL_session_reused(ssl_.get()) == 1 && TlsSessionTag(ssl_.get(), &tag) && tag == owner;
}

}  // namespace muxftpd
