// Helpers of the standalone engine tests: a sink that queues the workers'
// batches for a driver thread playing the part of JS, and blocking loopback
// clients.
#ifndef MUXFTPD_TEST_LOOPBACK_H_
#define MUXFTPD_TEST_LOOPBACK_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../engine/engine.h"
#include "../engine/wire.h"
#include "action_bytes.h"
#include "check.h"

namespace muxftpd::test {

// Queues batches from the workers; a driver thread plays the part of JS.
class QueueSink : public EventSink {
 public:
  void Deliver(int worker, std::unique_ptr<EventBatch> batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    q_.emplace_back(worker, std::move(batch));
    cv_.notify_one();
  }
  bool Pop(std::pair<int, std::unique_ptr<EventBatch>>* out, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(mu_);
    out->second.reset();
    cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return !q_.empty(); });
    if (q_.empty()) return !stop.load();
    *out = std::move(q_.front());
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int, std::unique_ptr<EventBatch>>> q_;
};

// Posts `actions` as the addon does: checked, then handed over as bytes.
inline void PostActions(Engine& engine, const std::vector<Action>& actions) {
  std::string bytes = ActionBytes(actions);
  CHECK(CheckActions(bytes.data(), bytes.size()));
  engine.Post(bytes.data(), bytes.size());
}

inline Action Reply(SessionId sid, std::string text) {
  Action a{};
  a.type = ActionType::kReply;
  a.sid = sid;
  a.data = std::move(text);
  return a;
}

// Drive's default for events a test does not look at.
struct IgnoreEvent {
  void operator()(const Event&) const {}
};

// Plays the part of JS until `stop`: 220 on open, a 229 for each passive
// listener, 226 or "426 failed <error>" at a transfer's end; `on_line(event, seq, out)` answers
// each command line, appending actions to `out` (`seq` numbers requests);
// `on_event` sees every event first.
template <typename OnLine, typename OnEvent = IgnoreEvent>
void Drive(Engine* engine, QueueSink* sink, const std::atomic<bool>& stop, OnLine on_line, OnEvent on_event = {}) {
  uint32_t seq = 1;
  std::pair<int, std::unique_ptr<EventBatch>> item;
  while (sink->Pop(&item, stop)) {
    if (!item.second) continue;
    std::vector<Action> out;
    for (const Event& e : *item.second) {
      on_event(e);
      if (e.type == EventType::kOpen) out.push_back(Reply(e.sid, "220 hi\r\n"));
      if (e.type == EventType::kPassiveReady) {
        out.push_back(Reply(e.sid, "229 (|||" + std::to_string(e.port) + "|)\r\n"));
      }
      if (e.type == EventType::kTransferDone) {
        std::string end = e.error == 0 ? "226 done" : "426 failed " + std::to_string(e.error);
        out.push_back(Reply(e.sid, end + "\r\n"));
      }
      if (e.type == EventType::kLine) on_line(e, seq, out);
    }
    if (!out.empty()) PostActions(*engine, out);
    engine->BatchConsumed(item.first);
  }
}

// A config for a loopback engine serving `root`. EngineConfig has no defaults
// (they live in the settings table), so the native tests state theirs here.
inline EngineConfig TestConfig(const std::string& root, int threads) {
  EngineConfig c;
  c.host = "127.0.0.1";
  c.port = 0;
  c.root = root;
  c.threads = threads;
  c.clients_per_thread = 5000;
  c.max_clients = 20000;
  c.block_size = 64 * 1024;
  c.copy_mode = CopyMode::kSendfile;
  c.max_line = 8192;
  c.max_output = 1 << 20;
  c.close_timeout_ms = 10000;
  c.busy_reply = "421 Too many connections; try again later.\r\n";
  c.max_per_ip = 0;
  c.per_ip_reply = "421 Too many connections from your address; try again later.\r\n";
  c.ledger_fd = OptionalFd{-1};
  return c;
}

// Starts an engine with `drive(engine, sink, stop)` on a driver thread, calls
// body(port), then stops the driver and the engine (in that order: the driver
// calls BatchConsumed, which must not race with Stop).
template <typename DriveFn, typename Body>
void WithEngine(const EngineConfig& config, DriveFn drive, Body body) {
  QueueSink sink;
  Engine engine;
  std::string where;
  CHECK(engine.Start(config, &sink, &where) == 0);
  std::atomic<bool> stop{false};
  std::thread driver([&] { drive(&engine, &sink, stop); });
  body(engine, engine.BoundAddress().Port());
  stop.store(true);
  driver.join();
  engine.Stop();
}

// Connects to 127.0.0.1:port from 127.0.0.<source> (0: the kernel's choice).
inline int Connect(uint16_t port, int source = 0) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (source != 0) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7f000000u | static_cast<uint32_t>(source));
    CHECK(bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

inline std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1) {
    line += c;
    if (c == '\n') break;
  }
  return line;
}

inline void Send(int fd, const std::string& s) { CHECK(write(fd, s.data(), s.size()) == (ssize_t)s.size()); }

// An empty temporary directory for the life of the object (a root to serve).
class TempDir {
 public:
  TempDir() { CHECK(mkdtemp(path_) != nullptr); }
  ~TempDir() { rmdir(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const char* Path() const { return path_; }

 private:
  char path_[32] = "/tmp/muxftpd-native-XXXXXX";
};

}  // namespace muxftpd::test

#endif  // MUXFTPD_TEST_LOOPBACK_H_
