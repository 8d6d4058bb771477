// A worker's wake eventfd, written only when the worker may be asleep.
//
// Every queue that hands a worker work from another thread (ActionQueue from
// JS, the CompletionQueues from the FileJobs and FileOps threads) pushes under
// its mutex and then calls Signal(). A worker that is awake looks at all its
// queues before it next sleeps, so writing the eventfd then is a wasted
// syscall on the poster's thread, plus a wasted wake-up and read on the
// worker's: on a login-heavy load a fifth of the JS thread's time went there.
//
// Why no wake-up is lost. The worker stores sleeping_ = true (AboutToSleep),
// then takes each queue's mutex to see whether it is empty (HasQueuedWork),
// and sleeps in epoll_wait only if all are. A poster pushes under the mutex,
// then loads sleeping_. Take the worker's last check of that queue before it
// sleeps: if it locked after the push, it saw the work and does not sleep; if
// before, its unlock synchronizes with the push's lock, so the store of true
// happens before the poster's load, and the poster reads true (nothing after
// that store clears it but the worker once awake, or another poster's
// exchange, and that poster writes the eventfd). Since the argument rests on
// the mutex, the flag needs no stronger order than coherence; it is seq_cst
// anyway (an xchg once per sleep, a plain load per post on x86) so that it
// stays a Dekker pair even if a queue ever goes lock-free.
#ifndef MUXFTPD_ENGINE_WAKEUP_H_
#define MUXFTPD_ENGINE_WAKEUP_H_

#include <atomic>

#include "sys.h"

namespace muxftpd {

class Wakeup {
 public:
  Wakeup() = default;
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  int Open() {  // 0 or -errno
    int fd = sys::EventFd();
    if (fd < 0) return fd;
    fd_.Reset(fd);
    return 0;
  }
  int Fd() const { return fd_.Get(); }

  // Any thread, after pushing work under a queue's mutex. The exchange makes
  // one poster of many write the eventfd per sleep; the load before it keeps
  // the locked instruction off the common path, an awake worker.
  void Signal() {
    if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false, std::memory_order_seq_cst)) {
      sys::EventFdSignal(fd_.Get());
    }
  }
  // For wakes that no queue's re-check covers (stop, reads resumed): always.
  void SignalAlways() { sys::EventFdSignal(fd_.Get()); }

  // The worker's thread: before its queues' last check ahead of epoll_wait...
  void AboutToSleep() { sleeping_.store(true, std::memory_order_seq_cst); }
  // ...and once epoll_wait has returned (or was skipped).
  void Awake() { sleeping_.store(false, std::memory_order_seq_cst); }
  void Drain() { sys::EventFdDrain(fd_.Get()); }

 private:
  UniqueFd fd_;
  std::atomic<bool> sleeping_{false};
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_WAKEUP_H_
