// When a worker hands its event batch to JS (Worker::FlushEvents).
//
// Each batch handed over wakes the JS thread, and on a loaded server that
// sleep and wake-up cost more than most of the events in it: a login's five
// events cost the JS thread less than its wake-ups did. Under load a worker
// runs several loop turns back to back (each epoll_wait finds more ready), so
// the batch is held over those turns and goes once a turn finds nothing new
// (the worker would sleep next, unless transfers keep it busy), or after
// kMaxTurns turns, or once it has waited kMaxWait since the end of its first
// turn: a line waits at most about kMaxWait plus one turn longer than before.
#ifndef MUXFTPD_ENGINE_BATCH_HOLD_H_
#define MUXFTPD_ENGINE_BATCH_HOLD_H_

#include <chrono>

namespace muxftpd {

class BatchHold {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxTurns = 4;
  static constexpr std::chrono::microseconds kMaxWait{100};

  // At the end of a turn whose batch is not empty; `ready` is what the turn's
  // epoll_wait returned. True: hand the batch over now.
  bool Deliver(int ready, Clock::time_point now) {
    if (turns_ == 0) since_ = now;
    if (ready == 0 || ++turns_ >= kMaxTurns || now - since_ >= kMaxWait) {
      turns_ = 0;
      return true;
    }
    return false;
  }

 private:
  int turns_ = 0;             // turns the batch has been held over
  Clock::time_point since_;   // the end of the first of them
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_BATCH_HOLD_H_
