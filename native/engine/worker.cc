#include "worker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>

#include "file_jobs.h"

namespace muxftpd {

namespace {

constexpr int kMaxEvents = 1024;
constexpr size_t kControlReadSize = 16 * 1024;
constexpr int kHandoffsPerLoop = 256;
constexpr uint64_t kExpirySweepMs = 1000;

bool IsPeerGone(ssize_t err) { return err == -ECONNRESET || err == -EPIPE; }

// What a closing session still owes its client: unsent output, ours and the
// kernel's (unacknowledged).
uint64_t Owed(const Session* s) {
  int64_t unacked = sys::UnackedBytes(s->control.Get());
  return s->Unsent() + static_cast<uint64_t>(std::max<int64_t>(unacked, 0));
}

// Adds to a counter this thread alone writes: a plain load and store, which
// costs what a non-atomic add does, where fetch_add would be a locked add.
void Bump(std::atomic<uint64_t>& counter, uint64_t by) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

Worker::Worker(int index, const EngineConfig& config, DirRef root, EventSink* sink, FileJobs* file_jobs,
               FileOps* file_ops)
    : index_(index),
      config_(config),
      root_(std::move(root)),
      sink_(sink),
      file_jobs_(file_jobs),
      file_ops_(file_ops),
      batch_(std::make_unique<EventBatch>()),
      scratch_size_(std::max(config.block_size, kControlReadSize)),
      // At least one block, so one read never spans more than one window.
      upload_window_(config.write_behind > 0 ? std::max<uint64_t>(config.write_behind, config.block_size) : 0) {}

Worker::~Worker() { Stop(); }

int Worker::Init() {
  int fd = sys::EpollCreate();
  if (fd < 0) return fd;
  epoll_.Reset(fd);
  fd = sys::EventFd();
  if (fd < 0) return fd;
  wake_.Reset(fd);
  int pair[2];
  int r = sys::SeqPacketPair(pair);
  if (r < 0) return r;
  handoff_out_.Reset(pair[0]);
  handoff_in_.Reset(pair[1]);
  if ((r = sys::EpollAdd(epoll_.Get(), wake_.Get(), EPOLLIN, &wake_handle_)) < 0) return r;
  if ((r = sys::EpollAdd(epoll_.Get(), handoff_out_.Get(), EPOLLIN, &handoff_handle_)) < 0) return r;
  queue_ = std::make_unique<ActionQueue>(wake_.Get());
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
  sys::EventFdSignal(wake_.Get());
  thread_.join();
}

void Worker::BatchConsumed() {
  // Wake the loop when this consumption lifts the pause on control reads.
  if (inflight_.fetch_sub(1) == kMaxInflight) sys::EventFdSignal(wake_.Get());
}

WorkerLoopStats Worker::LoopStats() const {
  WorkerLoopStats s;
  s.iterations = iterations_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.events = batch_events_.load(std::memory_order_relaxed);
  return s;
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
    int n = sys::EpollWait(epoll_.Get(), events, kMaxEvents, WaitTimeoutMs());
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
    for (int i = 0; i < n; ++i) Dispatch(events[i]);
    WakeParked();
    ExpireDataConnections();
    StepTransfers();
    FlushOutputs();
    ExpireLingering();  // after the flush, which may have sent what a reader made room for
    FlushEvents();
    ReleaseClosedSessions();
  }
  CloseAll();
}

void Worker::Dispatch(const epoll_event& ev) {
  auto* h = static_cast<IoHandle*>(ev.data.ptr);
  // An fd closed earlier in this iteration may still have an event in the
  // array: its session is dead but not yet freed (nginx's stale-event rule).
  if (h->session && h->session->dead) return;
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
      clients.fetch_sub(1);
      continue;
    }
    auto session = std::make_unique<Session>(msg.sid, std::move(fd), msg.peer, local, config_.max_line);
    session->dir = root_;
    Session* s = session.get();
    s->control_events = EPOLLIN;
    if (sys::EpollAdd(epoll_.Get(), s->control.Get(), EPOLLIN, &s->control_handle) < 0) {
      clients.fetch_sub(1);
      continue;
    }
    sessions_.emplace(msg.sid, std::move(session));
    Event& e = Emit(EventType::kOpen, s->sid);
    e.text = s->peer.HostString();
    e.port = s->peer.Port();
    e.local = s->local.HostString();
    e.local_port = s->local.Port();
  }
}

void Worker::OnWake() {
  sys::EventFdDrain(wake_.Get());
  actions_.clear();
  queue_->TakeAll(&actions_);
  for (auto& a : actions_) Apply(a);
  ApplyJobResults();
  ApplyFileResults();
  ResumeReads();
}

void Worker::OnControl(Session* s, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) {
    CloseSession(s, CloseReason::kPeerClosed);
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
  ssize_t n = sys::Read(s->control.Get(), scratch_.get(), kControlReadSize);
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
    if (s->closing) return;
    Event& e = Emit(EventType::kLine, s->sid);
    e.text.assign(line);
    e.too_long = too_long;
  });
}

void Worker::OnListener(Session* s) {
  while (s->listener.Valid()) {
    SockAddr peer;
    int fd = sys::Accept(s->listener.Get(), &peer);
    if (fd < 0) return;  // EAGAIN, or an error that a later connection may not repeat
    UniqueFd conn(fd);
    // Only the control connection's own host may take the data connection:
    // anything else is a port thief and is dropped, and the listener waits on.
    if (!peer.SameHost(s->peer)) continue;
    sys::EpollDel(epoll_.Get(), s->listener.Get());
    s->listener.Reset();
    AttachData(s, std::move(conn));
  }
}

void Worker::OnPoolListener(PassivePort* port) {
  while (true) {
    SockAddr peer;
    int fd = sys::Accept(port->fd.Get(), &peer);
    if (fd < 0) return;
    UniqueFd conn(fd);
    // Unclaimed connections (thieves, clients that gave up) are dropped.
    Session* s = pool_->Claim(port, peer);
    if (s != nullptr && !s->dead) AttachData(s, std::move(conn));
  }
}

void Worker::AttachData(Session* s, UniqueFd conn) {
  s->data = std::move(conn);
  s->data_state = DataState::kConnected;
  TouchData(s);
  StartTransferIfReady(s);
}

void Worker::OnData(Session* s, uint32_t events) {
  if (s->data_state == DataState::kConnecting) {
    int err = sys::SocketError(s->data.Get());
    if (err == 0 && !(events & (EPOLLERR | EPOLLHUP))) {
      s->data_state = DataState::kConnected;
      (void)SetDataEvents(s, 0);
      StartTransferIfReady(s);
      return;
    }
    Emit(EventType::kDataFailed, s->sid).error = err != 0 ? err : -ECONNREFUSED;
    if (s->transfer) FinishTransfer(s, static_cast<int32_t>(TransferError::kConnectFailed));
    DropData(s);
    return;
  }
  if (s->data_state != DataState::kConnected) return;  // a stale event for a closed fd
  if (s->transfer) {
    Activate(s);
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    // The client gave up on an active-mode connection nobody used (one an
    // upload made before its file failed to open; a passive one is not
    // watched before a transfer needs it: --data-timeout reaps it).
    DropData(s);
  }
}

void Worker::Apply(Action& a) {
  Session* s = Find(a.sid);
  if (s == nullptr || s->closing) {
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
    }
    return;
  }
  switch (a.type) {
    case ActionType::kReply:
      Queue(s, a.data);
      break;
    case ActionType::kListenPassive: ListenPassive(s, a); break;
    case ActionType::kConnectActive: SetActiveTarget(s, a.data, static_cast<uint16_t>(a.port)); break;
    case ActionType::kSendFile:
    case ActionType::kSendBuffer:
    case ActionType::kRecvFile: BeginTransfer(s, a); break;
    case ActionType::kAbort: DropData(s); break;
    case ActionType::kClose:
      DropData(s);
      s->closing = true;
      MarkDirty(s);
      break;
    case ActionType::kFileOp: SubmitFileOp(s, a); break;
    case ActionType::kPauseInput:
    case ActionType::kResumeInput:
      s->input_paused = a.type == ActionType::kPauseInput;
      SetControlEvents(s);
      break;
  }
}

void Worker::ListenPassive(Session* s, const Action& a) {
  DropData(s);
  int r = pool_ ? pool_->Reserve(s, epoll_.Get()) : OpenOwnListener(s);
  if (r >= 0) {
    s->data_state = DataState::kListening;
    TouchData(s);
    data_sessions_ = true;
    if (!a.preamble.empty()) {
      Queue(s, FillPassivePort(a.preamble, static_cast<uint16_t>(r)));
    }
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
  if (!SockAddr::Parse(host, port, &s->active_target)) {
    Emit(EventType::kDataFailed, s->sid).error = -EINVAL;
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
    sys::Bind(fd, from);
  }
  int r = sys::Connect(fd, target);
  if (r != 0 && r != -EINPROGRESS) return r;
  s->data = std::move(conn);
  s->data_state = r == 0 ? DataState::kConnected : DataState::kConnecting;
  TouchData(s);
  data_sessions_ = true;
  return r == 0 ? 0 : SetDataEvents(s, EPOLLOUT);
}

// Connects a transfer's active target: false when that failed at once (the
// transfer is then answered ConnectFailed and the setup is spent).
bool Worker::ConnectForTransfer(Session* s, uint32_t seq) {
  if (s->data_state != DataState::kActiveSet) return true;
  int r = ConnectActive(s);
  if (r == 0) return true;
  Emit(EventType::kDataFailed, s->sid).error = r;
  ResetData(s);
  EmitTransferDone(s->sid, seq, 0, static_cast<int32_t>(TransferError::kConnectFailed));
  return false;
}

int Worker::OpenForTransfer(Session* s, Action& a, Transfer* t) {
  if (a.type == ActionType::kSendBuffer) {
    t->buffer = std::move(a.data);
    t->end = t->buffer.size();
    return 0;
  }
  // O_NONBLOCK: opening a FIFO (or a device) must never block the loop; such
  // a file is refused below as not regular (or fails at once with ENXIO), as
  // vsftpd does (open, then fstat).
  // O_NOCTTY: a tty under the root never becomes this process's terminal.
  bool upload = a.type == ActionType::kRecvFile;
  if (upload && a.mode == WriteMode::kReplace) return OpenReplacement(s, a, t);
  int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
  if (upload) {
    flags = O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY;
    if (a.mode == WriteMode::kAppend) flags |= O_APPEND;
    if (a.mode == WriteMode::kExclusive) flags |= O_EXCL;
  }
  // Beneath the session's directory: its account's home, else the root.
  int fd = sys::OpenBeneath(s->dir->Get(), a.data, flags, 0644);
  if (fd < 0) return fd;
  t->file.Reset(fd);
  // Locked at once, before the size is read and before anything is written or
  // emptied (a STOR's truncation waits for its data connection, and runs on
  // the FileJobs thread): a RETR that opens meanwhile meets the lock. Never
  // waits (vsftpd's lock_upload_files blocks, which would stall the worker):
  // a conflict is -EAGAIN, before the preamble, which JS answers with 450.
  int r = sys::LockFile(fd, upload);
  if (r < 0) return r;
  uint64_t size = 0;
  bool regular = false;
  r = sys::FileSize(fd, &size, &regular);
  if (r < 0) return r;
  if (!regular) return -EISDIR;
  t->end = size;
  // A STOR empties the file it replaces, but leaves an empty one (a new file,
  // the common case) alone: on ext4 an ftruncate to 0, even of an empty file,
  // marks it for auto_da_alloc, and its close() then writes the whole upload
  // out (filemap_flush). Replacing a file that has bytes pays that, as ext4
  // means it to (the old contents must not be lost to a crash), but on the
  // FileJobs thread, with the truncation: see TruncateOffThread.
  t->truncate_when_connected =
      upload && a.mode == WriteMode::kTruncate && a.offset == 0 && size > 0;
  if (a.type == ActionType::kSendFile) {
    t->offset = std::min(a.offset, size);
  } else {
    // O_APPEND writes land at the end whatever offset pwrite names.
    t->StartRecv(a.mode == WriteMode::kAppend ? size : a.offset, upload_window_);
  }
  return 0;
}

// --atomic-uploads: the upload goes to a new file beside its target, created
// exclusively under a random hidden name beneath the target's directory, which
// stays open (dir) so the rename at the end happens in that same directory
// whatever is renamed or swapped above it meanwhile. The target itself is
// not opened nor locked: readers keep the old file whole until the rename.
// Why not O_TMPFILE and linkat: a linkat cannot replace a name (the rename is
// needed anyway); linking the fd needs CAP_DAC_READ_SEARCH for AT_EMPTY_PATH
// (before Linux 6.10) or /proc/self/fd, a magic link, which the rest of the
// engine refuses to follow (RESOLVE_NO_MAGICLINKS); and some file systems
// lack O_TMPFILE. What a named temporary costs: a crash leaves it behind.
int Worker::OpenReplacement(Session* s, Action& a, Transfer* t) {
  if (a.offset != 0) return -EINVAL;  // a REST+STOR writes in place (JS decides)
  size_t slash = a.data.rfind('/');
  std::string parent = slash == std::string::npos ? "" : a.data.substr(0, slash);
  std::string name = slash == std::string::npos ? a.data : a.data.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return -EISDIR;
  int fd = sys::OpenBeneath(s->dir->Get(), parent, O_PATH | O_DIRECTORY, 0);
  if (fd < 0) return fd;
  t->dir.Reset(fd);
  // As a STOR in place does, refuse what is not a file before the upload
  // rather than at its end; a symlink is replaced, not followed (rename).
  sys::FileStat st;
  int r = sys::StatAt(fd, name.c_str(), &st);
  if (r < 0 && r != -ENOENT) return r;
  if (r == 0 && !S_ISREG(st.mode) && !S_ISLNK(st.mode)) return S_ISDIR(st.mode) ? -EISDIR : -ENXIO;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int attempt = 0;; ++attempt) {
    unsigned char random[8];
    r = sys::RandomBytes(random, sizeof random);
    if (r < 0) return r;
    std::string temp = kUploadTempPrefix;
    for (unsigned char c : random) {
      temp += kHex[c >> 4];
      temp += kHex[c & 15];
    }
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_NOCTTY;
    fd = sys::OpenBeneath(t->dir.Get(), temp, flags, 0644);
    if (fd == -EEXIST && attempt < 3) continue;  // 64 random bits: a clash is all but impossible
    if (fd < 0) return fd;
    t->file.Reset(fd);
    t->temp = std::move(temp);
    t->name = std::move(name);
    t->StartRecv(0, upload_window_);
    return 0;
  }
}

void Worker::BeginTransfer(Session* s, Action& a) {
  if (s->transfer) {
    EmitTransferDone(s->sid, a.seq, 0, -EBUSY);
    return;
  }
  if (s->data_state == DataState::kNone) {
    EmitTransferDone(s->sid, a.seq, 0, static_cast<int32_t>(TransferError::kNoDataConnection));
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->kind = a.type == ActionType::kSendFile     ? TransferKind::kSendFile
            : a.type == ActionType::kSendBuffer ? TransferKind::kSendBuffer
                                                : TransferKind::kRecvFile;
  t->seq = a.seq;
  t->epilogue = std::move(a.epilogue);
  t->bucket = TokenBucket(config_.max_rate_per_client, now_ms_);
  // Active mode: a download connects once its file is open, so a RETR of a
  // missing file gets its 550 with no connection made; an upload connects
  // first, so a data connection that cannot be made never leaves a file
  // truncated or created (STOR, STOU).
  bool upload = a.type == ActionType::kRecvFile;
  if (upload && !ConnectForTransfer(s, a.seq)) return;
  int r = OpenForTransfer(s, a, t.get());
  if (r < 0) {
    // A file that does not open leaves the data setup for the next transfer
    // (the target, the client's connection): RFC 959 answers with the 550
    // alone, and vsftpd and pyftpdlib keep it too.
    EmitTransferDone(s->sid, a.seq, 0, r);
    return;
  }
  if (!upload && !ConnectForTransfer(s, a.seq)) return;
  if (!a.preamble.empty()) {
    Queue(s, a.preamble);
  }
  Emit(EventType::kTransferStarted, s->sid).seq = a.seq;
  s->transfer = std::move(t);
  TouchData(s);
  StartTransferIfReady(s);
}

void Worker::StartTransferIfReady(Session* s) {
  if (s->transfer && s->data_state == DataState::kConnected) {
    Transfer& t = *s->transfer;
    if (t.truncate_when_connected) {
      TruncateOffThread(s);
      return;
    }
    if (!t.Sending() && !WatchData(s, EPOLLIN)) return;
    Activate(s);
  }
}

// The job owns a duplicate of the file's fd: a session that closes meanwhile
// frees its Transfer at once, and the result then finds none and is dropped.
void Worker::TruncateOffThread(Session* s) {
  Transfer& t = *s->transfer;
  t.truncate_when_connected = false;
  int fd = sys::Dup(t.file.Get());
  if (fd < 0) {
    FinishTransfer(s, fd);
    return;
  }
  t.replaced = true;
  t.in_job = true;
  // Unwatched meanwhile: a hang-up, reported even with no events asked, would
  // fire every loop (level-triggered). StartTransferIfReady watches it again.
  UnwatchData(s);
  file_jobs_->Truncate(UniqueFd(fd), JobDone(s));
}

// A kReplace upload that ended well: the rename over its target is a FileJobs
// job (see file_jobs.h), and the transfer ends, its 226 included, only once the
// file is in place. A rename that fails removes the temporary.
void Worker::PlaceUpload(Session* s) {
  Transfer& t = *s->transfer;
  t.file.Reset();  // a new file, never truncated: its close does not wait for the disk
  t.in_job = true;
  t.ended = true;
  t.error = 0;
  file_jobs_->Run(
      std::move(t.dir),
      [temp = std::move(t.temp), name = t.name](int dir) {
        int r = sys::RenameAt(dir, temp.c_str(), dir, name.c_str());
        if (r < 0) static_cast<void>(sys::UnlinkAt(dir, temp.c_str(), false));
        return r;
      },
      JobDone(s));
  t.temp.clear();
}

// A kReplace upload that did not end well: its temporary goes, the target is
// untouched. Closed first, so that the unlink, on the FileJobs thread, is the
// last reference and frees the blocks there.
void Worker::DiscardUpload(Transfer& t) {
  t.file.Reset();
  file_jobs_->Run(
      std::move(t.dir),
      [temp = std::move(t.temp)](int dir) { return sys::UnlinkAt(dir, temp.c_str(), false); },
      [](int) {});
  t.temp.clear();
}

std::function<void(int)> Worker::JobDone(Session* s) {
  return [this, sid = s->sid, seq = s->transfer->seq](int result) {
    {
      std::lock_guard<std::mutex> lock(job_results_mu_);
      job_results_.push_back(JobResult{sid, seq, result});
    }
    sys::EventFdSignal(wake_.Get());
  };
}

void Worker::ApplyJobResults() {
  {
    std::lock_guard<std::mutex> lock(job_results_mu_);
    if (job_results_.empty()) return;
    job_results_taken_.swap(job_results_);
  }
  for (const JobResult& done : job_results_taken_) {
    Session* s = Find(done.sid);
    if (s == nullptr || !s->transfer || s->transfer->seq != done.seq || !s->transfer->in_job) {
      continue;
    }
    Transfer& t = *s->transfer;
    t.in_job = false;
    if (t.ended) {
      // Its data connection is gone already (and may be a new one's by now).
      EndTransfer(s, t.error != 0 ? t.error : done.result);
    } else if (done.result < 0) {
      FinishTransfer(s, done.result);
    } else {
      TouchData(s);  // the wait was ours, not the client's
      StartTransferIfReady(s);
    }
  }
  job_results_taken_.clear();
}

void Worker::Activate(Session* s) {
  if (s->in_active || s->parked || s->transfer->in_job) return;
  s->in_active = true;
  active_.push_back(s);
  if (s->transfer->Sending()) (void)SetDataEvents(s, 0);
}

void Worker::Deactivate(Session* s) {
  if (!s->in_active) return;
  s->in_active = false;
  auto it = std::find(active_.begin(), active_.end(), s);
  if (it != active_.end()) {
    *it = active_.back();
    active_.pop_back();
  }
}

void Worker::StepTransfers() {
  size_t keep = 0;
  // Iterate by index: FinishTransfer and Park below never add to active_.
  for (size_t i = 0; i < active_.size(); ++i) {
    Session* s = active_[i];
    Transfer* t = s->transfer.get();
    uint64_t allow = t->bucket.Allow(config_.block_size, now_ms_);
    allow = worker_bucket_.Allow(allow, now_ms_);
    if (allow == 0) {
      s->in_active = false;
      Park(s, std::max(t->bucket.WaitMs(config_.block_size), worker_bucket_.WaitMs(config_.block_size)));
      continue;
    }
    uint64_t before = t->bytes;
    StepResult r = t->Step(s->data.Get(), config_.copy_mode, allow, scratch_.get());
    if (t->bytes != before) {
      t->bucket.Spend(t->bytes - before);
      worker_bucket_.Spend(t->bytes - before);
      TouchData(s);
    }
    switch (r) {
      case StepResult::kMore:
        active_[keep++] = s;
        break;
      case StepResult::kBlocked:
        // Sending waits for EPOLLOUT; receiving is already watched for EPOLLIN.
        s->in_active = false;
        if (t->Sending()) WatchData(s, EPOLLOUT);
        break;
      case StepResult::kDone:
      case StepResult::kFailed:
        s->in_active = false;
        FinishTransfer(s, r == StepResult::kDone ? 0 : t->error);
        break;
    }
  }
  active_.resize(keep);
}

void Worker::Park(Session* s, uint64_t wait_ms) {
  s->parked = true;
  s->parked_until_ms = now_ms_ + std::max<uint64_t>(wait_ms, 1);
  parked_.push_back(s);
  // A parked upload must not keep firing EPOLLIN (level-triggered) meanwhile.
  (void)SetDataEvents(s, 0);
}

void Worker::Unpark(Session* s) {
  if (!s->parked) return;
  s->parked = false;
  auto it = std::find(parked_.begin(), parked_.end(), s);
  if (it != parked_.end()) {
    *it = parked_.back();
    parked_.pop_back();
  }
}

void Worker::WakeParked() {
  for (size_t i = 0; i < parked_.size();) {
    Session* s = parked_[i];
    if (s->parked_until_ms > now_ms_) {
      ++i;
      continue;
    }
    s->parked = false;
    parked_[i] = parked_.back();
    parked_.pop_back();
    if (!s->transfer->Sending() && !WatchData(s, EPOLLIN)) continue;
    Activate(s);
  }
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

// A closing session waits for its client to read the last replies, but not
// for ever: JS has already let it go (no idle timeout reaches it), and a
// client that never reads would otherwise keep its fd, its slot and its
// address's --max-per-ip count. The deadline moves while the client takes
// bytes, so a slow reader is not cut off: nothing is appended to a closing
// session's output, so what it still owes (our buffer plus the kernel's
// unacknowledged queue) only shrinks when the client reads.
void Worker::Linger(Session* s) {
  if (config_.close_timeout_ms == 0 || s->lingering) return;
  s->lingering = true;
  if (lingering_.empty()) next_linger_ms_ = now_ms_ + std::min(kExpirySweepMs, config_.close_timeout_ms);
  lingering_.push_back({s->sid, now_ms_ + config_.close_timeout_ms, Owed(s)});
}

void Worker::ExpireLingering() {
  if (lingering_.empty() || now_ms_ < next_linger_ms_) return;
  next_linger_ms_ = now_ms_ + std::min(kExpirySweepMs, config_.close_timeout_ms);
  size_t kept = 0;
  for (Lingering l : lingering_) {
    Session* s = Find(l.sid);
    if (s == nullptr) continue;  // flushed and closed meanwhile, or gone
    if (now_ms_ >= l.deadline_ms) {
      uint64_t owed = Owed(s);
      if (owed >= l.owed) {
        CloseSession(s, CloseReason::kCloseTimeout);
        continue;
      }
      l = {l.sid, now_ms_ + config_.close_timeout_ms, owed};
    }
    lingering_[kept++] = l;
  }
  lingering_.resize(kept);
}

int Worker::WaitTimeoutMs() const {
  // Active transfers must move every loop, so only an idle worker sleeps.
  if (!active_.empty()) return 0;
  uint64_t wake = UINT64_MAX;
  for (const Session* s : parked_) wake = std::min(wake, s->parked_until_ms);
  if (data_sessions_ && config_.data_timeout_ms != 0) wake = std::min(wake, next_expiry_ms_);
  if (!lingering_.empty()) wake = std::min(wake, next_linger_ms_);
  if (wake == UINT64_MAX) return -1;
  uint64_t now = sys::NowMs();
  return wake <= now ? 0 : static_cast<int>(std::min<uint64_t>(wake - now, 60000));
}

void Worker::FinishTransfer(Session* s, int32_t error) {
  Deactivate(s);
  Unpark(s);
  // Closing the data socket is what tells the client the file has ended.
  ResetData(s);
  if (!s->transfer) return;
  Transfer& t = *s->transfer;
  if (t.in_job) {
    // Aborted while its old file is still being emptied: it ends when that is
    // done (ApplyJobResults). Its 426 would let the client's next command (a
    // REST+STOR, an APPE) write into the file before the truncation wipes it.
    if (!t.ended) t.error = error;
    t.ended = true;
    return;
  }
  if (error == 0 && !t.temp.empty()) {
    PlaceUpload(s);
    return;
  }
  EndTransfer(s, error);
}

void Worker::EndTransfer(Session* s, int32_t error) {
  // The 226 leaves in this iteration's flush, after close(): a small file's
  // FIN has left with its data already; a large file's tail may still be on
  // its way, as RFC 959 allows. The client waits for no round trip through JS.
  Transfer& t = *s->transfer;
  if (error == 0 && !t.epilogue.empty()) Queue(s, t.epilogue);
  EmitTransferDone(s->sid, t.seq, t.bytes, error);
  if (!t.temp.empty()) DiscardUpload(t);
  if (t.replaced) {
    // The lock goes now rather than with the close, which may wait for the
    // disk on the FileJobs thread: a RETR right after this 226 must not meet
    // it. Not when the truncation still runs (job_left): its fd keeps the
    // lock until the file is empty, so no one reads it half-emptied.
    if (!t.job_left) static_cast<void>(sys::UnlockFile(t.file.Get()));
    file_jobs_->Close(std::move(t.file));
  }
  s->transfer.reset();
}

void Worker::DropData(Session* s) {
  if (s->transfer) {
    FinishTransfer(s, static_cast<int32_t>(TransferError::kAborted));
  } else {
    ResetData(s);
  }
}

void Worker::ResetData(Session* s) {
  // EpollDel before close, for the same reason as in CloseSession.
  UnwatchData(s);
  if (s->listener.Valid()) sys::EpollDel(epoll_.Get(), s->listener.Get());
  s->data.Reset();
  s->listener.Reset();
  if (pool_) pool_->Release(s);
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

void Worker::SetControlEvents(Session* s) {
  bool reading = !s->read_paused && !s->input_paused && !s->input_ended;
  uint32_t events = (reading ? uint32_t{EPOLLIN} : 0u) | (s->Unsent() > 0 ? uint32_t{EPOLLOUT} : 0u);
  if (events == s->control_events) return;
  s->control_events = events;
  sys::EpollMod(epoll_.Get(), s->control.Get(), events, &s->control_handle);
}

void Worker::Queue(Session* s, const std::string& reply) {
  s->Append(reply);
  MarkDirty(s);
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
    if (s->dead) continue;
    ssize_t left = s->Flush();
    if (left < 0) {
      CloseSession(s, IsPeerGone(left) ? CloseReason::kPeerClosed : CloseReason::kIoError);
    } else if (static_cast<size_t>(left) > config_.max_output) {
      CloseSession(s, CloseReason::kOutputOverflow);
    } else if (left == 0 && s->closing) {
      CloseSession(s, CloseReason::kRequested);
    } else {
      if (s->closing) Linger(s);
      SetControlEvents(s);
    }
  }
  dirty_.clear();
}

void Worker::FlushEvents() {
  if (batch_->empty()) return;
  Bump(batches_, 1);
  Bump(batch_events_, batch_->size());
  inflight_.fetch_add(1);
  sink_->Deliver(index_, std::move(batch_));
  batch_ = std::make_unique<EventBatch>();
}

void Worker::ResumeReads() {
  if (paused_.empty() || inflight_.load() >= kMaxInflight) return;
  for (SessionId sid : paused_) {
    Session* s = Find(sid);
    if (s == nullptr || s->dead) continue;
    s->read_paused = false;
    SetControlEvents(s);
  }
  paused_.clear();
}

void Worker::CloseSession(Session* s, CloseReason reason) {
  if (s->dead) return;
  // A session going away waits for no file job: its transfer ends now.
  if (s->transfer && s->transfer->in_job) {
    s->transfer->in_job = false;
    s->transfer->job_left = true;
  }
  DropData(s);
  // Remove before closing: a child forked by the embedding process may still
  // hold the fd for a moment, and then close() alone would leave it in the
  // epoll set, reporting events for a freed session.
  sys::EpollDel(epoll_.Get(), s->control.Get());
  s->control.Reset();
  s->dead = true;
  Emit(EventType::kClosed, s->sid).reason = reason;
  clients.fetch_sub(1);
  auto it = sessions_.find(s->sid);
  assert(it != sessions_.end());
  graveyard_.push_back(std::move(it->second));
  sessions_.erase(it);
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
    clients.fetch_sub(1);
  }
}

Event& Worker::Emit(EventType type, SessionId sid) {
  Event& e = batch_->emplace_back();
  e.type = type;
  e.sid = sid;
  return e;
}

void Worker::EmitTransferDone(SessionId sid, uint32_t seq, uint64_t bytes, int32_t error) {
  Event& e = Emit(EventType::kTransferDone, sid);
  e.seq = seq;
  e.bytes = bytes;
  e.error = error;
}

Session* Worker::Find(SessionId sid) {
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second.get();
}

}  // namespace muxftpd
