// What a transfer hands to the FileJobs thread (file_jobs.h) because it may
// wait for the disk: emptying a replaced file, placing or discarding an
// atomic upload; and the results coming back to this worker.
#include <algorithm>
#include <cassert>
#include <cerrno>

#include "file_jobs.h"
#include "worker.h"

namespace muxftpd {

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
    job_results_.Push(JobResult{sid, seq, result});
  };
}

void Worker::ApplyJobResults() {
  job_results_.Drain([this](const JobResult& done) {
    Session* s = Find(done.sid);
    if (s == nullptr || !s->transfer || s->transfer->seq != done.seq || !s->transfer->in_job) {
      return;
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
  });
}

}  // namespace muxftpd
