#include "transfer.h"

#include <algorithm>
#include <cerrno>

namespace muxftpd {

namespace {

StepResult Failed(Transfer* t, ssize_t err) {
  if (err == -EAGAIN || err == -EWOULDBLOCK) return StepResult::kBlocked;
  // A client that closes or resets the data connection mid-transfer.
  t->error = (err == -EPIPE || err == -ECONNRESET)
                 ? static_cast<int32_t>(TransferError::kPeerClosed)
                 : static_cast<int32_t>(err);
  return StepResult::kFailed;
}

}  // namespace

StepResult Transfer::Step(int data_fd, CopyMode mode, size_t max_bytes, char* scratch) {
  switch (kind) {
    case TransferKind::kSendFile: {
      if (offset >= end) return StepResult::kDone;
      size_t want = static_cast<size_t>(std::min<uint64_t>(max_bytes, end - offset));
      ssize_t n;
      if (mode == CopyMode::kSendfile) {
        n = sys::SendFile(data_fd, file.Get(), &offset, want);
        if (n < 0) return Failed(this, n);
      } else {
        // pread the block at `offset` each time and advance by what the socket
        // took: a partial write costs a re-read, not a per-transfer buffer.
        ssize_t r = sys::PRead(file.Get(), scratch, want, offset);
        if (r < 0) return Failed(this, r);
        if (r == 0) return StepResult::kDone;  // the file shrank: send what there was
        n = sys::Send(data_fd, scratch, static_cast<size_t>(r));
        if (n < 0) return Failed(this, n);
        offset += static_cast<uint64_t>(n);
      }
      if (n == 0) return StepResult::kDone;  // the file shrank under sendfile
      bytes += static_cast<uint64_t>(n);
      return offset >= end ? StepResult::kDone : StepResult::kMore;
    }
    case TransferKind::kSendBuffer: {
      if (offset >= end) return StepResult::kDone;
      size_t want = static_cast<size_t>(std::min<uint64_t>(max_bytes, end - offset));
      ssize_t n = sys::Send(data_fd, buffer.data() + offset, want);
      if (n < 0) return Failed(this, n);
      offset += static_cast<uint64_t>(n);
      bytes += static_cast<uint64_t>(n);
      return offset >= end ? StepResult::kDone : StepResult::kMore;
    }
    case TransferKind::kRecvFile: {
      ssize_t n = sys::Read(data_fd, scratch, max_bytes);
      if (n < 0) return Failed(this, n);
      if (n == 0) return StepResult::kDone;  // the client closed: upload complete
      int w = sys::PWriteAll(file.Get(), scratch, static_cast<size_t>(n), offset);
      if (w < 0) {
        error = w;
        return StepResult::kFailed;
      }
      offset += static_cast<uint64_t>(n);
      bytes += static_cast<uint64_t>(n);
      if (write_behind > 0 && offset - written_back >= write_behind) WriteBehind();
      return StepResult::kMore;
    }
  }
  return StepResult::kFailed;
}

// Why: on a fast upload the kernel lets gigabytes of dirty pages pile up,
// then throttles the writer, which here is a whole worker's loop; and every
// page of the upload is a fresh allocation. Writing behind keeps an upload's
// cached pages to a few windows when the disk keeps up (pages still being
// written when their turn to drop comes stay cached), and the freed pages are
// likely the next ones the kernel hands out (on this project's VMs several
// times cheaper than fresh pages the host has reclaimed). Both calls are
// advice, their errors ignored: uploads are not fsynced, with or without them.
// Ranges end on page boundaries: writeback of a partly written last page
// would have the next write dirty it again while it may be under I/O.
void Transfer::WriteBehind() {
  static const uint64_t page = sys::PageSize();
  uint64_t written = offset & ~(page - 1);
  if (written > written_back) {
    static_cast<void>(sys::StartWriteback(file.Get(), written_back, written - written_back));
    written_back = written;
  }
  uint64_t lag = kWindowsKept * write_behind;
  if (written > dropped + lag) {
    uint64_t upto = written - lag;
    static_cast<void>(sys::DropCache(file.Get(), dropped, upto - dropped));
    dropped = upto;
  }
}

}  // namespace muxftpd
