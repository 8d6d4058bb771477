// The worker's loop and the lives of its sessions: start (with --ramp and
// --count), end and restart, timeouts, the end of the run.
#include "worker.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>

#include "clock.h"
#include "fatal.h"

namespace muxftpd::ftpload {

namespace {

// An epoll event names its session's slot, which socket (Which) and that
// socket's generation: slot | which << 32 | gen << 34.
constexpr uint32_t kGenMask = 0x3fffffffu;

uint64_t Tag(uint32_t slot, Which w, uint32_t gen) {
  return slot | (static_cast<uint64_t>(w) << 32) | (static_cast<uint64_t>(gen & kGenMask) << 34);
}

// The tag travels in epoll_data's pointer (sys::EpollAdd's argument).
static_assert(sizeof(void*) >= sizeof(uint64_t), "the epoll tag needs 64-bit pointers");
void* TagPtr(uint64_t tag) { return reinterpret_cast<void*>(static_cast<uintptr_t>(tag)); }
uint64_t PtrTag(void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// The name an errno takes in an error kind ("connect_refused").
std::string ErrnoName(int err) {
  switch (err) {
    case ECONNREFUSED: return "refused";
    case ECONNRESET: return "reset";
    case ETIMEDOUT: return "timedout";
    case EPIPE: return "epipe";
    case EADDRNOTAVAIL: return "eaddrnotavail";
    case EADDRINUSE: return "eaddrinuse";
    case EMFILE: return "emfile";
    case ENFILE: return "enfile";
    case EHOSTUNREACH: return "unreachable";
    case ENETUNREACH: return "unreachable";
    default: return "errno" + std::to_string(err);
  }
}

}  // namespace

Worker::Worker(int id, const Options& o, Counters& counters, int first_slot, int nslots)
    : id_(id), o_(o), sh_(counters), first_slot_(first_slot), rng_(0x9e3779b9u * (id + 1)) {
  sessions_.resize(static_cast<size_t>(nslots));
  for (size_t i = 0; i < sessions_.size(); i++) sessions_[i].slot = static_cast<uint32_t>(i);
  for (const auto& [k, w] : o_.mix) total_weight_ += w;
  timeout_us_ = static_cast<uint64_t>(o_.timeout_s * 1e6);
  buf_.resize(256 * 1024);
  upload_buf_.resize(256 * 1024);
  for (size_t i = 0; i < upload_buf_.size(); i++) upload_buf_[i] = static_cast<char>('a' + i % 26);
}

void Worker::Run() {
  ep_ = sys::EpollCreate();
  if (ep_ < 0) Die("epoll_create1: %s", strerror(-ep_));
  uint64_t now = NowUs();
  for (auto& s : sessions_) {
    s.next_at = now;
    pending_.push_back(s.slot);
  }
  StartPending(now);
  std::vector<epoll_event> evs(1024);
  uint64_t last_scan = now;
  while (true) {
    now = NowUs();
    if (!stopping_ && (sh_.stop.load(std::memory_order_relaxed) || now >= sh_.deadline_us)) {
      StopAll(now);
    }
    const bool all_done = CountDone() || (OneShot() && pending_.empty());
    if (stopping_ || (all_done && active_ == 0)) break;
    int n = sys::EpollWait(ep_, evs.data(), static_cast<int>(evs.size()), 20);
    if (n < 0) Die("epoll_wait: %s", strerror(-n));
    now = NowUs();
    for (int i = 0; i < n; i++) {
      uint64_t d = PtrTag(evs[static_cast<size_t>(i)].data.ptr);
      uint32_t slot = static_cast<uint32_t>(d & 0xffffffffu);
      uint64_t which = (d >> 32) & 3;
      uint32_t gen = static_cast<uint32_t>(d >> 34);
      Session& s = sessions_[slot];
      uint32_t ev = evs[static_cast<size_t>(i)].events;
      // Skip events of fds closed (and maybe reopened) earlier in this batch.
      if (which == kCtl) {
        if (s.ctl == -1 || (s.ctl_gen & kGenMask) != gen) continue;
        OnCtl(s, ev, now);
      } else if (which == kData) {
        if (s.data == -1 || (s.data_gen & kGenMask) != gen) continue;
        OnData(s, ev, now);
      } else {
        if (s.lst == -1 || (s.lst_gen & kGenMask) != gen) continue;
        OnListen(s, now);
      }
    }
    if (now - last_scan >= 20000) {
      last_scan = now;
      Scan(now);
    }
    StartQueuedSetups(now);
    StartPending(now);
  }
  tally.stopped_us = NowUs();
  if (flood_ops_) tally.ops_by_kind["noop"] += flood_ops_;
  (void)sys::Close(ep_);
}

bool Worker::CountDone() const {
  return o_.count > 0 && sh_.claimed.load(std::memory_order_relaxed) >= o_.count;
}

bool Worker::ClaimOp() {
  if (stopping_) return false;
  if (o_.count == 0) return true;
  uint64_t c = sh_.claimed.fetch_add(1, std::memory_order_relaxed);
  return c < o_.count;
}

Kind Worker::PickKind() {
  if (o_.mix.size() == 1) return o_.mix[0].first;
  int r = static_cast<int>(rng_() % static_cast<uint32_t>(total_weight_));
  for (const auto& [k, w] : o_.mix) {
    if (r < w) return k;
    r -= w;
  }
  return o_.mix.back().first;
}

// passive: this session is past its data setup (holding, or failed before).
void Worker::Settle(Session& s) {
  if (s.settled || s.kind != Kind::kPassive) return;
  s.settled = true;
  sh_.settled.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Watch(Session& s, Which w, int fd, uint32_t gen, uint32_t events, bool add) {
  void* tag = TagPtr(Tag(s.slot, w, gen));
  int r = add ? sys::EpollAdd(ep_, fd, events, tag) : sys::EpollMod(ep_, fd, events, tag);
  if (r < 0) Die("epoll_ctl: %s", strerror(-r));
}

void Worker::Error(Session& s, const std::string& kind, uint64_t now, bool restart_later) {
  tally.Error(kind);
  sh_.errors.fetch_add(1, std::memory_order_relaxed);
  // Back off before the slot reconnects, so that a refusing server is not
  // hammered into a flood of identical errors.
  EndSession(s, now, restart_later ? (s.kind == Kind::kIdle ? 1000000 : 50000) : 0);
}

void Worker::Errno(Session& s, const char* what, int err, uint64_t now) {
  Error(s, std::string(what) + "_" + ErrnoName(err), now);
}

void Worker::CloseFd(int& fd) {
  if (fd != -1) {
    (void)sys::Close(fd);  // closing also removes it from the epoll set
    fd = -1;
  }
}

void Worker::CloseData(Session& s) {
  TlsFree(s.data_tls);
  s.data_tls_ready = s.data_out_armed = false;
  CloseFd(s.data);
  CloseFd(s.lst);
  s.data_connected = false;
}

// Ends a session; the slot restarts after delay_us unless the run is over.
void Worker::EndSession(Session& s, uint64_t now, uint64_t delay_us) {
  if (s.st == St::kFree) return;
  if (s.st == St::kDataHold) sh_.held.fetch_sub(1, std::memory_order_relaxed);
  EndDataSetup(s);
  Settle(s);
  CloseData(s);
  TlsFree(s.ctl_tls);
  CloseFd(s.ctl);
  tally.tls_sessions_issued += s.tls_sessions.issued;
  s.tls_sessions.issued = 0;
  TlsForget(s.tls_sessions);
  if (s.counted_open) sh_.open.fetch_sub(1, std::memory_order_relaxed);
  if (s.counted_est) sh_.established.fetch_sub(1, std::memory_order_relaxed);
  if (!s.logged_in) connecting_--;
  s.counted_open = s.counted_est = false;
  s.st = St::kFree;
  s.in.clear();
  s.out.clear();
  std::vector<uint64_t>().swap(s.ring);
  s.inflight = 0;
  active_--;
  if (!stopping_ && !OneShot()) {
    s.next_at = now + delay_us;
    pending_.push_back(s.slot);
  }
}

void Worker::StartPending(uint64_t now) {
  size_t n = pending_.size();
  while (n-- > 0 && !stopping_) {
    uint32_t slot = pending_.front();
    Session& s = sessions_[slot];
    if (s.next_at > now) {
      pending_.pop_front();
      pending_.push_back(slot);
      continue;
    }
    if (connecting_ >= o_.ramp && Ramped()) break;
    pending_.pop_front();
    StartSession(s, now);
  }
}

void Worker::StartSession(Session& s, uint64_t now) {
  s.kind = PickKind();
  s.claimed_op = false;
  s.settled = false;
  if (PerSessionOp(s.kind)) {
    if (!ClaimOp()) return;  // --count reached: the slot stays free
    s.claimed_op = true;
  } else if (CountDone()) {
    Settle(s);  // never starts: no one waits for it
    return;
  }
  sh_.sessions_started.fetch_add(1, std::memory_order_relaxed);
  s.session_start = s.op_start = s.wait_since = now;
  s.logged_in = false;
  s.ml_code = 0;
  s.files_done = 0;
  s.in.clear();
  s.out.clear();
  s.ctl_out_armed = false;
  active_++;
  connecting_++;
  s.st = St::kConnecting;
  if (!o_.sources.empty()) {
    s.src = static_cast<int>((first_slot_ + s.slot + rr_++) % o_.sources.size());
  }
  int fd = OpenConnect(s, o_.target);
  if (fd < 0) {
    Errno(s, "connect", -fd, now);
    return;
  }
  s.ctl = fd;
  s.ctl_gen++;
  s.counted_open = true;
  sh_.open.fetch_add(1, std::memory_order_relaxed);
  Watch(s, kCtl, fd, s.ctl_gen, EPOLLOUT | EPOLLIN, true);
}

// Non-blocking socket + the session's source address, if any + connect.
// Returns the fd or -errno.
int Worker::OpenConnect(const Session& s, const SockAddr& target) {
  int r = sys::TcpSocket(target.Family());
  if (r < 0) return r;
  UniqueFd fd(r);
  (void)sys::SetNoDelay(fd.Get());  // a load without it is still a load
  if (s.src >= 0) {
    const SockAddr& src = o_.sources[static_cast<size_t>(s.src)];
    if (src.Family() == target.Family()) {
      // Let connect() pick the port for the full 4-tuple rather than
      // reserving one per source address at bind time.
      (void)sys::SetBindNoPort(fd.Get());
      if ((r = sys::Bind(fd.Get(), src)) < 0) return r;
    }
  }
  r = sys::Connect(fd.Get(), target);
  if (r < 0 && r != -EINPROGRESS) return r;
  return fd.Release();
}

// QUIT answered and the server closed (or 221 and a short wait): the session is done.
void Worker::Finish(Session& s, uint64_t now) {
  // Closed after QUIT without a 221 first: the close ends the quit phase.
  if (s.st == St::kQuit) tally.PhaseDone(Phase::kQuit, s.ctl_mark, now);
  tally.sessions_ok++;
  if (PerSessionOp(s.kind) && s.claimed_op) {
    tally.Op(now - s.session_start);
    tally.ops_by_kind[KindName(s.kind)]++;
    sh_.ops.fetch_add(1, std::memory_order_relaxed);
  }
  EndSession(s, now, 0);
}

void Worker::Scan(uint64_t now) {
  // passive: every session of this process holds its data connection (or failed).
  const bool release = OneShot() && sh_.settled.load(std::memory_order_relaxed) >=
                                        static_cast<uint64_t>(o_.concurrency);
  for (auto& s : sessions_) {
    switch (s.st) {
      case St::kFree:
        break;
      case St::kDataHold:
        // Not a wait for the server: no timeout while held.
        if (release) {
          sh_.held.fetch_sub(1, std::memory_order_relaxed);
          s.op_start = now;
          SendXferCmd(s, now);
        }
        break;
      case St::kHold:
        if (now >= s.next_at) {
          s.op_start = now;
          s.st = St::kNoop;
          Send(s, "NOOP", now);
        }
        break;
      case St::kSetupWait:
        // Not a wait for the server either: StartQueuedSetups gives it its turn.
        break;
      case St::kQuitEof:
        // 221 arrived; a server that keeps the socket open does not make it an error.
        if (now - s.wait_since > 1000000) Finish(s, now);
        break;
      default:
        if (now - s.wait_since > timeout_us_) Error(s, std::string("timeout_") + StName(s.st), now);
    }
  }
}

// End of the run: count who is still alive, then close everything. In-flight
// operations are aborted, not counted as errors (they are reported apart).
void Worker::StopAll(uint64_t now) {
  stopping_ = true;
  for (auto& s : sessions_) {
    if (s.st == St::kFree) continue;
    if (s.st == St::kHold || s.st == St::kNoop || s.st == St::kFlood) {
      tally.alive_at_end++;
    } else {
      tally.aborted++;
      tally.aborted_by_state[StName(s.st)]++;
    }
    EndSession(s, now, 0);
  }
  pending_.clear();
  setup_queue_.clear();
}

}  // namespace muxftpd::ftpload
