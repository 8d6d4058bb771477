// The JS face of one Engine: createEngine() returns an instance; its event
// batches reach JS through one TypedThreadSafeFunction.
#ifndef MUXFTPD_BINDING_ENGINE_WRAP_H_
#define MUXFTPD_BINDING_ENGINE_WRAP_H_

#include <napi.h>

#include <memory>
#include <optional>
#include <vector>

#include "../engine/engine.h"

namespace muxftpd {

class EngineWrap;

// One worker's batch on its way to the JS thread.
struct DeliveredBatch {
  int worker;
  std::unique_ptr<EventBatch> batch;
};

void DeliverBatchToJs(Napi::Env env, Napi::Function callback, EngineWrap* wrap,
                      DeliveredBatch* data);

using BatchTsfn = Napi::TypedThreadSafeFunction<EngineWrap, DeliveredBatch, DeliverBatchToJs>;

class EngineWrap : public Napi::ObjectWrap<EngineWrap>, public EventSink {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit EngineWrap(const Napi::CallbackInfo& info);
  ~EngineWrap() override;

  void Deliver(int worker, std::unique_ptr<EventBatch> batch) override;
  void BatchConsumed(int worker) { engine_.BatchConsumed(worker); }
  // The buffer the batches are encoded into, on the JS thread: one for every
  // batch, grown when one needs more (JS reads a batch during its call only).
  Napi::Buffer<char> BatchBuffer(Napi::Env env, size_t size);
  // After a batch: a buffer grown past kShrinkAbove by one huge batch is let go.
  void ShrinkBatchBuffer();

 private:
  Napi::Value Post(const Napi::CallbackInfo& info);
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value StopJs(const Napi::CallbackInfo& info);
  Napi::Value StopAccepting(const Napi::CallbackInfo& info);
  void Stop();

  Engine engine_;
  BatchTsfn tsfn_;
  std::optional<Napi::Env::CleanupHook<std::function<void()>>> cleanup_;
  bool running_ = false;
  Napi::Reference<Napi::Buffer<char>> batch_buffer_;
  // post()'s decoded actions: a vector kept, so that posting allocates none (ActionQueue::Push).
  std::vector<Action> post_actions_;
  size_t batch_capacity_ = 0;
};

}  // namespace muxftpd

#endif  // MUXFTPD_BINDING_ENGINE_WRAP_H_
