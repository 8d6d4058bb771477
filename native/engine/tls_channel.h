// One TLS server connection on a non-blocking socket: the handshake, records
// in and out, and close_notify, each returning at once with what the socket
// must wait for (want()) when it would block, so the worker's level-triggered
// loop sets that fd's epoll interest and calls again. Touched by one worker
// thread only; the OpenSSL error queue it uses is that thread's.
#ifndef MUXFTPD_ENGINE_TLS_CHANNEL_H_
#define MUXFTPD_ENGINE_TLS_CHANNEL_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tls_context.h"

namespace muxftpd {

enum class TlsWant : uint8_t { kNothing, kRead, kWrite };

enum class TlsStep : uint8_t {
  kDone,    // finished (the handshake, or our close_notify sent)
  kWait,    // would block: wait for want()
  kFailed,  // see error()
};

class TlsChannel {
 public:
  // A server-side TLS connection on `fd` (which stays the caller's), the
  // control connection (`control`) or a data connection of the FTP session
  // `owner` (see TagTlsSession). Null when OpenSSL cannot make one (out of memory).
  static std::unique_ptr<TlsChannel> Accept(SSL_CTX* ctx, int fd, uint64_t owner, bool control);

  // No TLS 1.3 session tickets after this connection's handshake (before it ends).
  void SendNoTickets();
  TlsStep Handshake();
  // Bytes read (> 0); 0 at the end of the peer's data (close_notify, or a
  // bare FIN); -EAGAIN when it would block (want()); -EPROTO on a TLS error
  // (error()); another -errno when the socket failed.
  ssize_t Read(char* buf, size_t n);
  // Bytes written (> 0, perhaps fewer than n: one record at least); -EAGAIN,
  // -EPROTO or -errno as Read. After -EAGAIN, call again with at least as many
  // bytes, the same ones (the buffer may move).
  ssize_t Write(const char* buf, size_t n);
  // Sends our close_notify: kDone once it is out (the peer's is not waited for).
  TlsStep Shutdown();
  // After Shutdown: reads the peer's close_notify. kDone once it came.
  TlsStep AwaitPeerShutdown();

  TlsWant want() const { return want_; }
  const std::string& error() const { return error_; }
  // Plain text OpenSSL has decrypted and not handed out yet: epoll cannot see it.
  bool Pending() const { return SSL_pending(ssl_.get()) > 0; }
  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  std::string Description() const;
  // This connection resumed a TLS session tagged `owner` (TagTlsSession).
  bool ResumedSessionOf(uint64_t owner) const;
  SSL* ssl() const { return ssl_.get(); }

 private:
  explicit TlsChannel(SslPtr ssl) : ssl_(std::move(ssl)) {}
  // Classifies a failed call's return `r`: -EAGAIN (want_ set), 0 (clean
  // end), -EPROTO (error_ set) or -errno.
  ssize_t Failure(int r);

  SslPtr ssl_;
  TlsWant want_ = TlsWant::kNothing;
  std::string error_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_TLS_CHANNEL_H_
