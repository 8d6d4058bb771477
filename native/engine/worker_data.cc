// Data connections: passive listeners (a session's own, or a shared port of
// --pasv-ports), active connects, the data fd joining and leaving epoll, and
// the --data-timeout sweep.
#include <algorithm>
#include <cassert>
#include <cerrno>

#include "file_jobs.h"
#include "worker.h"

namespace muxftpd {

void Worker::OnListener(Session* s) {
  while (s->listener.Valid()) {
    SockAddr peer;
    int fd = sys::Accept(s->listener.Get(), &peer);
    if (fd < 0) return;  // EAGAIN, or an error that a later connection may not repeat
    UniqueFd conn(fd);
    // Only the control connection's own host may take the data connection:
    // anything else (a port thief, or a NAT that changed the source) is
    // reported and dropped, and the listener waits on.
    if (!peer.SameHost(s->peer)) {
      EmitDataRefused(s->sid, peer, s->listener.Get(), false);
      continue;
    }
    sys::EpollDel(epoll_.Get(), s->listener.Get());
    s->listener.Reset();
    AttachData(s, std::move(conn), peer);
  }
}

void Worker::OnPoolListener(PassivePort* port) {
  while (true) {
    SockAddr peer;
    int fd = sys::Accept(port->fd.Get(), &peer);
    if (fd < 0) return;
    UniqueFd conn(fd);
    Session* s = pool_->Claim(port, peer, now_ms_);
    if (s == nullptr) {
      // No session waits here for that host. With no other host waiting
      // either, one whose reservation here has just ended is late (a second
      // connection, or one made after a second PASV or the session's close):
      // reported as such, with no session, for it is no other host's doing.
      // While another host waits, it counts as foreign whatever came before,
      // so that a port thief cannot pass for late. A foreign one (a thief, a
      // NAT that changed the source) is reported naming the session only when
      // one alone waits on this port. Either is dropped.
      bool late = port->waiting.empty() && PassivePool::EndedLately(*port, peer, now_ms_);
      SessionId only = !late && port->waiting.size() == 1 ? port->waiting.begin()->second->sid : 0;
      EmitDataRefused(only, peer, port->fd.Get(), late);
      continue;
    }
    if (!s->IsGone()) AttachData(s, std::move(conn), peer);
  }
}

void Worker::AttachData(Session* s, UniqueFd conn, const SockAddr& peer) {
  s->data = std::move(conn);
  s->data_state = DataState::kConnected;
  s->data_peer = peer;
  TouchData(s);
  // Only the control peer's connections get here (the others are refused):
  // counted, not reported, since JS would learn nothing it does not know.
  Bump(passive_control_peer_, 1);
  DataConnected(s);
}

void Worker::EmitDataConnected(Session* s, uint32_t seq, bool fresh) {
  Event& e = Emit(EventType::kDataConnected, s->sid);
  e.seq = seq;
  e.fresh = fresh;
  e.text = s->data_peer.HostString();
  e.port = s->data_peer.Port();
  SockAddr local;
  if (seq != 0 && sys::LocalAddress(s->data.Get(), &local) == 0) {
    e.local = local.HostString();
    e.local_port = local.Port();
  }
}

void Worker::EmitDataFailed(SessionId sid, uint32_t seq, int32_t error) {
  Event& e = Emit(EventType::kDataFailed, sid);
  e.seq = seq;
  e.error = error;
}

void Worker::EmitDataRefused(SessionId sid, const SockAddr& peer, int listener, bool late) {
  Event& e = Emit(EventType::kDataRefused, sid);
  e.late = late;
  e.text = peer.HostString();
  e.port = peer.Port();
  SockAddr local;
  if (sys::LocalAddress(listener, &local) == 0) {
    e.local = local.HostString();
    e.local_port = local.Port();
  }
}

// ESTA, ESTP: the data connection's endpoints, connecting an active target
// first; a passive connection the client has made is taken off the listener's
// queue first (it may be ready in the same loop turn as the command).
void Worker::OpenData(Session* s, uint32_t seq) {
  switch (s->data_state) {
    case DataState::kActiveSet: {
      s->data_report_seq = seq;
      int r = ConnectActive(s);
      if (r < 0) {
        s->data_report_seq = 0;
        EmitDataFailed(s->sid, seq, r);
        ResetData(s);
      }
      return;
    }
    case DataState::kConnecting:
      if (s->data_report_seq == 0) {
        s->data_report_seq = seq;
      } else {
        EmitDataFailed(s->sid, seq, -EALREADY);
      }
      return;
    case DataState::kListening:
      if (s->listener.Valid()) {
        OnListener(s);
      } else if (s->passive != nullptr) {
        OnPoolListener(s->passive);
      }
      break;
    case DataState::kNone:
    case DataState::kConnected: break;
  }
  if (s->data_state == DataState::kConnected) {
    EmitDataConnected(s, seq, false);
  } else {
    EmitDataFailed(s->sid, seq, -ENOTCONN);
  }
}

void Worker::OnData(Session* s, uint32_t events) {
  if (s->data_state == DataState::kConnecting) {
    int err = sys::SocketError(s->data.Get());
    uint32_t seq = s->data_report_seq;
    s->data_report_seq = 0;
    if (err == 0 && !(events & (EPOLLERR | EPOLLHUP))) {
      s->data_state = DataState::kConnected;
      (void)SetDataEvents(s, 0);
      EmitDataConnected(s, seq, true);
      DataConnected(s);
      return;
    }
    EmitDataFailed(s->sid, seq, err != 0 ? err : -ECONNREFUSED);
    if (s->transfer) FinishTransfer(s, static_cast<int32_t>(TransferError::kConnectFailed));
    DropData(s);
    return;
  }
  if (s->data_state != DataState::kConnected) return;  // a stale event for a closed fd
  if (s->data_tls && !s->data_tls_ready) {
    StepDataTls(s);
  } else if (s->transfer) {
    Activate(s);
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    // The client gave up on an active-mode connection nobody used (one an
    // upload made before its file failed to open; a passive one is not
    // watched before a transfer needs it: --data-timeout reaps it).
    DropData(s);
  }
}

void Worker::ListenPassive(Session* s, const Action& a) {
  DropData(s);
  s->data_setup_error = 0;
  int r = pool_ ? pool_->Reserve(s, epoll_.Get()) : OpenOwnListener(s);
  if (r >= 0) {
    s->data_state = DataState::kListening;
    TouchData(s);
    data_sessions_ = true;
    if (!a.preamble.empty()) {
      Queue(s, FillPassivePort(a.preamble, static_cast<uint16_t>(r)),
            (a.flags & static_cast<uint8_t>(ActionFlag::kSplitReply)) != 0);
    }
  } else if (!a.epilogue.empty()) {
    // The command's answer is already given in JS (it did not wait for this
    // event): its failure reply goes out here, in its place in the replies.
    Queue(s, a.epilogue, false);
  }
  Event& e = Emit(EventType::kPassiveReady, s->sid);
  e.seq = a.seq;
  e.port = r >= 0 ? static_cast<uint32_t>(r) : 0;
  e.error = r >= 0 ? 0 : r;
}

int Worker::OpenOwnListener(Session* s) {
  int fd = sys::TcpSocket(s->local.Family());
  if (fd < 0) return fd;
  UniqueFd listener(fd);
  SockAddr addr = s->local;
  addr.SetPort(0);  // no range configured: the kernel picks an ephemeral port
  SockAddr bound;
  // Every data connection is corked (accepted sockets inherit TCP_CORK from
  // their listener): data goes out in full segments only, as proftpd sends,
  // and the close that ends a transfer sends the tail with the FIN. A small
  // file is one segment; a large one has no short segment after each block.
  // (Linux clones the listener's TCP state into accepted sockets; a kernel
  // that did not would only segment differently, nothing would break.)
  sys::SetCork(fd, true);
  int r = sys::Bind(fd, addr);
  if (r == 0) r = sys::Listen(fd, 8);
  if (r == 0) r = sys::LocalAddress(fd, &bound);
  if (r == 0) r = sys::EpollAdd(epoll_.Get(), fd, EPOLLIN, &s->listener_handle);
  if (r < 0) return r;
  s->listener = std::move(listener);
  return bound.Port();
}

// PORT/EPRT name the target; the connect waits for a transfer (BeginTransfer).
// Holding no fd, a target set is not subject to --data-timeout.
void Worker::SetActiveTarget(Session* s, const std::string& host, uint16_t port) {
  DropData(s);
  s->data_setup_error = 0;
  if (!SockAddr::Parse(host, port, &s->active_target)) {
    EmitDataFailed(s->sid, 0, -EINVAL);
    return;
  }
  s->data_state = DataState::kActiveSet;
}

// Starts the connect to the active target: 0, or -errno (the setup is then spent).
int Worker::ConnectActive(Session* s) {
  const SockAddr& target = s->active_target;
  int fd = sys::TcpSocket(target.Family());
  if (fd < 0) return fd;
  UniqueFd conn(fd);
  sys::SetCork(fd, true);  // as every data connection: see OpenOwnListener
  // Connect from the control connection's local address, so the client (and
  // any NAT in between) sees the data connection come from the server it knows.
  if (target.Family() == s->local.Family()) {
    SockAddr from = s->local;
    from.SetPort(0);
    // Let connect() pick the port with the 4-tuple in view: a bind() alone
    // would search for a port not held by any TIME_WAIT socket, which gets
    // slow after many thousand active transfers.
    sys::SetBindNoPort(fd);
    if (int r = sys::Bind(fd, from); r < 0) return r;
  }
  int r = sys::Connect(fd, target);
  if (r != 0 && r != -EINPROGRESS) return r;
  s->data = std::move(conn);
  s->data_peer = target;
  s->data_state = r == 0 ? DataState::kConnected : DataState::kConnecting;
  TouchData(s);
  data_sessions_ = true;
  if (r != 0) return SetDataEvents(s, EPOLLOUT);
  EmitDataConnected(s, s->data_report_seq, true);
  s->data_report_seq = 0;
  // Connected at once; PROT P: its handshake first (a failure there is the
  // transfer's result, which its caller reads from s->data_setup_error).
  DataConnected(s);
  return 0;
}

// Connects a transfer's active target: false when that failed at once (the
// transfer is then answered ConnectFailed and the setup is spent).
bool Worker::ConnectForTransfer(Session* s, uint32_t seq) {
  if (s->data_state != DataState::kActiveSet) return true;
  int r = ConnectActive(s);
  if (r == 0) return true;
  EmitDataFailed(s->sid, 0, r);
  ResetData(s);
  EmitTransferDone(s->sid, seq, 0, static_cast<int32_t>(TransferError::kConnectFailed));
  return false;
}

void Worker::DropData(Session* s) {
  if (s->transfer) {
    FinishTransfer(s, static_cast<int32_t>(TransferError::kAborted));
  } else {
    ResetData(s);
  }
}

void Worker::ResetData(Session* s) {
  // An OpenData waiting for this connect is answered: it will not come up.
  if (s->data_report_seq != 0) {
    EmitDataFailed(s->sid, s->data_report_seq, -ECONNABORTED);
    s->data_report_seq = 0;
  }
  // EpollDel before close, for the same reason as in CloseSession.
  UnwatchData(s);
  if (s->listener.Valid()) sys::EpollDel(epoll_.Get(), s->listener.Get());
  s->data_tls.reset();  // its SSL leaves the fd open: closed just below
  s->data_tls_ready = false;
  s->data.Reset();
  s->listener.Reset();
  if (pool_) pool_->Release(s, now_ms_);
  s->data_state = DataState::kNone;
}

void Worker::UnwatchData(Session* s) {
  if (s->data_registered) sys::EpollDel(epoll_.Get(), s->data.Get());
  s->data_events = 0;
  s->data_registered = false;
}

// A data connection joins the epoll set only once the worker must wait on it
// (a send that would block, an upload, an active connect): a small download
// is sent and closed without an epoll_ctl. Until then a client that drops the
// connection is noticed by the transfer's send (EPIPE) or by --data-timeout.
// data_events is 0 whenever the fd is not registered, so asking for 0 then
// registers nothing.
int Worker::SetDataEvents(Session* s, uint32_t events) {
  if (s->data_events == events) return 0;
  int r = s->data_registered ? sys::EpollMod(epoll_.Get(), s->data.Get(), events, &s->data_handle)
                             : sys::EpollAdd(epoll_.Get(), s->data.Get(), events, &s->data_handle);
  if (r < 0) return r;
  s->data_events = events;
  s->data_registered = true;
  return 0;
}

// A transfer whose data connection cannot be watched (epoll_ctl failed, e.g.
// at fs.epoll.max_user_watches) ends with that error instead of stalling.
bool Worker::WatchData(Session* s, uint32_t events) {
  int r = SetDataEvents(s, events);
  if (r == 0) return true;
  FinishTransfer(s, r);
  return false;
}

void Worker::ExpireDataConnections() {
  if (config_.data_timeout_ms == 0 || !data_sessions_ || now_ms_ < next_expiry_ms_) return;
  next_expiry_ms_ = now_ms_ + std::min(kExpirySweepMs, config_.data_timeout_ms);
  bool any = false;
  for (auto& [sid, session] : sessions_) {
    Session* s = session.get();
    if ((s->data_state == DataState::kNone || s->data_state == DataState::kActiveSet) && !s->transfer) continue;
    // A throttled transfer, or one whose old file is being emptied, is waiting
    // on us, not on the client.
    if (s->parked || (s->transfer && s->transfer->in_job)) TouchData(s);
    if (now_ms_ - s->data_activity_ms < config_.data_timeout_ms) {
      any = true;
    } else if (s->transfer) {
      // Never connected: the client did not open a data connection at all.
      bool connected = s->data_state == DataState::kConnected;
      FinishTransfer(s, static_cast<int32_t>(connected ? TransferError::kTimeout
                                                       : TransferError::kNoDataConnection));
    } else {
      DropData(s);  // an unused listener or data connection: the next transfer gets 425
    }
  }
  data_sessions_ = any;
}

}  // namespace muxftpd
