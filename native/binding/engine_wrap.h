// The JS face of one Engine: createEngine() returns an instance; its event
// batches reach JS through a BatchMailbox, all that waits in one call.
#ifndef MUXFTPD_BINDING_ENGINE_WRAP_H_
#define MUXFTPD_BINDING_ENGINE_WRAP_H_

#include <napi.h>

#include <memory>
#include <optional>
#include <vector>

#include "../engine/engine.h"
#include "batch_mailbox.h"

namespace muxftpd {

class EngineWrap : public Napi::ObjectWrap<EngineWrap>, public EventSink {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit EngineWrap(const Napi::CallbackInfo& info);
  ~EngineWrap() override;

  void Deliver(int worker, std::unique_ptr<EventBatch> batch) override;

 private:
  // On the JS thread: the batches the mailbox holds, encoded back to back
  // into one buffer and handed to the JS callback in one call.
  void DeliverToJs(std::vector<DeliveredBatch>& batches);
  // The buffer the batches are encoded into: one for every call, grown when
  // one needs more (JS reads it during its call only).
  Napi::Buffer<char> BatchBuffer(Napi::Env env, size_t size);
  // After a call: a buffer grown past kShrinkAbove by one huge batch is let go.
  void ShrinkBatchBuffer();
  Napi::Value Post(const Napi::CallbackInfo& info);
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value StopJs(const Napi::CallbackInfo& info);
  Napi::Value StopAccepting(const Napi::CallbackInfo& info);
  void Stop();

  Engine engine_;
  BatchMailbox mailbox_;
  Napi::FunctionReference on_events_;
  std::unique_ptr<Napi::AsyncContext> async_context_;  // MakeCallback's: nextTicks and microtasks run after each call
  std::optional<Napi::Env::CleanupHook<std::function<void()>>> cleanup_;
  bool running_ = false;
  Napi::Reference<Napi::Buffer<char>> batch_buffer_;
  size_t batch_capacity_ = 0;
};

}  // namespace muxftpd

#endif  // MUXFTPD_BINDING_ENGINE_WRAP_H_
