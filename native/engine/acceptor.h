// The acceptor thread: accepts control connections and hands each to the
// worker with the fewest clients, or answers 421 past the client limits
// (max_clients and max_per_ip counted in the client ledger, which the
// server's other processes share; clients_per_thread by the worker's count).
#ifndef MUXFTPD_ENGINE_ACCEPTOR_H_
#define MUXFTPD_ENGINE_ACCEPTOR_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client_ledger.h"
#include "engine.h"
#include "sys.h"

namespace muxftpd {

class Worker;
struct Handoff;

class Acceptor {
 public:
  // `sink` hears only of the acceptor's own failure (LoopFailed): clients go to the workers.
  // Each client it admits in `ledger` is released there once: by the worker
  // it was handed to when its session ends, or here when the hand-off fails.
  Acceptor(const EngineConfig& config, std::vector<Worker*> workers, ClientLedger* ledger, EventSink* sink);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Creates, binds and listens: 0, or -errno with `where` naming the step.
  int Bind(std::string* where);
  void Start();
  void Stop();

  const SockAddr& bound() const { return bound_; }
  const SockAddr& implicit_bound() const { return implicit_bound_; }
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t rejected() const { return rejected_.load(); }
  uint64_t rejected_per_ip() const { return rejected_per_ip_.load(); }

 private:
  void Run();
  int OpenListener(uint16_t port, UniqueFd* out, SockAddr* bound, std::string* where);
  void AcceptAll(UniqueFd* listener);
  void HandOff(int fd, const SockAddr& peer, bool implicit_tls);
  void FlushBacklog(size_t worker);
  void CloseBacklogs();
  // Sends the refusal for `why` (busy_reply, or per_ip_reply), closes, counts it.
  // Implicit-TLS clients get no reply, only the close.
  void Reject(int fd, ClientLedger::Verdict why = ClientLedger::Verdict::kTooMany, bool implicit_tls = false);
  void PauseListening(bool paused);

  const EngineConfig& config_;
  std::vector<Worker*> workers_;
  ClientLedger* const ledger_;
  EventSink* const sink_;
  // Hand-offs a worker's socket had no room for (a burst of connects faster
  // than that worker drains them): sent when the socket is writable again,
  // instead of turning clients away.
  struct Backlog {
    std::deque<Handoff> pending;
    bool watching = false;  // EPOLLOUT armed on the worker's hand-off socket
  };
  std::vector<Backlog> backlogs_;
  size_t backlog_total_ = 0;
  UniqueFd listen_;
  UniqueFd implicit_listen_;  // config.tls.implicit: clients that speak TLS first
  UniqueFd epoll_;
  UniqueFd stop_fd_;
  SockAddr bound_;
  SockAddr implicit_bound_;  // the implicit-TLS listener's (len 0: none)
  uint64_t next_id_ = 0;
  bool paused_ = false;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> rejected_per_ip_{0};
  std::thread thread_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_ACCEPTOR_H_
