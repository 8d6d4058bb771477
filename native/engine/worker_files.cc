// The worker's side of FileOp actions: each goes to the FileOps threads with
// the session's directory, and its answer comes back here (through the wake
// eventfd) to become a FileDone event in this worker's next batch.
#include "worker.h"

namespace muxftpd {

void Worker::SubmitFileOp(Session* s, Action& a) {
  FileOps::Job job;
  job.op = a.op;
  // A home is found from the root, whatever directory the session has now.
  job.base = a.op == FileOpKind::kHome ? root_ : s->dir;
  job.path = std::move(a.data);
  job.path2 = std::move(a.preamble);
  job.done = [this, sid = s->sid, seq = a.seq](FileOpResult&& result) {
    files_done_.Push(FileDone{sid, seq, std::move(result)});
  };
  file_ops_->Submit(std::move(job));
}

void Worker::ApplyFileResults() {
  files_done_.Drain([this](FileDone& done) {
    // A Home answer moves the session into its home: from now on every path
    // of it resolves there. Answered even when the session is gone, as every
    // action with a seq is.
    if (done.result.home) {
      if (Session* s = Find(done.sid)) s->dir = std::move(done.result.home);
    }
    Event& e = Emit(EventType::kFileDone, done.sid);
    e.seq = done.seq;
    e.error = done.result.error;
    e.text = std::move(done.result.records);
  });
}

}  // namespace muxftpd
