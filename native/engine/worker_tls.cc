// TLS in the worker (RFC 4217): AUTH TLS and implicit TLS on control
// connections, CCC, and PROT P data connections, each a non-blocking
// TlsChannel driven by the level-triggered loop like the clear-text paths.
#include <cassert>
#include <cerrno>

#include "tls_context.h"
#include "worker.h"

namespace muxftpd {

namespace {

// TLS record content types (RFC 8446 5.1): 20 change_cipher_spec, 21 alert,
// 22 handshake, 23 application_data (a TLS 1.3 alert travels as 23). No FTP
// command starts with one of these bytes.
bool IsTlsRecordStart(unsigned char c) { return c >= 20 && c <= 23; }

// How long an implicit-TLS client may take over its handshake (JS, which
// times out every other stall, does not know of it yet): the data timeout,
// or this when that is off.
constexpr uint64_t kImplicitHandshakeMs = 60000;

}  // namespace

void Worker::Announce(Session* s) {
  Event& e = Emit(EventType::kOpen, s->sid);
  e.text = s->peer.HostString();
  e.port = s->peer.Port();
  e.local = s->local.HostString();
  e.local_port = s->local.Port();
  e.implicit_tls = s->control_tls != nullptr;
}

bool Worker::TakeHandshakeTurn() {
  if (handshakes_left_ == 0) return false;  // its fd is still ready: the next iteration serves it
  --handshakes_left_;
  return true;
}

// AUTH TLS: the replies queued so far (the 234) go out in clear first; what
// the client sent after AUTH in clear is dropped with the partial line (a
// complete line already went to JS, which drops it: the injection of
// CVE-2011-0411), and bytes still unread fail the handshake.
void Worker::StartTls(Session* s) {
  if (tls_ == nullptr || s->control_tls_state != ControlTls::kClear) {
    RefuseTls(s, tls_ == nullptr ? "tls not configured" : "tls already active");
    return;
  }
  s->framer.Reset();
  s->control_tls_state = ControlTls::kStarting;
  MarkDirty(s);  // FlushOutputs, once it has sent everything, calls AfterFlush
  SetControlEvents(s);
}

// CCC: the replies so far (the 200) go out over TLS, then our close_notify.
void Worker::ClearControl(Session* s) {
  if (s->control_tls_state != ControlTls::kReady) {
    RefuseTls(s, "tls not active");
    return;
  }
  s->control_tls_state = ControlTls::kClearing;
  MarkDirty(s);
  SetControlEvents(s);
}

void Worker::AfterFlush(Session* s) {
  if (s->control_tls_state == ControlTls::kStarting) {
    BeginControlHandshake(s);
  } else if (s->control_tls_state == ControlTls::kClearing) {
    s->control_tls_state = ControlTls::kShutdown;
    StepControlTls(s);
  }
}

void Worker::BeginControlHandshake(Session* s) {
  s->control_tls = TlsChannel::Accept(tls_->ctx(), s->control.Get(), s->sid, true, &tls_counters_.control_switched);
  if (!s->control_tls) {
    ControlTlsFailed(s, "out of memory");
    return;
  }
  s->control_tls_state = ControlTls::kHandshake;
  // The client speaks first (ClientHello): wait for it rather than read now.
  SetControlEvents(s);
}

void Worker::StepControlTls(Session* s) {
  if (s->control_tls_state == ControlTls::kHandshake) {
    if (!TakeHandshakeTurn()) return;
    switch (s->control_tls->Handshake()) {
      case TlsStep::kDone: ControlTlsReady(s); return;
      case TlsStep::kWait: SetControlEvents(s); return;
      case TlsStep::kFailed: ControlTlsFailed(s, s->control_tls->error()); return;
    }
  }
  assert(s->control_tls_state == ControlTls::kShutdown);
  switch (s->control_tls->Shutdown()) {
    case TlsStep::kDone:
      // Clear from here on; the client's own close_notify, if it sends one,
      // is read before its next line (ReadControl).
      s->control_tls_state = ControlTls::kAwaitNotify;
      Emit(EventType::kControlCleared, s->sid);
      if (s->Unsent() > 0) MarkDirty(s);
      SetControlEvents(s);
      return;
    case TlsStep::kWait: SetControlEvents(s); return;
    case TlsStep::kFailed: ControlTlsFailed(s, s->control_tls->error()); return;
  }
}

void Worker::ControlTlsReady(Session* s) {
  TagTlsSession(s->control_tls->ssl(), s->sid);
  s->control_tls_state = ControlTls::kReady;
  Bump(tls_counters_.control_handshakes, 1);
  if (!s->announced) {
    s->announced = true;
    Announce(s);
  } else {
    Emit(EventType::kTlsReady, s->sid).text = s->control_tls->Description();
  }
  if (s->Unsent() > 0) MarkDirty(s);
  SetControlEvents(s);
}

void Worker::ControlTlsFailed(Session* s, const std::string& why) {
  if (!s->announced) {
    Bump(tls_counters_.implicit_failures, 1);
  } else {
    Bump(tls_counters_.control_failures, 1);
    Emit(EventType::kTlsFailed, s->sid).text = why;
  }
  CloseSession(s, CloseReason::kIoError);
}

// A TLS action JS should not have sent (no TLS configured, AUTH twice, CCC
// in clear): TlsFailed, and the session closes once the replies queued
// before it are out, as on a Close.
void Worker::RefuseTls(Session* s, const char* why) {
  Bump(tls_counters_.control_failures, 1);
  Emit(EventType::kTlsFailed, s->sid).text = why;
  DropData(s);
  s->BeginClose();
  MarkDirty(s);
}

ssize_t Worker::ReadControl(Session* s, char* buf, size_t n) {
  if (s->control_tls_state == ControlTls::kReady) {
    ssize_t r = s->control_tls->Read(buf, n);
    if (r == -EAGAIN && s->control_tls->want() == TlsWant::kWrite) MarkDirty(s);  // EPOLLOUT wakes it
    if (r > 0) NotePendingTls(s);
    return r == -EPROTO ? -EIO : r;
  }
  if (s->control_tls_state == ControlTls::kAwaitNotify) {
    unsigned char first = 0;
    ssize_t peeked = sys::Peek(s->control.Get(), &first, 1);
    if (peeked == 1 && IsTlsRecordStart(first)) {
      switch (s->control_tls->AwaitPeerShutdown()) {
        case TlsStep::kWait: return -EAGAIN;  // level-triggered: the rest of it fires again
        case TlsStep::kFailed: return -EIO;
        case TlsStep::kDone: break;
      }
    } else if (peeked == -EAGAIN) {
      return -EAGAIN;
    }
    // Its close_notify read, or a client that sends none (curl's passive CCC).
    s->control_tls.reset();
    s->control_tls_state = ControlTls::kClear;
    if (peeked == 1 && IsTlsRecordStart(first)) return -EAGAIN;
  }
  return sys::Read(s->control.Get(), buf, n);
}

void Worker::NotePendingTls(Session* s) {
  if (s->in_tls_pending || !s->control_tls || s->control_tls_state != ControlTls::kReady ||
      !s->ReadsInput() || !s->control_tls->Pending()) {
    return;
  }
  s->in_tls_pending = true;
  tls_pending_.push_back(s->sid);
}

void Worker::ReadPendingTls() {
  if (tls_pending_.empty()) return;
  std::vector<SessionId> pending;
  pending.swap(tls_pending_);
  for (SessionId sid : pending) {
    Session* s = Find(sid);
    if (s == nullptr || s->IsGone()) continue;
    s->in_tls_pending = false;
    if (s->control_tls_state == ControlTls::kReady && s->ReadsInput()) OnControl(s, EPOLLIN);
  }
}

void Worker::ExpireHandshakes() {
  if (handshaking_.empty() || now_ms_ < next_handshake_sweep_ms_) return;
  next_handshake_sweep_ms_ = now_ms_ + kExpirySweepMs;
  size_t kept = 0;
  for (SessionId sid : handshaking_) {
    Session* s = Find(sid);
    if (s == nullptr || s->IsGone() || s->announced) continue;
    if (now_ms_ >= s->handshake_deadline_ms) {
      ControlTlsFailed(s, "handshake timeout");
      continue;
    }
    handshaking_[kept++] = sid;
  }
  handshaking_.resize(kept);
}

// An implicit-TLS client (Handoff::implicit_tls): its handshake first, Open after.
void Worker::BeginImplicitTls(Session* s) {
  s->announced = false;
  uint64_t limit = config_.data_timeout_ms != 0 ? config_.data_timeout_ms : kImplicitHandshakeMs;
  s->handshake_deadline_ms = now_ms_ + limit;
  if (handshaking_.empty()) next_handshake_sweep_ms_ = now_ms_ + kExpirySweepMs;
  handshaking_.push_back(s->sid);
  BeginControlHandshake(s);
}

void Worker::DataConnected(Session* s) {
  if (!s->protect_data || tls_ == nullptr) {
    StartTransferIfReady(s);
    return;
  }
  s->data_tls = TlsChannel::Accept(tls_->ctx(), s->data.Get(), s->sid, false);
  s->data_tls_ready = false;
  // Data connections are corked (OpenOwnListener says why): a handshake
  // flight would wait for the cork's 200 ms timer. Uncorked until it is done.
  sys::SetCork(s->data.Get(), false);
  data_sessions_ = true;  // --data-timeout covers a stalled handshake
  TouchData(s);
  if (!s->data_tls || SetDataEvents(s, EPOLLIN) < 0) {
    Bump(tls_counters_.data_failures, 1);
    DataTlsFailed(s, TransferError::kTlsFailed);
  }
}

void Worker::StepDataTls(Session* s) {
  if (!TakeHandshakeTurn()) return;
  TouchData(s);
  TlsChannel* tls = s->data_tls.get();
  // An upload's data connection gets no ticket: OpenSSL writes tickets after
  // the handshake, and one that reaches lftp (GnuTLS) mid-upload is taken for
  // the end (it sent close_notify at 114,688 of 300,000 bytes, then had its
  // 226). Downloads keep theirs: curl resumes its next data connection with
  // the latest ticket it got. Clients send RETR/STOR, then start TLS after the
  // 150, so the transfer is known here.
  if (s->transfer && !s->transfer->Sending()) tls->SendNoTickets();
  switch (tls->Handshake()) {
    case TlsStep::kDone:
      // Required reuse: the session resumed must be this control
      // connection's own (a tag its tickets and cache entry carry), not any
      // session of this server's: vsftpd and proftpd check the resumption
      // alone, with a context per client process; ours is shared.
      if (tls_->reuse_required() && !tls->ResumedSessionOf(s->sid)) {
        Bump(tls_counters_.data_not_resumed, 1);
        DataTlsFailed(s, TransferError::kTlsNotResumed);
        return;
      }
      Bump(tls_counters_.data_handshakes, 1);
      s->data_tls_ready = true;
      sys::SetCork(s->data.Get(), true);
      if (SetDataEvents(s, 0) < 0) {
        DataTlsFailed(s, TransferError::kTlsFailed);
        return;
      }
      StartTransferIfReady(s);
      return;
    case TlsStep::kWait:
      if (SetDataEvents(s, tls->want() == TlsWant::kWrite ? EPOLLOUT : EPOLLIN) < 0) {
        DataTlsFailed(s, TransferError::kTlsFailed);
      }
      return;
    case TlsStep::kFailed:
      Bump(tls_counters_.data_failures, 1);
      DataTlsFailed(s, TransferError::kTlsFailed);
      return;
  }
}

void Worker::DataTlsFailed(Session* s, TransferError error) {
  if (s->transfer) {
    FinishTransfer(s, static_cast<int32_t>(error));
    return;
  }
  // No transfer yet: the one that comes for this connection ends with it.
  ResetData(s);
  s->data_setup_error = static_cast<int32_t>(error);
}

}  // namespace muxftpd
