// Transfers: opening a transfer's file beneath the session's directory,
// starting it once its data connection is up, one block per active transfer
// per loop (round robin, throttled ones parked), and its end.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <cerrno>

#include "file_jobs.h"
#include "worker.h"

namespace muxftpd {

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
    // A data connection refused at its TLS handshake is this transfer's answer.
    int32_t error = s->data_setup_error != 0 ? s->data_setup_error
                                             : static_cast<int32_t>(TransferError::kNoDataConnection);
    s->data_setup_error = 0;
    EmitTransferDone(s->sid, a.seq, 0, error);
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
  t->started_index = batch_->size();
  Emit(EventType::kTransferStarted, s->sid).seq = a.seq;
  s->transfer = std::move(t);
  TouchData(s);
  StartTransferIfReady(s);
}

void Worker::StartTransferIfReady(Session* s) {
  if (s->transfer && s->DataReady()) {
    Transfer& t = *s->transfer;
    if (t.truncate_when_connected) {
      TruncateOffThread(s);
      return;
    }
    if (!t.Sending() && !WatchData(s, EPOLLIN)) return;
    Activate(s);
  }
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
    TlsChannel* tls = s->data_tls.get();
    StepResult r = tls ? t->StepTls(tls, allow, scratch_.get())
                       : t->Step(s->data.Get(), config_.copy_mode, allow, scratch_.get());
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
        if (tls) {
          WatchData(s, tls->want() == TlsWant::kWrite ? EPOLLOUT : EPOLLIN);
        } else if (t->Sending()) {
          WatchData(s, EPOLLOUT);
        }
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
  // Its own kTransferStarted is still in the batch (a seq is one transfer's,
  // and the batch only grows until it leaves).
  bool folded = t.started_index < batch_->size() && (*batch_)[t.started_index].type == EventType::kTransferStarted &&
                (*batch_)[t.started_index].seq == t.seq;
  if (folded) {
    (*batch_)[t.started_index].superseded = true;
    ++superseded_;
  }
  EmitTransferDone(s->sid, t.seq, t.bytes, error);
  // Opened: said by the kTransferStarted JS has had, or by this event.
  batch_->back().opened = folded;
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

void Worker::EmitTransferDone(SessionId sid, uint32_t seq, uint64_t bytes, int32_t error) {
  Event& e = Emit(EventType::kTransferDone, sid);
  e.seq = seq;
  e.bytes = bytes;
  e.error = error;
}

}  // namespace muxftpd
