// The worker's loop, as DESIGN.md draws it: epoll_wait, dispatch each ready
// fd, run the queued actions, move one block per active transfer, flush the
// replies and hand the events to JS (one batch per run of busy turns:
// batch_hold.h). Each concern the loop calls into has a
// file of its own: worker_control.cc (control connections), worker_data.cc
// (data connections), worker_transfers.cc (transfers), worker_jobs.cc (work
// handed to the FileJobs thread), worker_linger.cc (closing sessions),
// worker_files.cc (file operations on the FileOps threads).
#include "worker.h"

#include <algorithm>
#include <cassert>
#include <cerrno>

#include "client_ledger.h"
#include "file_jobs.h"
#include "wire.h"

namespace muxftpd {

namespace {

constexpr int kMaxEvents = 1024;
constexpr int kHandoffsPerLoop = 256;

}  // namespace

Worker::Worker(int index, const EngineConfig& config, DirRef root, EventSink* sink, FileJobs* file_jobs,
               FileOps* file_ops, ClientLedger* ledger, TlsContext* tls)
    : index_(index),
      config_(config),
      root_(std::move(root)),
      sink_(sink),
      file_jobs_(file_jobs),
      file_ops_(file_ops),
      ledger_(ledger),
      tls_(tls),
      batch_(std::make_unique<EventBatch>()),
      scratch_size_(std::max(config.block_size, kControlReadSize)),
      // At least one block, so one read never spans more than one window.
      upload_window_(config.write_behind > 0 ? std::max<uint64_t>(config.write_behind, config.block_size) : 0) {}

Worker::~Worker() { Stop(); }

int Worker::Init() {
  int fd = sys::EpollCreate();
  if (fd < 0) return fd;
  epoll_.Reset(fd);
  int r = wake_.Open();
  if (r < 0) return r;
  int pair[2];
  r = sys::SeqPacketPair(pair);
  if (r < 0) return r;
  handoff_out_.Reset(pair[0]);
  handoff_in_.Reset(pair[1]);
  if ((r = sys::EpollAdd(epoll_.Get(), wake_.Fd(), EPOLLIN, &wake_handle_)) < 0) return r;
  if ((r = sys::EpollAdd(epoll_.Get(), handoff_out_.Get(), EPOLLIN, &handoff_handle_)) < 0) return r;
  queue_ = std::make_unique<ActionQueue>(wake_);
  if (config_.pasv_min != 0) {
    pool_ = std::make_unique<PassivePool>(config_.host, config_.pasv_min, config_.pasv_max, index_,
                                          config_.threads);
  }
  now_ms_ = sys::NowMs();
  if (config_.max_rate != 0) {
    worker_bucket_ = TokenBucket(std::max<uint64_t>(config_.max_rate / config_.threads, 1), now_ms_);
  }
  // Allocated up front, once per worker: read+write copies and uploads share it.
  scratch_ = std::make_unique<char[]>(scratch_size_);
  return 0;
}

void Worker::Start() { thread_ = std::thread([this] { Run(); }); }

void Worker::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  wake_.SignalAlways();
  thread_.join();
}

void Worker::BatchConsumed() {
  // Wake the loop when this consumption lifts the pause on control reads
  // (rare, and not among what the pre-sleep check looks at: always written).
  if (inflight_.fetch_sub(1) == kMaxInflight) wake_.SignalAlways();
}

WorkerLoopStats Worker::LoopStats() const {
  WorkerLoopStats s;
  s.iterations = iterations_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.events = batch_events_.load(std::memory_order_relaxed);
  return s;
}

void Worker::AddTlsStats(TlsStats* out) const {
  const TlsCounters& c = tls_counters_;
  out->control_handshakes += c.control_handshakes.load(std::memory_order_relaxed);
  out->control_switched += c.control_switched.load(std::memory_order_relaxed);
  out->control_failures += c.control_failures.load(std::memory_order_relaxed);
  out->implicit_failures += c.implicit_failures.load(std::memory_order_relaxed);
  out->data_handshakes += c.data_handshakes.load(std::memory_order_relaxed);
  out->data_failures += c.data_failures.load(std::memory_order_relaxed);
  out->data_not_resumed += c.data_not_resumed.load(std::memory_order_relaxed);
  out->ktls_transfers += c.ktls_transfers.load(std::memory_order_relaxed);
}

// Sessions closed this iteration are freed here. Once a second at most after
// frees, malloc is told to hand free memory back: after a burst of clients
// (or a flood one of them sent) the process shrinks back instead of keeping
// its peak in per-thread arenas.
void Worker::ReleaseClosedSessions() {
  if (graveyard_.empty()) return;
  graveyard_.clear();
  if (now_ms_ < next_trim_ms_) return;
  next_trim_ms_ = now_ms_ + kTrimIntervalMs;
  sys::ReleaseFreeMemory();
}

void Worker::Run() {
  sys::NameThisThread(("muxftpd-w" + std::to_string(index_)).c_str());
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_relaxed)) {
    // Events held for JS (batch_hold.h): look for more, but do not sleep on them.
    int timeout = batch_->empty() ? WaitTimeoutMs() : 0;
    // Posters write the eventfd only while the flag is up, so the queues are
    // looked at once more after raising it (wakeup.h says why that loses no
    // wake-up). A worker that will not block leaves it down.
    const bool may_sleep = timeout != 0;
    if (may_sleep) {
      wake_.AboutToSleep();
      if (HasQueuedWork()) timeout = 0;
    }
    int n = sys::EpollWait(epoll_.Get(), events, kMaxEvents, timeout);
    if (may_sleep) wake_.Awake();
    if (n < 0) {
      // Not a client's doing: this loop cannot go on, and a server serving
      // half its clients is worse than one that stops (redis panics too).
      // Said before the thread ends, so JS can report it and stop.
      Event& e = Emit(EventType::kLoopFailed, 0);
      e.error = n;
      e.text = "worker " + std::to_string(index_);
      FlushEvents();
      break;
    }
    Bump(iterations_, 1);
    now_ms_ = sys::NowMs();
    // Before this turn's replies are queued: a held part whose pause ended
    // goes out in a later write than the part before it, even with no pause.
    ReleaseHeld();
    handshakes_left_ = kHandshakesPerLoop;
    ReadPendingTls();
    for (int i = 0; i < n; ++i) Dispatch(events[i]);
    RunQueued();
    WakeParked();
    ExpireDataConnections();
    ExpireHandshakes();
    StepTransfers();
    FlushOutputs();
    ExpireLingering();  // after the flush, which may have sent what a reader made room for
    if (!batch_->empty() && hold_.Deliver(n, BatchHold::Clock::now())) FlushEvents();
    ReleaseClosedSessions();
  }
  // What a held batch had (its last turns' events) goes as it would have.
  if (!batch_->empty()) FlushEvents();
  CloseAll();
}

void Worker::Dispatch(const epoll_event& ev) {
  auto* h = static_cast<IoHandle*>(ev.data.ptr);
  // An fd closed earlier in this iteration may still have an event in the
  // array: its session is gone but not yet freed (nginx's stale-event rule).
  if (h->session && h->session->IsGone()) return;
  switch (h->kind) {
    case IoHandle::Kind::kInternal: OnHandoff(); break;
    case IoHandle::Kind::kWake: OnWake(); break;
    case IoHandle::Kind::kControl: OnControl(h->session, ev.events); break;
    case IoHandle::Kind::kListener: OnListener(h->session); break;
    case IoHandle::Kind::kData: OnData(h->session, ev.events); break;
    case IoHandle::Kind::kPoolListener: OnPoolListener(h->pool_port); break;
  }
}

void Worker::OnHandoff() {
  for (int i = 0; i < kHandoffsPerLoop; ++i) {
    Handoff msg;
    ssize_t n = sys::Read(handoff_out_.Get(), &msg, sizeof msg);
    if (n != static_cast<ssize_t>(sizeof msg)) return;
    UniqueFd fd(msg.fd);
    SockAddr local;
    if (sys::LocalAddress(fd.Get(), &local) < 0) {
      Departed(msg.peer);
      continue;
    }
    auto session = std::make_unique<Session>(msg.sid, std::move(fd), msg.peer, local, config_.max_line);
    session->dir = root_;
    Session* s = session.get();
    s->control_events = EPOLLIN;
    if (sys::EpollAdd(epoll_.Get(), s->control.Get(), EPOLLIN, &s->control_handle) < 0) {
      Departed(msg.peer);
      continue;
    }
    sessions_.emplace(msg.sid, std::move(session));
    if (msg.implicit_tls && tls_ != nullptr) {
      BeginImplicitTls(s);  // announced once its handshake is done
    } else {
      Announce(s);
    }
  }
}

void Worker::OnWake() { wake_.Drain(); }

// Every iteration, woken or not: a post to an awake worker writes no eventfd.
void Worker::RunQueued() {
  action_bytes_.clear();
  queue_->TakeAll(&action_bytes_);
  if (!action_bytes_.empty()) {
    // Checked by the poster (EngineWrap::Post); decoded here, so the strings are this thread's.
    DecodeCheckedActions(action_bytes_.data(), action_bytes_.size(), &actions_);
    for (auto& a : actions_) Apply(a);
    TrimReused();
  }
  ApplyJobResults();
  ApplyFileResults();
  ResumeReads();
}

// The buffers reused turn to turn keep their capacity, except what one huge
// action left (a long STAT reply, a big listing's bytes): that goes back.
void Worker::TrimReused() {
  constexpr size_t kKeep = 64 * 1024;
  if (action_bytes_.capacity() > kKeep) std::vector<char>().swap(action_bytes_);
  for (Action& a : actions_) {
    if (a.data.capacity() > kKeep) std::string().swap(a.data);
  }
}

void Worker::Apply(Action& a) {
  Session* s = Find(a.sid);
  if (s == nullptr || !s->IsOpen()) {
    // Answer every request that carries a seq, so no JS promise waits forever.
    if (a.type == ActionType::kListenPassive) {
      Event& e = Emit(EventType::kPassiveReady, a.sid);
      e.seq = a.seq;
      e.error = -ECONNRESET;
    } else if (a.type == ActionType::kSendFile || a.type == ActionType::kSendBuffer ||
               a.type == ActionType::kRecvFile) {
      EmitTransferDone(a.sid, a.seq, 0, static_cast<int32_t>(TransferError::kAborted));
    } else if (a.type == ActionType::kFileOp) {
      Event& e = Emit(EventType::kFileDone, a.sid);
      e.seq = a.seq;
      e.error = -ECONNRESET;
    } else if (a.type == ActionType::kOpenData) {
      EmitDataFailed(a.sid, a.seq, -ECONNRESET);
    }
    return;
  }
  switch (a.type) {
    case ActionType::kReply:
      Queue(s, a.data, (a.flags & static_cast<uint8_t>(ActionFlag::kSplitReply)) != 0);
      break;
    case ActionType::kListenPassive: ListenPassive(s, a); break;
    case ActionType::kConnectActive: SetActiveTarget(s, a.data, static_cast<uint16_t>(a.port)); break;
    case ActionType::kSendFile:
    case ActionType::kSendBuffer:
    case ActionType::kRecvFile: BeginTransfer(s, a); break;
    case ActionType::kAbort: DropData(s); break;
    case ActionType::kClose:
      // Mid-handshake (or mid-CCC) no reply can go out: close at once.
      if (s->control_tls_state == ControlTls::kHandshake || s->control_tls_state == ControlTls::kShutdown) {
        CloseSession(s, CloseReason::kRequested);
        break;
      }
      s->out.append(s->held);  // a closing session's last replies wait for no pause
      s->held.clear();
      DropData(s);
      s->BeginClose();
      MarkDirty(s);
      break;
    case ActionType::kFileOp: SubmitFileOp(s, a); break;
    case ActionType::kOpenData: OpenData(s, a.seq); break;
    case ActionType::kPauseInput:
    case ActionType::kResumeInput:
      s->input_paused = a.type == ActionType::kPauseInput;
      SetControlEvents(s);
      break;
    case ActionType::kStartTls: StartTls(s); break;
    case ActionType::kClearControl: ClearControl(s); break;
    case ActionType::kDataProtection:
      s->protect_data = a.protection == DataProtection::kPrivate;
      break;
  }
}

bool Worker::HasQueuedWork() {
  return queue_->HasPending() || job_results_.HasPending() || files_done_.HasPending();
}

int Worker::WaitTimeoutMs() const {
  // Active transfers must move every loop, so only an idle worker sleeps.
  if (!active_.empty() || !tls_pending_.empty()) return 0;
  uint64_t wake = UINT64_MAX;
  for (const Session* s : parked_) wake = std::min(wake, s->parked_until_ms);
  if (data_sessions_ && config_.data_timeout_ms != 0) wake = std::min(wake, next_expiry_ms_);
  if (!lingering_.empty()) wake = std::min(wake, next_linger_ms_);
  for (SessionId sid : held_) {
    auto it = sessions_.find(sid);
    if (it != sessions_.end()) wake = std::min(wake, it->second->held_until_ms);
  }
  if (!handshaking_.empty()) wake = std::min(wake, next_handshake_sweep_ms_);
  if (wake == UINT64_MAX) return -1;
  uint64_t now = sys::NowMs();
  return wake <= now ? 0 : static_cast<int>(std::min<uint64_t>(wake - now, 60000));
}

void Worker::FlushEvents() {
  if (superseded_ > 0) {
    std::erase_if(*batch_, [](const Event& e) { return e.superseded; });
    superseded_ = 0;
  }
  if (batch_->empty()) return;
  Bump(batches_, 1);
  Bump(batch_events_, batch_->size());
  inflight_.fetch_add(1);
  sink_->Deliver(index_, std::move(batch_));
  batch_ = std::make_unique<EventBatch>();
}

void Worker::CloseAll() {
  while (!sessions_.empty()) CloseSession(sessions_.begin()->second.get(), CloseReason::kShutdown);
  graveyard_.clear();
  active_.clear();
  dirty_.clear();
  // Connections handed off but never opened are closed unseen.
  Handoff msg;
  while (sys::Read(handoff_out_.Get(), &msg, sizeof msg) == static_cast<ssize_t>(sizeof msg)) {
    sys::Close(msg.fd);
    Departed(msg.peer);
  }
}

void Worker::Departed(const SockAddr& peer) {
  ledger_->Release(peer);
  clients.fetch_sub(1);
}

Event& Worker::Emit(EventType type, SessionId sid) {
  Event& e = batch_->emplace_back();
  e.type = type;
  e.sid = sid;
  return e;
}

Session* Worker::Find(SessionId sid) {
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second.get();
}

}  // namespace muxftpd
