// A worker thread: one level-triggered epoll loop over its handoff socket, its
// wake eventfd, and the control connections and listeners of the sessions it
// owns (a data connection joins once the worker must wait on it).
#ifndef MUXFTPD_ENGINE_WORKER_H_
#define MUXFTPD_ENGINE_WORKER_H_

#include <sys/epoll.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "action_queue.h"
#include "batch_hold.h"
#include "completion_queue.h"
#include "engine.h"
#include "file_ops.h"
#include "passive.h"
#include "session.h"
#include "wakeup.h"

namespace muxftpd {

class ClientLedger;
class FileJobs;
class TlsContext;

// Adds to a counter only its worker's thread writes: a plain load and store,
// which costs what a non-atomic add does, where fetch_add would be a locked add.
inline void Bump(std::atomic<uint64_t>& counter, uint64_t by) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// What the acceptor writes to a worker's handoff socket for each client.
struct Handoff {
  int fd;
  SessionId sid;
  SockAddr peer;
  bool implicit_tls;  // accepted on the implicit-TLS listener
};

class Worker {
 public:
  // `file_jobs` runs what may wait for the disk (see file_jobs.h), `file_ops`
  // the sessions' file-system operations (file_ops.h); `ledger` counts its
  // clients over all the server's processes (client_ledger.h). All three outlive the worker.
  // `tls`: the engine's TLS context, null without TLS; it outlives the worker.
  Worker(int index, const EngineConfig& config, DirRef root, EventSink* sink, FileJobs* file_jobs,
         FileOps* file_ops, ClientLedger* ledger, TlsContext* tls);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int Init();   // epoll, eventfd, handoff socket pair: 0 or -errno
  void Start();
  void Stop();  // closes every session and joins the thread

  int HandoffFd() const { return handoff_in_.Get(); }
  // Action records, checked (wire.h CheckActions): any thread.
  void Post(const char* p, size_t n) { queue_->Push(p, n); }
  void BatchConsumed();

  // Sessions owned (and handed off but not yet opened): the acceptor's
  // least-loaded pick reads it; the acceptor adds, this worker subtracts.
  std::atomic<int> clients{0};
  // A client counted in `clients` (and admitted in the ledger) is gone: its
  // session ended, or its hand-off failed. Once per client, on any thread.
  void Departed(const SockAddr& peer);

  // A snapshot of the loop counters; callable from any thread.
  WorkerLoopStats LoopStats() const;
  // Adds this worker's TLS counters to `out`; callable from any thread.
  void AddTlsStats(TlsStats* out) const;
  uint64_t PassiveControlPeer() const { return passive_control_peer_.load(std::memory_order_relaxed); }

 private:
  void Run();
  void Dispatch(const epoll_event& ev);
  void OnHandoff();
  void OnWake();
  void RunQueued();       // actions, job and file results, paused reads: every iteration
  void TrimReused();
  bool HasQueuedWork();   // before sleeping: is any cross-thread queue non-empty?
  void OnControl(Session* s, uint32_t events);
  void OnListener(Session* s);
  void OnPoolListener(PassivePort* port);
  void AttachData(Session* s, UniqueFd conn, const SockAddr& peer);
  void ResetData(Session* s);
  void UnwatchData(Session* s);  // the data fd leaves the epoll set, the fd stays
  void OnData(Session* s, uint32_t events);

  void Apply(Action& a);
  void ListenPassive(Session* s, const Action& a);
  int OpenOwnListener(Session* s);
  void SetActiveTarget(Session* s, const std::string& host, uint16_t port);
  void OpenData(Session* s, uint32_t seq);
  // DataConnected for s's data connection: `fresh` when it has just come up;
  // a seq (an OpenData's answer) adds the server's end of it.
  void EmitDataConnected(Session* s, uint32_t seq, bool fresh);
  void EmitDataFailed(SessionId sid, uint32_t seq, int32_t error);
  void EmitDataRefused(SessionId sid, const SockAddr& peer, int listener, bool late);
  int ConnectActive(Session* s);
  bool ConnectForTransfer(Session* s, uint32_t seq);
  void BeginTransfer(Session* s, Action& a);
  int OpenForTransfer(Session* s, Action& a, Transfer* t);
  int OpenReplacement(Session* s, Action& a, Transfer* t);

  // worker_tls.cc: TLS on control and data connections (RFC 4217).
  void Announce(Session* s);  // the Open event
  void StartTls(Session* s);
  void ClearControl(Session* s);
  void BeginControlHandshake(Session* s);
  void BeginImplicitTls(Session* s);
  void AfterFlush(Session* s);  // a session's output is all out: a TLS step may follow
  void StepControlTls(Session* s);
  void ControlTlsReady(Session* s);
  void ControlTlsFailed(Session* s, const std::string& why);
  void RefuseTls(Session* s, const char* why);
  ssize_t ReadControl(Session* s, char* buf, size_t n);
  void NotePendingTls(Session* s);
  void ReadPendingTls();
  void ExpireHandshakes();
  bool TakeHandshakeTurn();
  void DataConnected(Session* s);  // the data connection is up: TLS first with PROT P
  void StepDataTls(Session* s);
  void DataTlsFailed(Session* s, TransferError error);

  // worker_files.cc: FileOp actions, run on the FileOps threads, and their answers.
  void SubmitFileOp(Session* s, Action& a);
  void ApplyFileResults();  // on this worker's thread

  void StartTransferIfReady(Session* s);
  void TruncateOffThread(Session* s);
  void PlaceUpload(Session* s);
  void DiscardUpload(Transfer& t);
  // What a job of s's transfer calls with its result (on the FileJobs thread).
  std::function<void(int)> JobDone(Session* s);
  void ApplyJobResults();  // the FileJobs results, on this worker's thread
  void Activate(Session* s);
  void Deactivate(Session* s);
  void StepTransfers();
  void Park(Session* s, uint64_t wait_ms);
  void Unpark(Session* s);
  void WakeParked();
  void ExpireDataConnections();
  void Linger(Session* s);
  void ExpireLingering();
  int WaitTimeoutMs() const;
  void TouchData(Session* s) { s->data_activity_ms = now_ms_; }
  void FinishTransfer(Session* s, int32_t error);
  void EndTransfer(Session* s, int32_t error);  // FinishTransfer's reply, event and release
  void DropData(Session* s);
  [[nodiscard]] int SetDataEvents(Session* s, uint32_t events);
  bool WatchData(Session* s, uint32_t events);
  void SetControlEvents(Session* s);
  // Appends a reply to the session's output, flushed at the end of this
  // iteration; `split`: its bytes past split_reply_at wait split_reply_pause_ms.
  void Queue(Session* s, const std::string& reply, bool split = false);
  void ReleaseHeld();  // held output whose pause is over goes to `out`
  void MarkDirty(Session* s);
  void FlushOutputs();
  void FlushEvents();
  void ResumeReads();
  void CloseSession(Session* s, CloseReason reason);
  void CloseAll();
  void ReleaseClosedSessions();

  Event& Emit(EventType type, SessionId sid);
  void EmitTransferDone(SessionId sid, uint32_t seq, uint64_t bytes, int32_t error);
  Session* Find(SessionId sid);

  const int index_;
  const EngineConfig& config_;
  const DirRef root_;  // every new session's directory
  EventSink* const sink_;
  FileJobs* const file_jobs_;
  FileOps* const file_ops_;
  ClientLedger* const ledger_;
  TlsContext* const tls_;

  UniqueFd epoll_;
  Wakeup wake_;
  UniqueFd handoff_in_;   // the acceptor writes here
  UniqueFd handoff_out_;  // this worker reads here
  IoHandle handoff_handle_{IoHandle::Kind::kInternal, nullptr};
  IoHandle wake_handle_{IoHandle::Kind::kWake, nullptr};
  std::unique_ptr<ActionQueue> queue_;
  std::unique_ptr<PassivePool> pool_;  // only with a passive port range
  std::vector<char> action_bytes_;  // swapped with the queue's buffer each turn (TrimReused)
  std::vector<Action> actions_;     // decoded from them, reused turn to turn
  // Jobs of transfers done on the FileJobs thread (Transfer::in_job), taken in RunQueued.
  struct JobResult {
    SessionId sid;
    uint32_t seq;
    int result;
  };
  CompletionQueue<JobResult> job_results_{wake_};
  // FileOps answers, taken in RunQueued.
  struct FileDone {
    SessionId sid;
    uint32_t seq;
    FileOpResult result;
  };
  CompletionQueue<FileDone> files_done_{wake_};

  std::unordered_map<SessionId, std::unique_ptr<Session>> sessions_;
  std::vector<Session*> active_;   // transfers to step this loop
  std::vector<Session*> parked_;   // throttled transfers, waiting for tokens
  std::vector<Session*> dirty_;    // sessions with output to flush this loop
  std::vector<SessionId> paused_;  // sessions whose EPOLLIN was dropped
  std::vector<SessionId> held_;    // sessions with held output (Session::held)
  // Closing sessions with output the client has not read (--close-timeout):
  // closed at the deadline unless what they owe has shrunk since the last look.
  struct Lingering {
    SessionId sid;
    uint64_t deadline_ms;
    uint64_t owed;
  };
  std::vector<Lingering> lingering_;
  std::vector<std::unique_ptr<Session>> graveyard_;  // freed at the end of the iteration
  // Control connections with TLS plain text OpenSSL holds (epoll cannot see
  // it): read at the start of the next iteration, which then does not sleep.
  std::vector<SessionId> tls_pending_;
  // Implicit-TLS sessions in their handshake, which JS does not know of: the
  // worker ends those that take longer than the data timeout.
  std::vector<SessionId> handshaking_;
  uint64_t next_handshake_sweep_ms_ = 0;
  // TLS handshake steps left in this iteration: a burst of new TLS clients
  // (each step may cost a signature) cannot starve the running transfers.
  static constexpr int kHandshakesPerLoop = 32;
  int handshakes_left_ = kHandshakesPerLoop;
  std::unique_ptr<EventBatch> batch_;
  TokenBucket worker_bucket_;      // this worker's share of --max-rate
  uint64_t now_ms_ = 0;            // read once per loop iteration
  uint64_t next_expiry_ms_ = 0;    // next --data-timeout sweep
  uint64_t next_linger_ms_ = 0;    // next --close-timeout sweep
  uint64_t next_trim_ms_ = 0;      // ReleaseClosedSessions: next malloc trim allowed
  static constexpr uint64_t kTrimIntervalMs = 1000;
  bool data_sessions_ = false;     // some session has a data setup: sweep it
  std::unique_ptr<char[]> scratch_;
  size_t scratch_size_;
  uint64_t upload_window_;  // Transfer::write_behind of every upload (0: off)

  // Batches handed to JS and not yet consumed. Past kMaxInflight the worker
  // stops reading control input, so a slow JS thread bounds memory instead of
  // queueing events without end.
  static constexpr int kMaxInflight = 8;
  // One control read takes at most this much (one read per client per loop).
  static constexpr size_t kControlReadSize = 16 * 1024;
  // How often --data-timeout and --close-timeout are swept.
  static constexpr uint64_t kExpirySweepMs = 1000;
  std::atomic<int> inflight_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;

  // Loop counters for Stats(). Only this worker's thread writes them, once per
  // iteration or batch, so a relaxed load and store is enough: no locked add
  // on the loop's path. Other threads may read a value one iteration old.
  std::atomic<uint64_t> iterations_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> batch_events_{0};
  std::atomic<uint64_t> passive_control_peer_{0};
  // How many of batch_'s kTransferStarted events a kTransferDone has folded
  // in (FlushEvents drops them).
  size_t superseded_ = 0;
  BatchHold hold_;  // when batch_ goes to JS (a held batch is not in inflight_)
  // TlsStats, counted the same way.
  struct TlsCounters {
    std::atomic<uint64_t> control_handshakes{0};
    std::atomic<uint64_t> control_switched{0};
    std::atomic<uint64_t> control_failures{0};
    std::atomic<uint64_t> implicit_failures{0};
    std::atomic<uint64_t> data_handshakes{0};
    std::atomic<uint64_t> data_failures{0};
    std::atomic<uint64_t> data_not_resumed{0};
    std::atomic<uint64_t> ktls_transfers{0};
  } tls_counters_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_WORKER_H_
