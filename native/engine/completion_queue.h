// Results that other threads hand back to one worker (a FileJobs job's, a
// FileOps answer): pushed under a mutex, each push signalling the worker's
// Wakeup (which writes its eventfd only if the worker may be asleep), and taken by the worker in one swap (ActionQueue's shape, for
// one result at a time).
#ifndef MUXFTPD_ENGINE_COMPLETION_QUEUE_H_
#define MUXFTPD_ENGINE_COMPLETION_QUEUE_H_

#include <mutex>
#include <utility>
#include <vector>

#include "wakeup.h"

namespace muxftpd {

template <typename T>
class CompletionQueue {
 public:
  // `wake`: the worker's, opened after the queue is made and before anything
  // can push.
  explicit CompletionQueue(Wakeup& wake) : wake_(wake) {}
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  // From any thread.
  void Push(T result) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.push_back(std::move(result));
    }
    wake_.Signal();
  }

  // On the worker's thread, after Wakeup::AboutToSleep.
  bool HasPending() {
    std::lock_guard<std::mutex> lock(mu_);
    return !pending_.empty();
  }

  // On the worker's thread: `apply(T&)` for each result pushed since the last
  // drain, in order, with the lock released (apply may lead to more pushes).
  template <typename Apply>
  void Drain(Apply&& apply) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty()) return;
      taken_.swap(pending_);
    }
    for (T& result : taken_) apply(result);
    taken_.clear();
  }

 private:
  Wakeup& wake_;
  std::mutex mu_;
  std::vector<T> pending_;  // guarded by mu_
  std::vector<T> taken_;    // the worker's swap buffer
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_COMPLETION_QUEUE_H_
