#include "tls_channel.h"

#include <openssl/err.h>

#include <cerrno>
#include <climits>

namespace muxftpd {

std::unique_ptr<TlsChannel> TlsChannel::Accept(SSL_CTX* ctx, int fd, uint64_t owner, bool control) {
  SslPtr ssl(SSL_new(ctx));
  // SSL_set_fd makes a socket BIO that does not close the fd: the session's
  // UniqueFd stays its owner.
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl.get());
  SetTlsChannelOwner(ssl.get(), owner, control);
  return std::unique_ptr<TlsChannel>(new TlsChannel(std::move(ssl)));
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
  want_ = TlsWant::kNothing;
  ClearTlsErrors();
  int r = SSL_read(ssl_.get(), buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
  return r > 0 ? r : Failure(r);
}

ssize_t TlsChannel::Write(const char* buf, size_t n) {
  want_ = TlsWant::kNothing;
  ClearTlsErrors();
  int r = SSL_write(ssl_.get(), buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
  if (r > 0) return r;
  ssize_t f = Failure(r);
  return f == 0 ? -EPIPE : f;  // a write that meets the peer's close_notify
}

TlsStep TlsChannel::Shutdown() {
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
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get());
  return std::string(SSL_get_version(ssl_.get())) + " " + (cipher ? SSL_CIPHER_get_name(cipher) : "none");
}

bool TlsChannel::ResumedSessionOf(uint64_t owner) const {
  uint64_t tag = 0;
  return SSL_session_reused(ssl_.get()) == 1 && TlsSessionTag(ssl_.get(), &tag) && tag == owner;
}

}  // namespace muxftpd
