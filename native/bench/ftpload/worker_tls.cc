// --tls: the TLS side of a session. The control connection's handshake
// (after 234 to AUTH TLS, or right after connect when implicit), control
// bytes in and out through it, and each data connection's handshake as a
// TLS client resuming the FTP session's latest TLS session. Non-blocking:
// SSL_ERROR_WANT_READ/WRITE become the fd's epoll interest.
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>

#include "worker.h"

namespace muxftpd::ftpload {

void Worker::TlsFailed(Session& s, const char* where, uint64_t now) {
  Error(s, std::string("tls_") + where + "_" + TlsErrorWord(), now);
}

ssize_t Worker::CtlRecv(Session& s, char* buf, size_t len) {
  if (!s.ctl_tls) return sys::Read(s.ctl, buf, len);
  ssize_t n = TlsRead(s.ctl_tls, buf, len);
  if (n == kTlsWantWrite && !s.ctl_out_armed) {
    // Rare (a key update while our send buffer is full): wait for room.
    s.ctl_out_armed = true;
    Watch(s, kCtl, s.ctl, s.ctl_gen, EPOLLIN | EPOLLOUT, false);
  }
  return n == kTlsWantRead || n == kTlsWantWrite ? -EAGAIN : n;
}

ssize_t Worker::CtlSend(Session& s, const char* buf, size_t len) {
  if (!s.ctl_tls) return sys::Send(s.ctl, buf, len);
  ssize_t n = TlsWrite(s.ctl_tls, buf, len);
  return n == kTlsWantRead || n == kTlsWantWrite ? -EAGAIN : n;
}

void Worker::StartCtlTls(Session& s, uint64_t now) {
  s.ctl_tls = TlsNew(s.ctl, &s.tls_sessions);
  if (!s.ctl_tls) return TlsFailed(s, "ctl_new", now);
  s.st = St::kCtlTls;
  s.wait_since = now;
  CtlHandshake(s, now);
}

void Worker::CtlHandshake(Session& s, uint64_t now) {
  ssize_t r = TlsHandshake(s.ctl_tls);
  if (r == kTlsFailed) return TlsFailed(s, "ctl_handshake", now);
  const bool out = r == kTlsWantWrite;
  if (r != 1) {
    if (out != s.ctl_out_armed) {
      s.ctl_out_armed = out;
      Watch(s, kCtl, s.ctl, s.ctl_gen, EPOLLIN | (out ? EPOLLOUT : 0u), false);
    }
    return;
  }
  tally.tls_ctl_handshakes++;
  if (s.ctl_out_armed) {
    s.ctl_out_armed = false;
    Watch(s, kCtl, s.ctl, s.ctl_gen, EPOLLIN, false);
  }
  s.wait_since = now;
  if (o_.tls == TlsMode::kImplicit) {
    s.st = St::kGreeting;  // the 220 comes over TLS
    return;
  }
  SendUser(s, now);
}

// A data connection's handshake starts once it is connected (or accepted)
// and the transfer command has its 150, as ftplib and lftp do: pyftpdlib
// drops a data connection whose ClientHello came before the command, and
// vsftpd sends the 150 before it accepts TLS.
void Worker::MaybeStartDataTls(Session& s, uint64_t now) {
  if (s.st != St::kXfer || !s.data_connected || s.data_tls) return;
  StartDataTls(s, now);
}

void Worker::StartDataTls(Session& s, uint64_t now) {
  s.data_tls = TlsNew(s.data, &s.tls_sessions);
  if (!s.data_tls) return TlsFailed(s, "data_new", now);
  s.data_tls_ready = false;
  DataHandshake(s, now);
}

// The epoll interest of a data connection that is ready to move bytes.
uint32_t Worker::DataInterest(const Session& s) const {
  if (!s.upload) return EPOLLIN;
  return s.st == St::kXfer ? EPOLLOUT : 0u;
}

void Worker::DataHandshake(Session& s, uint64_t now) {
  ssize_t r = TlsHandshake(s.data_tls);
  if (r == kTlsFailed) return TlsFailed(s, "data_handshake", now);
  if (r != 1) {
    Watch(s, kData, s.data, s.data_gen, r == kTlsWantWrite ? EPOLLOUT : EPOLLIN, false);
    return;
  }
  s.data_tls_ready = true;
  tally.tls_data_handshakes++;
  if (TlsResumed(s.data_tls)) tally.tls_data_resumed++;
  Watch(s, kData, s.data, s.data_gen, DataInterest(s), false);
}

// A download's bytes through TLS: up to one buffer's worth per event, so
// every session moves every loop turn. Returns with the session ended when
// the transfer is over or failed.
void Worker::ReceiveTls(Session& s, uint64_t now) {
  size_t budget = buf_.size();
  while (budget > 0) {
    ssize_t n = TlsRead(s.data_tls, buf_.data(), buf_.size());
    if (n == kTlsWantRead || n == kTlsWantWrite) {
      const bool out = n == kTlsWantWrite;
      if (out != s.data_out_armed) {
        s.data_out_armed = out;
        Watch(s, kData, s.data, s.data_gen, out ? EPOLLIN | EPOLLOUT : EPOLLIN, false);
      }
      return;
    }
    if (n == kTlsFailed) return TlsFailed(s, "data_read", now);
    if (n == 0) return DownloadEnded(s, now, true);
    Received(s, static_cast<size_t>(n), now);
    budget -= std::min(budget, static_cast<size_t>(n));
  }
}

}  // namespace muxftpd::ftpload
