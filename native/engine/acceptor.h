// The acceptor thread: accepts control connections and hands each to the
// worker with the fewest clients, or answers 421 past the client limits.
#ifndef MUXFTPD_ENGINE_ACCEPTOR_H_
#define MUXFTPD_ENGINE_ACCEPTOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine.h"
#include "sys.h"

namespace muxftpd {

class Worker;

class Acceptor {
 public:
  Acceptor(const EngineConfig& config, std::vector<Worker*> workers);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Creates, binds and listens: 0, or -errno with `where` naming the step.
  int Bind(std::string* where);
  void Start();
  void Stop();

  const SockAddr& bound() const { return bound_; }
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t rejected() const { return rejected_.load(); }

 private:
  void Run();
  void AcceptAll();
  void HandOff(int fd, const SockAddr& peer);
  void Reject(int fd);
  void PauseListening(bool paused);

  const EngineConfig& config_;
  std::vector<Worker*> workers_;
  UniqueFd listen_;
  UniqueFd epoll_;
  UniqueFd stop_fd_;
  SockAddr bound_;
  uint64_t next_id_ = 0;
  bool paused_ = false;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> rejected_{0};
  std::thread thread_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_ACCEPTOR_H_
