// The control connection: commands out, replies in (framed, multi-line
// replies joined, RFC 959 4.2), and what each reply moves the session to.
#include <sys/epoll.h>

#include <cctype>
#include <cerrno>

#include "worker.h"

namespace muxftpd::ftpload {

void Worker::Send(Session& s, const std::string& line, uint64_t now) {
  s.wait_since = now;
  s.out += line;
  s.out += "\r\n";
  FlushCtl(s, now);
}

void Worker::FlushCtl(Session& s, uint64_t now) {
  while (!s.out.empty()) {
    ssize_t n = CtlSend(s, s.out.data(), s.out.size());
    if (n == -EAGAIN) break;
    if (n == kTlsFailed) return TlsFailed(s, "ctl_write", now);
    if (n < 0) {
      Errno(s, "ctl_send", static_cast<int>(-n), now);
      return;
    }
    s.out.erase(0, static_cast<size_t>(n));
  }
  bool want = !s.out.empty();
  if (want != s.ctl_out_armed) {
    s.ctl_out_armed = want;
    Watch(s, kCtl, s.ctl, s.ctl_gen, EPOLLIN | (want ? EPOLLOUT : 0u), false);
  }
}

void Worker::OnCtl(Session& s, uint32_t ev, uint64_t now) {
  if (s.st == St::kConnecting) {
    if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (int err = -sys::SocketError(s.ctl); err != 0) {
      Errno(s, "connect", err, now);
      return;
    }
    tally.PhaseDone(Phase::kConnect, s.session_start, now);
    s.ctl_mark = now;
    s.st = St::kGreeting;
    s.wait_since = now;
    Watch(s, kCtl, s.ctl, s.ctl_gen, EPOLLIN, false);
    if (o_.tls == TlsMode::kImplicit) StartCtlTls(s, now);
    return;
  }
  if (s.st == St::kCtlTls) return CtlHandshake(s, now);
  if ((ev & EPOLLOUT) && s.ctl_out_armed) {
    FlushCtl(s, now);
    if (s.st == St::kFree) return;
  }
  if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  // TLS may hold decrypted bytes past one read that epoll cannot see: read them too.
  do {
    if (!ReadReplies(s, now)) return;
  } while (s.st != St::kFree && s.ctl_tls && TlsPending(s.ctl_tls) > 0);
  if (s.st == St::kFree) return;
  // NOOP flood: the replies of this read queued their follow-ups; one send for all.
  if (!s.out.empty() && !s.ctl_out_armed) FlushCtl(s, now);
}

// One read of the control connection and the replies it completes; false
// when there was nothing to read or the session ended.
bool Worker::ReadReplies(Session& s, uint64_t now) {
  char b[4096];
  ssize_t n = CtlRecv(s, b, sizeof b);
  const bool quitting = s.st == St::kQuit || s.st == St::kQuitEof;
  if (n == -EAGAIN) return false;
  if (n == kTlsFailed) {
    if (quitting) return Finish(s, now), false;
    return TlsFailed(s, "ctl_read", now), false;
  }
  if (n < 0) {
    if (quitting) return Finish(s, now), false;
    Errno(s, std::string("ctl_").append(StName(s.st)).c_str(), static_cast<int>(-n), now);
    return false;
  }
  if (n == 0) {
    if (quitting) return Finish(s, now), false;
    return Error(s, std::string("closed_in_") + StName(s.st), now), false;
  }
  s.in.append(b, static_cast<size_t>(n));
  if (s.in.size() > 65536) return Error(s, "reply_too_long", now), false;
  size_t pos = 0;
  while (s.st != St::kFree) {
    size_t nl = s.in.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string line = s.in.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool digits = line.size() >= 3 && isdigit(static_cast<unsigned char>(line[0])) &&
                  isdigit(static_cast<unsigned char>(line[1])) &&
                  isdigit(static_cast<unsigned char>(line[2]));
    int code = digits ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') : 0;
    if (s.ml_code) {
      // RFC 959 4.2: a multi-line reply ends with a line "ddd<SP>" of the same code.
      if (code == s.ml_code && (line.size() == 3 || line[3] == ' ')) {
        s.ml_code = 0;
        OnReply(s, code, line, now);
      }
      continue;
    }
    if (!digits) {
      Error(s, "bad_reply", now);
      break;
    }
    if (line.size() > 3 && line[3] == '-') {
      s.ml_code = code;
      continue;
    }
    OnReply(s, code, line, now);
  }
  if (s.st == St::kFree) return false;
  s.in.erase(0, pos);
  return true;
}

void Worker::ReplyError(Session& s, int code, uint64_t now) {
  Error(s, std::string(StName(s.st)) + "_" + std::to_string(code), now);
}

void Worker::OnReply(Session& s, int code, const std::string& line, uint64_t now) {
  if (code >= 100 && code < 200 && s.st != St::kXferCmd) return;  // preliminary: wait
  switch (s.st) {
    case St::kGreeting:
      if (code != 220) return ReplyError(s, code, now);
      tally.PhaseDone(Phase::kBanner, s.ctl_mark, now);
      if (o_.tls == TlsMode::kExplicit && !s.ctl_tls) {
        s.st = St::kAuth;
        return Send(s, "AUTH TLS", now);
      }
      return SendUser(s, now);
    case St::kAuth:
      if (code != 234) return ReplyError(s, code, now);
      return StartCtlTls(s, now);
    case St::kPbsz:
      if (code != 200) return ReplyError(s, code, now);
      s.st = St::kProt;
      return Send(s, "PROT P", now);
    case St::kProt:
      if (code != 200) return ReplyError(s, code, now);
      s.st = St::kType;
      return Send(s, "TYPE I", now);
    case St::kUser:
      if (code == 230) return LoggedIn(s, now);
      if (code != 331) return ReplyError(s, code, now);
      s.st = St::kPass;
      return Send(s, "PASS " + o_.pass, now);
    case St::kPass:
      if (code != 230 && code != 202) return ReplyError(s, code, now);
      return LoggedIn(s, now);
    case St::kType:
      if (code != 200) return ReplyError(s, code, now);
      return StartOp(s, now);
    case St::kPasvReq:
      return OnPassiveReply(s, code, line, now);
    case St::kPortReq:
      if (code != 200) {
        tally.active_refused++;
        return ReplyError(s, code, now);
      }
      return SendXferCmd(s, now);
    case St::kXferCmd:
      if (code == 150 || code == 125) {
        s.st = St::kXfer;
        s.wait_since = now;
        if (o_.tls != TlsMode::kOff) return MaybeStartDataTls(s, now);
        if (s.upload && s.data != -1 && s.data_connected) {
          Watch(s, kData, s.data, s.data_gen, EPOLLOUT, false);
        }
        return;
      }
      if (code >= 100 && code < 200) return;
      if (code == 226 || code == 250) {  // no 150 at all (seen with tiny files)
        s.st = St::kXfer;
        return XferReplied(s, now);
      }
      return ReplyError(s, code, now);
    case St::kXfer:
      if (code == 226 || code == 250) return XferReplied(s, now);
      return ReplyError(s, code, now);
    case St::kFlood:
      return OnFloodReply(s, code, now);
    case St::kNoop:
      if (code != 200) return ReplyError(s, code, now);
      tally.Op(now - s.op_start);
      tally.ops_by_kind["noop"]++;
      sh_.ops.fetch_add(1, std::memory_order_relaxed);
      s.st = St::kHold;
      s.next_at = now + NoopDelay();
      return;
    case St::kQuit:
      if (code == 221) {
        tally.PhaseDone(Phase::kQuit, s.ctl_mark, now);
        s.st = St::kQuitEof;
        s.wait_since = now;
        return;
      }
      return ReplyError(s, code, now);
    default:
      // Unsolicited reply (e.g. 421 while holding): the server is dropping us.
      return ReplyError(s, code, now);
  }
}

// noop: one NOOP answered; its slot in the window is refilled.
void Worker::OnFloodReply(Session& s, int code, uint64_t now) {
  if (code != 200) return ReplyError(s, code, now);
  if (s.inflight == 0) return ReplyError(s, code, now);  // a reply to nothing
  tally.Op(now - s.ring[s.ring_head]);
  s.ring_head = (s.ring_head + 1) % static_cast<uint32_t>(s.ring.size());
  s.inflight--;
  flood_ops_++;
  sh_.ops.fetch_add(1, std::memory_order_relaxed);
  s.wait_since = now;
  TopUp(s, now);  // queued; OnCtl sends once per read
  if (s.inflight == 0) return Quit(s, now);
}

uint64_t Worker::NoopDelay() {
  uint64_t base = static_cast<uint64_t>(o_.noop_interval_s * 1e6);
  if (base == 0) base = 1000000;
  return base / 2 + rng_() % (base + 1);  // jitter: 0.5x .. 1.5x
}

void Worker::SendUser(Session& s, uint64_t now) {
  s.st = St::kUser;
  s.ctl_mark = now;
  Send(s, "USER " + o_.user, now);
}

void Worker::LoggedIn(Session& s, uint64_t now) {
  tally.PhaseDone(Phase::kLogin, s.ctl_mark, now);
  s.logged_in = true;
  connecting_--;
  tally.login_hist.Add(now - s.session_start);
  // Active mode listens on this address; the data connection of passive
  // mode goes to the control connection's peer, o_.target.
  (void)sys::LocalAddress(s.ctl, &s.local);
  s.counted_est = true;
  uint64_t est = sh_.established.fetch_add(1, std::memory_order_relaxed) + 1;
  if (est > tally.max_established) tally.max_established = est;
  switch (s.kind) {
    case Kind::kLogin:
      return Quit(s, now);
    case Kind::kIdle:
      s.st = St::kHold;
      s.next_at = now + NoopDelay();
      return;
    case Kind::kNoop:
      s.st = St::kFlood;
      s.ring.assign(static_cast<size_t>(o_.pipeline), 0);
      s.ring_head = 0;
      s.inflight = 0;
      TopUp(s, now);
      if (s.inflight == 0) return Quit(s, now);
      return FlushCtl(s, now);
    default:
      if (o_.tls != TlsMode::kOff) {  // RFC 4217: PBSZ 0 and PROT P before protected transfers
        s.st = St::kPbsz;
        return Send(s, "PBSZ 0", now);
      }
      s.st = St::kType;
      return Send(s, "TYPE I", now);
  }
}

// noop: queue NOOPs until --pipeline are in flight (or --count is reached).
void Worker::TopUp(Session& s, uint64_t now) {
  const uint32_t cap = static_cast<uint32_t>(s.ring.size());
  while (s.inflight < cap && ClaimOp()) {
    s.ring[(s.ring_head + s.inflight) % cap] = now;
    s.inflight++;
    s.out += "NOOP\r\n";
  }
}

void Worker::Quit(Session& s, uint64_t now) {
  s.st = St::kQuit;
  s.ctl_mark = now;
  Send(s, "QUIT", now);
}

}  // namespace muxftpd::ftpload
