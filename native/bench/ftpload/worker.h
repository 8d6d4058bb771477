// One load thread: its own epoll instance and its slots, each driving FTP
// sessions as non-blocking state machines. Shares nothing with the other
// workers but Counters. Split by concern over three files:
//   worker.cc          the loop, starting and ending sessions, timeouts, the end of the run
//   worker_control.cc  the control connection: sending commands, framing replies, acting on them
//   worker_data.cc     data connections and transfers: EPSV/PASV/PORT/EPRT, RETR/STOR, checks
//   worker_tls.cc      --tls: handshakes, control bytes through TLS, TLS downloads
#ifndef MUXFTPD_BENCH_FTPLOAD_WORKER_H_
#define MUXFTPD_BENCH_FTPLOAD_WORKER_H_

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "counters.h"
#include "options.h"
#include "session.h"
#include "tally.h"

namespace muxftpd::ftpload {

class Worker {
 public:
  Worker(int id, const Options& o, Counters& counters, int first_slot, int nslots);
  // Runs until the deadline, --count, a stop, or (passive) every session is done.
  void Run();

  // Valid once Run has returned.
  Tally tally;

 private:
  // worker.cc: the run and the sessions' lives
  bool CountDone() const;
  bool ClaimOp();
  Kind PickKind();
  static bool PerSessionOp(Kind k) { return k == Kind::kLogin || k == Kind::kSmall; }
  bool Single(Kind k) const { return o_.mix.size() == 1 && o_.mix[0].first == k; }
  // passive: every slot runs one session, never restarted.
  bool OneShot() const { return Single(Kind::kPassive); }
  // Runs that hold many sessions log them in --ramp at a time per thread.
  bool Ramped() const {
    return Single(Kind::kIdle) || Single(Kind::kNoop) || Single(Kind::kPassive);
  }
  void Settle(Session& s);
  void Watch(Session& s, Which w, int fd, uint32_t gen, uint32_t events, bool add);
  void Error(Session& s, const std::string& kind, uint64_t now, bool restart_later = true);
  void Errno(Session& s, const char* what, int err, uint64_t now);
  static void CloseFd(int& fd);
  void CloseData(Session& s);
  void EndSession(Session& s, uint64_t now, uint64_t delay_us);
  void StartPending(uint64_t now);
  void StartSession(Session& s, uint64_t now);
  int OpenConnect(const Session& s, const SockAddr& target);
  void Finish(Session& s, uint64_t now);
  void Scan(uint64_t now);
  void StopAll(uint64_t now);

  // worker_control.cc: the control connection
  void Send(Session& s, const std::string& line, uint64_t now);
  void FlushCtl(Session& s, uint64_t now);
  void OnCtl(Session& s, uint32_t ev, uint64_t now);
  bool ReadReplies(Session& s, uint64_t now);
  void OnReply(Session& s, int code, const std::string& line, uint64_t now);
  void ReplyError(Session& s, int code, uint64_t now);
  void SendUser(Session& s, uint64_t now);
  void LoggedIn(Session& s, uint64_t now);
  void OnFloodReply(Session& s, int code, uint64_t now);
  void TopUp(Session& s, uint64_t now);
  void Quit(Session& s, uint64_t now);
  uint64_t NoopDelay();

  // worker_data.cc: data connections and transfers
  void StartOp(Session& s, uint64_t now);
  void BeginDataSetup(Session& s, uint64_t now);
  bool TakeSetupPlace(Session& s);
  bool SetupQueued();
  void StartQueuedSetups(uint64_t now);
  void StartDataSetup(Session& s, uint64_t now);
  void EndDataSetup(Session& s);
  void StartActive(Session& s, uint64_t now);
  void OnPassiveReply(Session& s, int code, const std::string& line, uint64_t now);
  void SendXferCmd(Session& s, uint64_t now);
  void OnListen(Session& s, uint64_t now);
  void OnData(Session& s, uint32_t ev, uint64_t now);
  void OnDataConnected(Session& s, uint64_t now);
  void SendUpload(Session& s, uint32_t ev, uint64_t now);
  void ReceiveDownload(Session& s, uint64_t now);
  void XferReplied(Session& s, uint64_t now);
  void MaybeOpDone(Session& s, uint64_t now);
  void FirstByte(Session& s, uint64_t now);
  void Received(Session& s, size_t n, uint64_t now);
  void DownloadEnded(Session& s, uint64_t now, bool tls_close);

  // worker_tls.cc: --tls
  void TlsFailed(Session& s, const char* where, uint64_t now);
  ssize_t CtlRecv(Session& s, char* buf, size_t len);
  ssize_t CtlSend(Session& s, const char* buf, size_t len);
  void StartCtlTls(Session& s, uint64_t now);
  void CtlHandshake(Session& s, uint64_t now);
  void MaybeStartDataTls(Session& s, uint64_t now);
  void StartDataTls(Session& s, uint64_t now);
  uint32_t DataInterest(const Session& s) const;
  void DataHandshake(Session& s, uint64_t now);
  void ReceiveTls(Session& s, uint64_t now);

  int id_;
  const Options& o_;
  Counters& sh_;
  int first_slot_;
  int ep_ = -1;
  std::vector<Session> sessions_;
  std::deque<uint32_t> pending_;
  // --max-data-setups: sessions waiting for a place, first come first served
  // (slot, ticket); an entry whose session no longer waits with that ticket
  // (it ended meanwhile) is skipped.
  std::deque<std::pair<uint32_t, uint64_t>> setup_queue_;
  uint64_t setup_tickets_ = 0;
  std::mt19937 rng_;
  int total_weight_ = 0;
  int connecting_ = 0;
  int64_t active_ = 0;
  bool stopping_ = false;
  uint64_t rr_ = 0;
  uint64_t timeout_us_ = 0;
  uint64_t flood_ops_ = 0;
  std::vector<char> buf_, upload_buf_;
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_WORKER_H_
