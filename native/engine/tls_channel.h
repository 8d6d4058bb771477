// One TLS server connection on a non-blocking socket: the handshake, records
// in and out, and close_notify, each returning at once with what the socket
// must wait for (want()) when it would block, so the worker's level-triggered
// loop sets that fd's epoll interest and calls again. Touched by one worker
// thread only; the OpenSSL error queue it uses is that thread's.
//
// A TLS 1.3 control connection leaves OpenSSL once its handshake is over and
// nothing is in flight: the SSL is freed and Tls13Records carries on with
// the same keys (tls13_records.h; docs/tls.md, "After the handshake"), behind
// the same calls. TLS 1.2 and data connections stay with OpenSSL.
#ifndef MUXFTPD_ENGINE_TLS_CHANNEL_H_
#define MUXFTPD_ENGINE_TLS_CHANNEL_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "tls13_records.h"
#include "tls_context.h"
#include "tls_step.h"

namespace muxftpd {

class TlsChannel {
 public:
  // A server-side TLS connection on `fd` (which stays the caller's), the
  // control connection (`control`) or a data connection of the FTP session
  // `owner` (see TagTlsSession). Null when OpenSSL cannot make one (out of memory).
  // A control connection with `switches` leaves OpenSSL after its handshake
  // when it can (TLS 1.3), and adds 1 to it then; only its worker thread writes it.
  static std::unique_ptr<TlsChannel> Accept(SSL_CTX* ctx, int fd, uint64_t owner, bool control,
                                            std::atomic<uint64_t>* switches = nullptr);
  // Installs the keylog callback that hands control connections their
  // traffic secrets: once, on the context every channel is made from.
  static void PrepareContext(SSL_CTX* ctx);

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
  // Sends what the connection queued itself (the KeyUpdate answering the
  // peer's, after the switch) when the caller has nothing to write: 0 when
  // nothing is left, -EAGAIN (want()), or -errno.
  ssize_t FlushPending();
  // Sends our close_notify: kDone once it is out (the peer's is not waited for).
  TlsStep Shutdown();
  // After Shutdown: reads the peer's close_notify. kDone once it came.
  TlsStep AwaitPeerShutdown();

  TlsWant want() const { return switched() ? records_->want() : want_; }
  const std::string& error() const { return switched() ? records_->error() : error_; }
  // Plain text decrypted and not handed out yet: epoll cannot see it.
  bool Pending() const { return switched() ? records_->Pending() : SSL_pending(ssl_.get()) > 0; }
  // No Read gets further until a write goes out (our KeyUpdate answering the
  // peer's, after the switch): the caller stops watching for input meanwhile,
  // or a readable socket would wake it every turn for nothing.
  bool ReadWaitsForWrite() const { return switched() && records_->ReadWaitsForWrite(); }
  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  std::string Description() const;
  // This connection resumed a TLS session tagged `owner` (TagTlsSession).
  // Data connections only (they never switch).
  bool ResumedSessionOf(uint64_t owner) const;
  // The SSL: null once the connection has switched to Tls13Records.
  SSL* ssl() const { return ssl_.get(); }
  bool switched() const { return ssl_ == nullptr; }

 private:
  explicit TlsChannel(SslPtr ssl) : ssl_(std::move(ssl)) {}
  // Classifies a failed call's return `r`: -EAGAIN (want_ set), 0 (clean
  // end), -EPROTO (error_ set) or -errno.
  ssize_t Failure(int r);
  // Hands the connection to records_ and frees the SSL if it is quiet: the
  // handshake over, TLS 1.3 with a suite records_ handles, nothing buffered
  // in OpenSSL (not even part of a record) and no write of ours half done.
  void MaybeSwitch();
  // Drops records_ (this connection stays with OpenSSL), callbacks first.
  void StayWithOpenSsl();

  SslPtr ssl_;
  TlsWant want_ = TlsWant::kNothing;
  bool write_blocked_ = false;  // the last Write wanted the socket: OpenSSL holds part of a record
  std::string error_;
  // Control connections that may switch: their secrets and record counts,
  // then (switched) the connection itself.
  std::unique_ptr<Tls13Records> records_;
  std::atomic<uint64_t>* switches_ = nullptr;
  std::string description_;  // kept at the switch, when the SSL goes
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_TLS_CHANNEL_H_
