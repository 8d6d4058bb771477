// Transfer::StepTls: one block per call through a data connection's TLS.
#include <algorithm>
#include <cerrno>

#include "tls_channel.h"
#include "transfer.h"

namespace muxftpd {

namespace {

StepResult TlsFailed(Transfer* t, ssize_t err) {
  if (err == -EPROTO) {
    t->error = static_cast<int32_t>(TransferError::kTlsFailed);
  } else if (err == -EPIPE || err == -ECONNRESET) {
    t->error = static_cast<int32_t>(TransferError::kPeerClosed);
  } else {
    t->error = static_cast<int32_t>(err);
  }
  return StepResult::kFailed;
}

// The end of a download: close_notify, then (FinishTransfer) the FIN, then the 226.
StepResult EndSend(Transfer* t, TlsChannel* tls) {
  switch (tls->Shutdown()) {
    case TlsStep::kWait: return StepResult::kBlocked;
    case TlsStep::kDone: return StepResult::kDone;
    // Every byte was written: a client that reset the connection once it had
    // them does not undo the transfer (as with a clear-text one).
    case TlsStep::kFailed: return StepResult::kDone;
  }
  return StepResult::kDone;
}

}  // namespace

StepResult Transfer::StepTls(TlsChannel* tls, size_t max_bytes, char* scratch) {
  if (kind == TransferKind::kRecvFile) {
    // Records until the block is full or the socket is empty.
    size_t got = 0;
    ssize_t n = 0;
    while (got < max_bytes) {
      n = tls->Read(scratch + got, max_bytes - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got > 0) {
      int w = sys::PWriteAll(file.Get(), scratch, got, offset);
      if (w < 0) {
        error = w;
        return StepResult::kFailed;
      }
      offset += got;
      bytes += got;
      if (write_behind > 0 && offset - written_back >= write_behind) WriteBehind();
      // What stopped the reading is seen again on the next call.
      return StepResult::kMore;
    }
    if (n == 0) {
      // close_notify, or a bare FIN (accepted, as vsftpd does): complete.
      // Ours in return, if the socket takes it now.
      static_cast<void>(tls->Shutdown());
      return StepResult::kDone;
    }
    return n == -EAGAIN ? StepResult::kBlocked : TlsFailed(this, n);
  }
  if (offset >= end) return EndSend(this, tls);
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max<uint64_t>(max_bytes, tls_unsent), end - offset));
  const char* from;
  if (kind == TransferKind::kSendFile) {
    // Read again from `offset` each time, as the clear-text copy does.
    ssize_t r = sys::PRead(file.Get(), scratch, want, offset);
    if (r < 0) return TlsFailed(this, r);
    if (r == 0) {
      end = offset;  // the file shrank: what there was is sent
      return EndSend(this, tls);
    }
    want = static_cast<size_t>(r);
    from = scratch;
  } else {
    from = buffer.data() + offset;
  }
  size_t sent = 0;
  while (sent < want) {
    ssize_t n = tls->Write(from + sent, want - sent);
    if (n == -EAGAIN) break;
    if (n < 0) return TlsFailed(this, n);
    sent += static_cast<size_t>(n);
  }
  offset += sent;
  bytes += sent;
  tls_unsent = want - sent;
  if (tls_unsent > 0) return StepResult::kBlocked;
  return offset >= end ? EndSend(this, tls) : StepResult::kMore;
}

}  // namespace muxftpd
