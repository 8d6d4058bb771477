// Cross-thread work for one worker: JS appends action records (bytes) under a
// mutex, the worker swaps the whole buffer out (double buffering, uWS
// Loop::defer shape), once per loop iteration, and decodes them. The worker's
// eventfd is written only when the worker may be asleep (wakeup.h says why no
// wake-up is lost).
#ifndef MUXFTPD_ENGINE_ACTION_QUEUE_H_
#define MUXFTPD_ENGINE_ACTION_QUEUE_H_

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "wakeup.h"

namespace muxftpd {

class ActionQueue {
 public:
  explicit ActionQueue(Wakeup& wake) : wake_(wake) {}

  // Appends action records (checked: wire.h CheckActions). They stay bytes
  // until the worker decodes them, so the poster's thread allocates nothing
  // per action: a copy into a buffer that keeps its capacity.
  void Push(const char* p, size_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.insert(pending_.end(), p, p + n);
    }
    wake_.Signal();
  }

  // On the worker's thread, after Wakeup::AboutToSleep.
  bool HasPending() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !pending_.empty();
  }

  // Swaps the queued records into `out` (which the caller has emptied): the
  // two buffers trade places, so neither is allocated again once grown.
  void TakeAll(std::vector<char>* out) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(pending_, *out);
  }

 private:
  Wakeup& wake_;
  std::mutex mutex_;
  std::vector<char> pending_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_ACTION_QUEUE_H_
