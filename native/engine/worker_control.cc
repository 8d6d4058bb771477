// Control connections: reading lines off them (one read per loop, paused
// while JS is behind or has asked), queueing replies, flushing them, and
// closing a session.
#include <algorithm>
#include <cassert>
#include <cerrno>

#include "file_jobs.h"
#include "worker.h"

namespace muxftpd {

namespace {

bool IsPeerGone(ssize_t err) { return err == -ECONNRESET || err == -EPIPE; }

}  // namespace

void Worker::OnControl(Session* s, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) {
    if (!s->announced) ControlTlsFailed(s, "connection closed in the handshake");  // counted
    else CloseSession(s, CloseReason::kPeerClosed);
    return;
  }
  if (s->control_tls_state == ControlTls::kHandshake || s->control_tls_state == ControlTls::kShutdown) {
    StepControlTls(s);
    return;
  }
  if (events & EPOLLOUT) MarkDirty(s);
  // A PauseInput applied earlier in this iteration leaves this fd's EPOLLIN
  // in the event array: honour the pause now, not one read later.
  if (!(events & EPOLLIN) || s->input_paused) return;
  if (inflight_.load(std::memory_order_relaxed) >= kMaxInflight) {
    // Level-triggered: without dropping EPOLLIN this fd would fire every loop.
    s->read_paused = true;
    SetControlEvents(s);
    paused_.push_back(s->sid);
    return;
  }
  // One read per loop per client: a flooding client gets its turn like everyone else.
  ssize_t n = ReadControl(s, scratch_.get(), kControlReadSize);
  if (n == -EAGAIN) return;
  if (n == 0) {
    // A half-close (`printf 'USER a\r\n...QUIT\r\n' | nc`): the lines already
    // read still get their replies; JS closes the session once it has answered.
    s->input_ended = true;
    SetControlEvents(s);
    Emit(EventType::kInputEnded, s->sid);
    return;
  }
  if (n < 0) {
    CloseSession(s, IsPeerGone(n) ? CloseReason::kPeerClosed : CloseReason::kIoError);
    return;
  }
  s->framer.Feed(scratch_.get(), static_cast<size_t>(n), [&](std::string_view line, bool too_long) {
    if (!s->IsOpen()) return;
    Event& e = Emit(EventType::kLine, s->sid);
    e.text.assign(line);
    e.too_long = too_long;
  });
}

void Worker::SetControlEvents(Session* s) {
  uint32_t events;
  if (s->control_tls_state == ControlTls::kHandshake || s->control_tls_state == ControlTls::kShutdown) {
    events = s->control_tls->want() == TlsWant::kWrite ? uint32_t{EPOLLOUT} : uint32_t{EPOLLIN};
  } else {
    // A read that waits for our KeyUpdate to go out: EPOLLIN would fire every
    // turn (level-triggered) while the client leaves its replies unread.
    bool read_waits = s->control_tls && s->control_tls->ReadWaitsForWrite();
    bool tls_write = s->control_tls && (read_waits || s->control_tls->want() == TlsWant::kWrite);
    events = (s->ReadsInput() && !read_waits ? uint32_t{EPOLLIN} : 0u) |
             (s->Unsent() > 0 || tls_write ? uint32_t{EPOLLOUT} : 0u);
    // Plain text OpenSSL already holds raises no EPOLLIN (resumed reads, say).
    if (s->ReadsInput()) NotePendingTls(s);
  }
  if (events == s->control_events) return;
  s->control_events = events;
  // A control fd the loop can no longer watch would never be served again.
  if (sys::EpollMod(epoll_.Get(), s->control.Get(), events, &s->control_handle) < 0) {
    CloseSession(s, CloseReason::kIoError);
  }
}

void Worker::Queue(Session* s, const std::string& reply, bool split) {
  if (!s->held.empty()) {
    s->held.append(reply);  // behind the held part, in order
    return;
  }
  size_t at = config_.split_reply_at;
  if (split && at > 0 && at < reply.size()) {
    s->out.append(reply, 0, at);
    s->held.assign(reply, at);
    s->held_until_ms = now_ms_ + config_.split_reply_pause_ms;
    held_.push_back(s->sid);
  } else {
    s->Append(reply);
  }
  MarkDirty(s);
}

void Worker::ReleaseHeld() {
  size_t kept = 0;
  for (SessionId sid : held_) {
    Session* s = Find(sid);
    if (s == nullptr || s->held.empty()) continue;  // gone, or released by its close
    if (now_ms_ < s->held_until_ms) {
      held_[kept++] = sid;
      continue;
    }
    s->out.append(s->held);
    s->held.clear();
    MarkDirty(s);
  }
  held_.resize(kept);
}

void Worker::MarkDirty(Session* s) {
  if (s->in_dirty) return;
  s->in_dirty = true;
  dirty_.push_back(s);
}

void Worker::FlushOutputs() {
  // One write per session per loop, however many replies the loop produced.
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Session* s = dirty_[i];
    s->in_dirty = false;
    if (s->IsGone()) continue;
    ssize_t left = s->Flush();
    if (left < 0) {
      CloseSession(s, IsPeerGone(left) ? CloseReason::kPeerClosed : CloseReason::kIoError);
    } else if (static_cast<size_t>(left) > config_.max_output) {
      CloseSession(s, CloseReason::kOutputOverflow);
    } else if (left == 0 && s->IsClosing()) {
      CloseSession(s, CloseReason::kRequested);
    } else {
      if (left == 0) AfterFlush(s);
      if (s->IsGone()) continue;
      if (s->IsClosing()) Linger(s);
      SetControlEvents(s);
    }
  }
  dirty_.clear();
}

void Worker::ResumeReads() {
  if (paused_.empty() || inflight_.load() >= kMaxInflight) return;
  for (SessionId sid : paused_) {
    Session* s = Find(sid);
    if (s == nullptr || s->IsGone()) continue;
    s->read_paused = false;
    SetControlEvents(s);
  }
  paused_.clear();
}

void Worker::CloseSession(Session* s, CloseReason reason) {
  if (s->IsGone()) return;
  // A session going away waits for no file job: its transfer ends now.
  if (s->transfer && s->transfer->in_job) {
    s->transfer->in_job = false;
    s->transfer->job_left = true;
  }
  DropData(s);
  // A TLS session asked to close says so (close_notify), if the socket takes it at once.
  if (reason == CloseReason::kRequested && s->control_tls_state == ControlTls::kReady) {
    static_cast<void>(s->control_tls->Shutdown());
  }
  s->control_tls.reset();
  // Remove before closing: a child forked by the embedding process may still
  // hold the fd for a moment, and then close() alone would leave it in the
  // epoll set, reporting events for a freed session.
  sys::EpollDel(epoll_.Get(), s->control.Get());
  // Its slot is free before the client sees the close: one that reconnects at once is counted anew.
  Departed(s->peer);
  s->control.Reset();
  s->MarkGone();
  if (s->announced) Emit(EventType::kClosed, s->sid).reason = reason;  // JS never saw the others
  auto it = sessions_.find(s->sid);
  assert(it != sessions_.end());
  graveyard_.push_back(std::move(it->second));
  sessions_.erase(it);
}

}  // namespace muxftpd
