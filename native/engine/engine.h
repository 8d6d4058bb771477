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

struct EngineConfig {
  std::string host = "::";
  uint16_t port = 2121;
  std::string root = ".";
  int threads = 1;
  int clients_per_thread = 5000;
  int max_clients = 20000;
  size_t block_size = 256 * 1024;
  uint16_t pasv_min = 0;  // 0/0: the kernel picks an ephemeral port
  uint16_t pasv_max = 0;
  CopyMode copy_mode = CopyMode::kSendfile;
  size_t max_line = 8192;
  size_t max_output = 1 << 20;
  uint64_t data_timeout_ms = 0;       // 0: data connections never time out
  uint64_t close_timeout_ms = 10000;  // a closing session whose client reads nothing this long ends (0: never)
  uint64_t max_rate = 0;              // bytes/s over all transfers (0: unlimited)
  uint64_t max_rate_per_client = 0;   // bytes/s per transfer (0: unlimited)
  uint64_t write_behind = 0;          // upload write-behind window, bytes (0: off)
  std::string busy_reply = "421 Too many connections, try again later.\r\n";
};

using EventBatch = std::vector<Event>;

// Receives one batch per worker loop iteration, on that worker's thread. It
// must not block; when it has handed the batch on, the consumer calls
// Engine::BatchConsumed(worker) once the batch has been processed.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Deliver(int worker, std::unique_ptr<EventBatch> batch) = 0;
};

class Acceptor;
class FileJobs;
class Worker;

// One worker's loop counters since start. Mean batch size = events / batches.
struct WorkerLoopStats {
  uint64_t iterations = 0;  // epoll_wait returns (events, timeouts and EINTR alike)
  uint64_t batches = 0;     // event batches handed to the sink
  uint64_t events = 0;      // events in those batches
};

struct EngineStats {
  int sessions = 0;
  std::vector<int> per_worker;
  std::vector<WorkerLoopStats> loops;  // one per worker, in worker order
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  int64_t fd_limit = 0;  // the process's open-file limit, raised at start
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
  // Routes each action to the worker its session id names.
  void Post(std::vector<Action>&& actions);
  // Called by the consumer of a batch delivered for `worker`.
  void BatchConsumed(int worker);
  // Closes the control listener; sessions already open go on (graceful drain).
  void StopAccepting();
  // Stops accepting, closes every session, joins every thread. Idempotent.
  void Stop();

  SockAddr BoundAddress() const;
  EngineStats Stats() const;
  // For the native tests: a job of theirs can hold this thread, to show what
  // waits for it.
  FileJobs& file_jobs() { return *file_jobs_; }

 private:
  EngineConfig config_;
  UniqueFd root_fd_;
  // Declared before the workers, which hold a pointer to it: destroyed after them.
  std::unique_ptr<FileJobs> file_jobs_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Acceptor> acceptor_;
  int64_t fd_limit_ = 0;
  bool running_ = false;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_ENGINE_H_
