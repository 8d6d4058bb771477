// Cross-thread work for one worker: JS appends under a mutex, the worker swaps
// the whole vector out (double buffering, uWS Loop::defer shape), once per
// loop iteration. The worker's eventfd is written only when the worker may be
// asleep (wakeup.h says why no wake-up is lost).
#ifndef MUXFTPD_ENGINE_ACTION_QUEUE_H_
#define MUXFTPD_ENGINE_ACTION_QUEUE_H_

#include <mutex>
#include <utility>
#include <vector>

#include "protocol.h"
#include "wakeup.h"

namespace muxftpd {

class ActionQueue {
 public:
  explicit ActionQueue(Wakeup& wake) : wake_(wake) {}

  // Queues `actions`, which come back empty: when the queue was empty, they
  // come back holding its buffer, one the worker is done with (TakeAll swaps
  // its own in), so a caller that keeps its vector allocates none per call.
  // (Growing a fresh vector to a few KiB made glibc consolidate its fast
  // bins on every post of a busy JS thread: 5% of its time.)
  void Push(std::vector<Action>&& actions) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pending_.empty()) {
        pending_.swap(actions);
      } else {
        for (auto& a : actions) pending_.push_back(std::move(a));
      }
    }
    actions.clear();
    wake_.Signal();
  }

  // On the worker's thread, after Wakeup::AboutToSleep.
  bool HasPending() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !pending_.empty();
  }

  // Swaps the queued actions into `out` (which the caller has emptied).
  void TakeAll(std::vector<Action>* out) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(pending_, *out);
  }

 private:
  Wakeup& wake_;
  std::mutex mutex_;
  std::vector<Action> pending_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_ACTION_QUEUE_H_
