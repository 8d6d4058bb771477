// Where the workers leave their event batches for the JS thread, in place of
// a ThreadSafeFunction.
//
// Node's ThreadSafeFunction queues one item per call and writes its uv_async
// while holding the queue's mutex, and its JS-side callback takes that mutex
// once per item: with a worker posting a batch per loop turn, the JS thread
// slept on that futex for a tenth of its time (perf, login load, issue 22).
// Here a worker pushes under a mutex held for a vector push only, wakes the
// loop only when the box was empty (uv_async_send coalesces the rest), and the
// JS thread takes everything waiting in one swap and one call into JS.
#ifndef MUXFTPD_BINDING_BATCH_MAILBOX_H_
#define MUXFTPD_BINDING_BATCH_MAILBOX_H_

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "../engine/engine.h"

namespace muxftpd {

// One worker's batch on its way to the JS thread.
struct DeliveredBatch {
  int worker;
  std::unique_ptr<EventBatch> batch;
};

class BatchMailbox {
 public:
  // `drain` runs on the loop's thread with the batches taken (in the order
  // they were left, which keeps each worker's order).
  using Drain = std::function<void(std::vector<DeliveredBatch>&)>;

  BatchMailbox() = default;
  BatchMailbox(const BatchMailbox&) = delete;
  BatchMailbox& operator=(const BatchMailbox&) = delete;
  ~BatchMailbox() { Close(); }

  // On the loop's thread. 0 or a libuv error.
  int Open(uv_loop_t* loop, Drain drain);
  // On the loop's thread, once no thread can Leave any more. The uv handle
  // is freed by libuv's close callback, so this object may go first.
  void Close();

  // Any thread.
  void Leave(DeliveredBatch batch);

 private:
  static void OnAsync(uv_async_t* handle);
  void Take();

  uv_async_t* async_ = nullptr;  // owned by libuv between uv_close and its callback
  Drain drain_;
  std::mutex mu_;
  std::vector<DeliveredBatch> waiting_;  // guarded by mu_
  std::vector<DeliveredBatch> taken_;    // the loop thread's swap buffer
};

}  // namespace muxftpd

#endif  // MUXFTPD_BINDING_BATCH_MAILBOX_H_
