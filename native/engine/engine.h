// The one C++ API of the engine: start it with a config and an event sink,
// post actions to it, stop it. No <napi.h> here: the engine also compiles
// into the standalone tests in native/test.
#ifndef MUXFTPD_ENGINE_ENGINE_H_
#define MUXFTPD_ENGINE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol.h"
#include "sys.h"

namespace muxftpd {

// A file descriptor the embedding process lends the engine, or -1 for none.
struct OptionalFd {
  int value = -1;
};

// FTPS (RFC 4217): the certificate and key as PEM text (a chain allowed: the
// leaf first), given whole by TypeScript, which reads the files or makes the
// self-signed certificate, so every process of --processes has the same one.
// In JS: null (no TLS: StartTls answers TlsFailed "tls not configured"), or
// { cert, key, sessionReuse: 'required' | 'optional', implicitPort?, ktls: 'auto' | 'off' }.
struct TlsConfig {
  bool enabled = false;
  std::string cert;
  std::string key;
  // A data connection must resume its control connection's TLS session (vsftpd's
  // require_ssl_reuse, proftpd's default): no other client can take it over.
  bool reuse_required = true;
  // A second listener whose clients speak TLS from the first byte (port 0: the
  // kernel picks one; see Engine::ImplicitTlsAddress).
  bool implicit = false;
  uint16_t implicit_port = 0;
  // Kernel TLS for PROT P transfers where the kernel and the OpenSSL build allow it.
  bool ktls = false;
};

// The engine's configuration, declared once: X(member, jsName, Type). The
// addon reads each field from the JS object by its jsName (every field is
// required) and exports the list as binding.constants.engineConfig, which
// src/engine/native.ts's NativeConfig mirrors (test/unit/native-constants).
// There are no defaults here: they live in the settings table
// (src/config/settings.ts), and the native tests state their own values.
#define MUXFTPD_ENGINE_CONFIG(X)                                                      \
  X(host, host, std::string)                   /* control listener address */        \
  X(port, port, uint16_t)                      /* control port, 0: any */             \
  X(root, root, std::string)                   /* absolute path of the served root */ \
  X(threads, threads, int)                                                            \
  X(clients_per_thread, clientsPerThread, int)                                        \
  X(max_clients, maxClients, int)              /* over every engine on the ledger */  \
  X(block_size, blockSize, size_t)             /* bytes per transfer per loop turn */ \
  X(pasv_min, pasvMin, uint16_t)               /* 0/0: the kernel picks a port */     \
  X(pasv_max, pasvMax, uint16_t)                                                      \
  X(copy_mode, copyMode, CopyMode)                                                    \
  X(max_line, maxLine, size_t)                                                        \
  X(max_output, maxOutput, size_t)             /* unsent reply bytes before a close */ \
  X(data_timeout_ms, dataTimeoutMs, uint64_t)  /* 0: data connections never time out */ \
  X(close_timeout_ms, closeTimeoutMs, uint64_t) /* closing, unread this long: ends (0: never) */ \
  X(max_rate, maxRate, uint64_t)               /* bytes/s over all transfers (0: unlimited) */ \
  X(max_rate_per_client, maxRatePerClient, uint64_t) /* bytes/s per transfer (0: unlimited) */ \
  X(write_behind, writeBehind, uint64_t)       /* upload write-behind window (0: off) */ \
  X(busy_reply, busyReply, std::string)        /* sent, then closed, past max_clients */ \
  X(reuse_port, reusePort, bool)               /* SO_REUSEPORT: --processes share the port */ \
  X(max_per_ip, maxPerIp, int)                 /* clients at once from one address (0: no limit) */ \
  X(per_ip_reply, perIpReply, std::string)     /* sent, then closed, past max_per_ip */ \
  X(ledger_fd, ledgerFd, OptionalFd)           /* a client_ledger.h segment to share (-1: its own) */ \
  X(split_reply_at, splitReplyAt, size_t)      /* a SplitReply reply: bytes in its first write */ \
  X(split_reply_pause_ms, splitReplyPauseMs, uint64_t) /* and the pause before the rest */ \
  X(tls, tls, TlsConfig)                       /* FTPS: null (none) or an object, see TlsConfig */

struct EngineConfig {
#define MUXFTPD_CONFIG_MEMBER(member, js_name, Type) Type member{};
  MUXFTPD_ENGINE_CONFIG(MUXFTPD_CONFIG_MEMBER)
#undef MUXFTPD_CONFIG_MEMBER
};

using EventBatch = std::vector<Event>;

// Receives a worker's batches (one per run of loop turns: batch_hold.h), on that worker's thread. It
// must not block; when it has handed the batch on, the consumer calls
// Engine::BatchConsumed(worker) once the batch has been processed.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Deliver(int worker, std::unique_ptr<EventBatch> batch) = 0;
};

class Acceptor;
class ClientLedger;
class TlsContext;
class FileJobs;
class FileOps;
class Worker;

// One worker's loop counters since start. Mean batch size = events / batches.
struct WorkerLoopStats {
  uint64_t iterations = 0;  // epoll_wait returns (events, timeouts and EINTR alike)
  uint64_t batches = 0;     // event batches handed to the sink
  uint64_t events = 0;      // events in those batches
};

// TLS counters since start, over every worker.
struct TlsStats {
  uint64_t control_handshakes = 0;  // AUTH TLS and implicit handshakes that completed
  // TLS 1.3 control connections handed from OpenSSL to our record layer after
  // their handshake (TlsChannel, tls13_records.h)
  uint64_t control_switched = 0;
  uint64_t control_failures = 0;    // AUTH TLS handshakes (and CCC shutdowns) that failed
  uint64_t implicit_failures = 0;   // implicit-TLS handshakes that failed (never seen by JS)
  uint64_t data_handshakes = 0;     // data connection handshakes that completed
  uint64_t data_failures = 0;       // data connection handshakes that failed
  uint64_t data_not_resumed = 0;    // refused: reuse required, the session was not resumed
  uint64_t ktls_transfers = 0;      // transfers sent with kernel TLS
};

struct EngineStats {
  int sessions = 0;
  std::vector<int> per_worker;
  std::vector<WorkerLoopStats> loops;  // one per worker, in worker order
  uint64_t accepted = 0;
  uint64_t rejected = 0;         // turned away past max_clients (or clients_per_thread)
  uint64_t rejected_per_ip = 0;  // turned away past max_per_ip
  int64_t fd_limit = 0;  // the process's open-file limit, raised at start
  // Passive data connections taken from the control peer: the address truth's
  // passiveControlPeer, counted here so that no event per transfer tells JS.
  uint64_t passive_control_peer = 0;
  TlsStats tls;
};

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Binds, spawns the threads. Returns 0, or a negated errno with `where` set
  // to the step that failed (nothing is left running then).
  int Start(const EngineConfig& config, EventSink* sink, std::string* where);
  // Routes each action record (a buffer wire.h CheckActions accepted) to the
  // worker its session id names. The caller's thread (JS's) only copies bytes.
  void Post(const char* p, size_t n);
  // Called by the consumer of a batch delivered for `worker`.
  void BatchConsumed(int worker);
  // Closes the control listener; sessions already open go on (graceful drain).
  void StopAccepting();
  // Stops accepting, closes every session, joins every thread. Idempotent.
  void Stop();

  SockAddr BoundAddress() const;
  // The implicit-TLS listener's address (len 0 when there is none).
  SockAddr ImplicitTlsAddress() const;
  EngineStats Stats() const;
  // For the native tests: a job of theirs can hold this thread, to show what
  // waits for it.
  FileJobs& file_jobs() { return *file_jobs_; }

 private:
  EngineConfig config_;
  std::shared_ptr<const UniqueFd> root_;
  // Counts the clients against max_clients and max_per_ip: this process's
  // own, or a segment shared with the server's other processes (ledger_fd).
  // Declared before the workers and the acceptor, which release into it to the end.
  std::unique_ptr<ClientLedger> ledger_;
  // Declared before the workers, which hold pointers to them: destroyed after them.
  std::unique_ptr<FileJobs> file_jobs_;
  std::unique_ptr<FileOps> file_ops_;
  std::unique_ptr<TlsContext> tls_;  // with config.tls: shared by the workers, destroyed after them
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Acceptor> acceptor_;
  // Post's per-worker records (the poster's thread only: JS's).
  std::vector<std::vector<char>> route_;
  int64_t fd_limit_ = 0;
  bool running_ = false;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_ENGINE_H_
