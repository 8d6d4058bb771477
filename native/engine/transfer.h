// One transfer on a data connection, moved one block per call (the loop's
// fairness rule: every active transfer moves once per loop iteration).
#ifndef MUXFTPD_ENGINE_TRANSFER_H_
#define MUXFTPD_ENGINE_TRANSFER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol.h"
#include "sys.h"
#include "token_bucket.h"

namespace muxftpd {

class TlsChannel;

enum class TransferKind : uint8_t { kSendFile, kSendBuffer, kRecvFile };

enum class StepResult : uint8_t {
  kMore,     // moved a block; call again next loop
  kBlocked,  // the socket would block: wait for epoll
  kDone,     // finished
  kFailed,   // see Transfer::error
};

struct Transfer {
  TransferKind kind;
  uint32_t seq = 0;
  // Where its kTransferStarted went in the worker's batch, so that a transfer
  // ending before that batch leaves folds it into its kTransferDone (one event
  // fewer for JS per small file). Once the batch has left, the index names
  // some other event, or none: EndTransfer checks it is still its own.
  size_t started_index = 0;
  // Locked right after its open (sys::LockFile): shared to send, exclusive to
  // receive, so no transfer reads a file another one writes, or writes one
  // another reads or writes. The lock goes with the last close of the open
  // file description (or at EndTransfer, for a close left to FileJobs).
  UniqueFd file;
  uint64_t offset = 0;  // next file offset (send: read from; recv: write to)
  uint64_t end = 0;     // kSendFile: file size at open; kSendBuffer: buffer size
  uint64_t bytes = 0;   // bytes moved over the socket
  int32_t error = 0;
  std::string buffer;   // kSendBuffer: the bytes to send
  std::string epilogue; // the reply queued when it ends without error (Action::epilogue)
  // StepTls: bytes a write that would block was given, which its retry must
  // give again (OpenSSL has already sealed them into a record).
  uint64_t tls_unsent = 0;
  TokenBucket bucket;   // --max-rate-per-client
  // kRecvFile write-behind (--upload-write-behind): every `write_behind` bytes
  // (at least one block: see Worker::upload_window_) the
  // newest stretch is handed to writeback, and what lies more than
  // kWindowsKept windows behind, normally on disk by then, leaves the page
  // cache. 0: off.
  static constexpr uint64_t kWindowsKept = 4;
  uint64_t write_behind = 0;
  uint64_t written_back = 0;  // file offset up to which writeback was started
  uint64_t dropped = 0;       // file offset up to which the cache was dropped
  // STOR from offset 0: the file is emptied only once the data connection is
  // up, so an upload whose connection never comes leaves the old file whole.
  bool truncate_when_connected = false;
  // `replaced`: the file had bytes and is emptied on the FileJobs thread; its
  // close (which on ext4 may write the whole upload out) is a FileJobs job too.
  // `in_job`: a FileJobs job of this transfer runs (that truncation, or
  // putting a kReplace upload in place): it moves nothing and ends only on
  // the job's result. `ended`: it was finished meanwhile (with `error`) and
  // ends on the result. `job_left`: its session closed while the job ran, so
  // it ended without waiting; the job's own fd keeps the lock until it is
  // done.
  bool replaced = false;
  bool in_job = false;
  bool ended = false;
  bool job_left = false;
  // WriteMode::kReplace (--atomic-uploads): `file` is `temp`, a new file in
  // the target's directory `dir`, renamed over `name` when the upload ends
  // without error and removed otherwise. `temp` is empty once a job has
  // taken it over.
  UniqueFd dir;
  std::string temp;
  std::string name;

  bool Sending() const { return kind != TransferKind::kRecvFile; }

  // Moves at most `max_bytes` (one block, or less when throttled) between the
  // data socket and the file or buffer. `scratch` holds at least max_bytes.
  StepResult Step(int data_fd, CopyMode mode, size_t max_bytes, char* scratch);
  // The same through TLS (PROT P; transfer_tls.cc): file blocks are read and
  // written as records (no sendfile), and a download ends with close_notify.
  StepResult StepTls(TlsChannel* tls, size_t max_bytes, char* scratch);

  // Where an upload starts writing (file offsets from here on are its own),
  // and its write-behind window.
  void StartRecv(uint64_t at, uint64_t window) {
    offset = written_back = dropped = at;
    write_behind = window;
  }

 private:
  void WriteBehind();
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_TRANSFER_H_
