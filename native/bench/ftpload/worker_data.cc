// Data connections and transfers: EPSV/PASV (connect) or PORT/EPRT (listen),
// RETR or STOR, the bytes, and the checks of size and checksum at the end.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "addresses.h"
#include "crc32.h"
#include "worker.h"

namespace muxftpd::ftpload {

void Worker::StartOp(Session& s, uint64_t now) {
  if (!PerSessionOp(s.kind) && !ClaimOp()) return Quit(s, now);
  s.upload = s.kind == Kind::kUpload;
  s.file = s.kind == Kind::kLarge ? &o_.large : &o_.small;
  s.xfer_bytes = 0;
  s.crc = 0;
  s.data_done = s.reply_done = s.data_connected = false;
  BeginDataSetup(s, now);
}

// EPSV/PASV or PORT/EPRT, when --max-data-setups leaves room and no session
// of this worker waits already; else the session queues behind them, and
// StartQueuedSetups (once per loop turn, outside any session's handler)
// starts them in order as places free up. The places are shared by the
// workers of the process; the queue is this worker's.
void Worker::BeginDataSetup(Session& s, uint64_t now) {
  if (o_.max_data_setups > 0 && (SetupQueued() || !TakeSetupPlace(s))) {
    s.st = St::kSetupWait;
    s.wait_ticket = ++setup_tickets_;
    setup_queue_.emplace_back(s.slot, s.wait_ticket);
    return;
  }
  StartDataSetup(s, now);
}

// One of the --max-data-setups places, if one is free.
bool Worker::TakeSetupPlace(Session& s) {
  uint64_t n = sh_.setups.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n > o_.max_data_setups) {
    sh_.setups.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  s.in_setup = true;
  if (n > tally.max_data_setups) tally.max_data_setups = n;
  return true;
}

// True when a session still waits in setup_queue_ (entries of sessions that
// ended while waiting are dropped on the way).
bool Worker::SetupQueued() {
  while (!setup_queue_.empty()) {
    auto [slot, ticket] = setup_queue_.front();
    const Session& w = sessions_[slot];
    if (w.st == St::kSetupWait && w.wait_ticket == ticket) return true;
    setup_queue_.pop_front();
  }
  return false;
}

void Worker::StartQueuedSetups(uint64_t now) {
  while (!stopping_ && SetupQueued()) {
    Session& s = sessions_[setup_queue_.front().first];
    if (!TakeSetupPlace(s)) return;
    setup_queue_.pop_front();
    StartDataSetup(s, now);
  }
}

void Worker::StartDataSetup(Session& s, uint64_t now) {
  // An operation's latency starts with its turn, not with the wait for it.
  if (!PerSessionOp(s.kind)) s.op_start = now;
  s.wait_since = now;
  if (o_.mode == DataMode::kEpsv || o_.mode == DataMode::kPasv) {
    s.st = St::kPasvReq;
    return Send(s, o_.mode == DataMode::kEpsv ? "EPSV" : "PASV", now);
  }
  StartActive(s, now);
}

// Active mode: listen on the control connection's local address, then PORT or EPRT.
void Worker::StartActive(Session& s, uint64_t now) {
  SockAddr a = s.local;
  a.SetPort(0);
  int fd = sys::TcpSocket(a.Family());
  if (fd < 0) return Errno(s, "listen", -fd, now);
  int r = sys::Bind(fd, a);
  if (r == 0) r = sys::Listen(fd, 1);
  if (r < 0) {
    (void)sys::Close(fd);
    return Errno(s, "listen", -r, now);
  }
  (void)sys::LocalAddress(fd, &a);
  s.lst = fd;
  s.lst_gen++;
  Watch(s, kLst, fd, s.lst_gen, EPOLLIN, true);
  s.st = St::kPortReq;
  s.data_mark = now;
  if (o_.mode == DataMode::kPort) {
    if (a.Family() != AF_INET) return Error(s, "port_needs_ipv4", now, false);
    return Send(s, "PORT " + PortArgument(a), now);
  }
  Send(s, "EPRT " + EprtArgument(a), now);
}

// 227/229: connect the data connection to the port named, on the control
// connection's peer.
void Worker::OnPassiveReply(Session& s, int code, const std::string& line, uint64_t now) {
  if (code != 227 && code != 229) return ReplyError(s, code, now);
  std::string announced;
  int port = code == 229 ? ParseEpsvPort(line) : ParsePasvPort(line, &announced);
  if (port <= 0) return Error(s, "bad_pasv_reply", now);
  s.data_mark = now;
  // The data connection still goes to --host: the count says whether the
  // 227 would have sent a client that trusts it there.
  if (code == 229 || announced == o_.expect_pasv) {
    tally.pasv_as_expected++;
  } else {
    tally.pasv_unexpected++;
  }
  SockAddr target = o_.target;
  target.SetPort(static_cast<uint16_t>(port));
  int fd = OpenConnect(s, target);
  if (fd < 0) return Errno(s, "data_connect", -fd, now);
  s.data = fd;
  s.data_gen++;
  s.st = St::kDataConnect;
  s.wait_since = now;
  Watch(s, kData, fd, s.data_gen, EPOLLOUT, true);
}

// The data connection is made (or the session ended): its setup's turn is over.
void Worker::EndDataSetup(Session& s) {
  if (!s.in_setup) return;
  s.in_setup = false;
  sh_.setups.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::SendXferCmd(Session& s, uint64_t now) {
  s.st = St::kXferCmd;
  s.xfer_mark = now;
  s.first_byte = false;
  if (s.upload) {
    // A new name per upload: some servers refuse to let anonymous users
    // overwrite (pure-ftpd), so no run depends on it. The caller cleans up.
    return Send(s, "STOR " + o_.upload_prefix + "-" + std::to_string(getpid()) + "-" +
                       std::to_string(id_) + "-" + std::to_string(s.slot) + "-" +
                       std::to_string(s.upload_seq++) + ".bin", now);
  }
  Send(s, "RETR " + s.file->remote, now);
}

// Active mode: the server connected to our listener.
void Worker::OnListen(Session& s, uint64_t now) {
  SockAddr peer;
  int fd = sys::Accept(s.lst, &peer);
  if (fd == -EAGAIN) return;
  if (fd < 0) return Errno(s, "data_accept", -fd, now);
  CloseFd(s.lst);
  tally.PhaseDone(Phase::kDataSetup, s.data_mark, now);
  EndDataSetup(s);
  if (peer.HostString() == o_.target.HostString()) {
    tally.active_as_seen++;
  } else {
    tally.active_from_elsewhere++;
  }
  s.data = fd;
  s.data_gen++;
  s.data_connected = true;
  if (o_.tls != TlsMode::kOff) {
    Watch(s, kData, fd, s.data_gen, 0u, true);
    return MaybeStartDataTls(s, now);
  }
  bool write_now = s.upload && s.st == St::kXfer;
  Watch(s, kData, fd, s.data_gen, s.upload ? (write_now ? EPOLLOUT : 0u) : EPOLLIN, true);
}

void Worker::OnData(Session& s, uint32_t ev, uint64_t now) {
  if (s.st == St::kDataConnect) return OnDataConnected(s, now);
  if (o_.tls != TlsMode::kOff) {
    // Before the 150 only an error or a hang-up can wake a TLS data connection.
    if (!s.data_tls) return Error(s, std::string("data_closed_in_") + StName(s.st), now);
    if (!s.data_tls_ready) return DataHandshake(s, now);
  }
  if (s.upload) return SendUpload(s, ev, now);
  ReceiveDownload(s, now);
}

// Passive mode: our connect finished, or failed.
void Worker::OnDataConnected(Session& s, uint64_t now) {
  if (int err = -sys::SocketError(s.data); err != 0) return Errno(s, "data_connect", err, now);
  tally.PhaseDone(Phase::kDataSetup, s.data_mark, now);
  EndDataSetup(s);
  s.data_connected = true;
  // With TLS nothing is read before the handshake, which starts at the 150.
  Watch(s, kData, s.data, s.data_gen, s.upload || o_.tls != TlsMode::kOff ? 0u : EPOLLIN, false);
  if (s.kind == Kind::kPassive) {
    // Hold the data connection until every session has one (Scan releases).
    s.st = St::kDataHold;
    uint64_t h = sh_.held.fetch_add(1, std::memory_order_relaxed) + 1;
    if (h > tally.max_data_held) tally.max_data_held = h;
    Settle(s);
    return;
  }
  SendXferCmd(s, now);
}

void Worker::SendUpload(Session& s, uint32_t ev, uint64_t now) {
  if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || s.st != St::kXfer) return;
  uint64_t left = o_.upload_size - s.xfer_bytes;
  if (left > 0) {
    // One block per event: every session moves every loop.
    size_t chunk = left < upload_buf_.size() ? static_cast<size_t>(left) : upload_buf_.size();
    ssize_t n = s.data_tls ? TlsWrite(s.data_tls, upload_buf_.data(), chunk)
                           : sys::Send(s.data, upload_buf_.data(), chunk);
    if (n == -EAGAIN || n == kTlsWantWrite) return;
    // Only a renegotiation or key update would make a write wait for a read.
    if (n == kTlsWantRead) return Error(s, "tls_data_write_wants_read", now);
    if (n == kTlsFailed) return TlsFailed(s, "data_write", now);
    if (n < 0) return Errno(s, "data_send", static_cast<int>(-n), now);
    FirstByte(s, now);
    s.xfer_bytes += static_cast<uint64_t>(n);
    sh_.bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    s.wait_since = now;
  }
  if (s.xfer_bytes >= o_.upload_size) {
    TlsClose(s.data_tls);  // close_notify, then
    CloseData(s);          // FIN ends the upload (stream mode)
    s.data_done = true;
    MaybeOpDone(s, now);
  }
}

void Worker::ReceiveDownload(Session& s, uint64_t now) {
  if (s.data_tls) return ReceiveTls(s, now);
  ssize_t n;
  if (o_.checksum) {
    n = sys::Read(s.data, buf_.data(), buf_.size());
  } else {
    // Without --checksum the kernel discards the bytes (MSG_TRUNC on TCP), so
    // the client spends no copy on them. No sys:: wrapper: the engine never
    // throws received bytes away.
    do {
      n = recv(s.data, nullptr, 1 << 22, MSG_TRUNC | MSG_DONTWAIT);
    } while (n == -1 && errno == EINTR);
    if (n == -1) n = -errno;
  }
  if (n == -EAGAIN) return;
  if (n < 0) return Errno(s, "data_recv", static_cast<int>(-n), now);
  if (n == 0) return DownloadEnded(s, now, false);
  Received(s, static_cast<size_t>(n), now);
}

// n bytes of a download arrived (in buf_ when checksummed).
void Worker::Received(Session& s, size_t n, uint64_t now) {
  FirstByte(s, now);
  if (o_.checksum) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(buf_.data());
    s.crc = Crc32Update(s.crc, bytes, n);
  }
  s.xfer_bytes += n;
  s.wait_since = now;
  sh_.bytes.fetch_add(n, std::memory_order_relaxed);
}

// The server ended the data connection (after close_notify, with TLS).
void Worker::DownloadEnded(Session& s, uint64_t now, bool tls_close) {
  if (s.st == St::kDataHold) return Error(s, "closed_in_data_hold", now);
  if (tls_close) TlsClose(s.data_tls);
  CloseData(s);
  s.data_done = true;
  MaybeOpDone(s, now);
}

// The first data byte of a transfer received (RETR) or sent (STOR).
void Worker::FirstByte(Session& s, uint64_t now) {
  if (s.first_byte) return;
  s.first_byte = true;
  tally.PhaseDone(Phase::kFirstByte, s.xfer_mark, now);
}

// 226/250: the server says the transfer is done.
void Worker::XferReplied(Session& s, uint64_t now) {
  tally.PhaseDone(Phase::kXferDone, s.xfer_mark, now);
  s.reply_done = true;
  MaybeOpDone(s, now);
}

void Worker::MaybeOpDone(Session& s, uint64_t now) {
  if (!s.data_done || !s.reply_done) return;
  if (!s.upload) {
    if (s.file->size >= 0) {
      if (static_cast<int64_t>(s.xfer_bytes) != s.file->size) return Error(s, "size_mismatch", now);
      tally.verified_size++;
    }
    if (o_.checksum && s.file->have_crc) {
      if (s.crc != s.file->crc) return Error(s, "checksum_mismatch", now);
      tally.verified_crc++;
    }
  }
  if (!PerSessionOp(s.kind)) {
    tally.Op(now - s.op_start);
    tally.ops_by_kind[KindName(s.kind)]++;
    sh_.ops.fetch_add(1, std::memory_order_relaxed);
  }
  s.files_done++;
  switch (s.kind) {
    case Kind::kSmall:
    case Kind::kPassive:
      return Quit(s, now);
    case Kind::kPersistent: {
      uint64_t fps = o_.files_per_session;
      if (fps == 0 && o_.mix.size() > 1) fps = 10;
      if (fps && s.files_done >= fps) return Quit(s, now);
      return StartOp(s, now);
    }
    default:
      return StartOp(s, now);
  }
}

}  // namespace muxftpd::ftpload
