#include "batch_mailbox.h"

#include <utility>

namespace muxftpd {

int BatchMailbox::Open(uv_loop_t* loop, Drain drain) {
  drain_ = std::move(drain);
  auto* async = new uv_async_t{};
  int r = uv_async_init(loop, async, &BatchMailbox::OnAsync);
  if (r < 0) {
    delete async;
    return r;
  }
  async->data = this;
  async_ = async;
  return 0;
}

void BatchMailbox::Close() {
  if (async_ == nullptr) return;
  async_->data = nullptr;  // a wake already pending finds no mailbox
  uv_close(reinterpret_cast<uv_handle_t*>(async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  async_ = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  waiting_.clear();
}

void BatchMailbox::Leave(DeliveredBatch batch) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = waiting_.empty();
    waiting_.push_back(std::move(batch));
  }
  // Outside the lock: the JS thread never waits on a worker's syscall. A box
  // that was not empty has a wake pending already (Take empties it after the
  // wake has been consumed, so nothing left after that is missed).
  if (was_empty) uv_async_send(async_);
}

void BatchMailbox::OnAsync(uv_async_t* handle) {
  if (auto* self = static_cast<BatchMailbox*>(handle->data)) self->Take();
}

void BatchMailbox::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken_.swap(waiting_);
  }
  if (taken_.empty()) return;
  drain_(taken_);
  taken_.clear();
}

}  // namespace muxftpd
