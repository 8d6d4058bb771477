// The addon's entry: createEngine() and the constants that TS checks against
// its own mirror of native/engine/protocol.h.
#include <napi.h>

#include "../engine/protocol.h"
#include "engine_wrap.h"

namespace muxftpd {
namespace {

struct AddonData {
  Napi::FunctionReference engine_class;
};

Napi::Value CreateEngine(const Napi::CallbackInfo& info) {
  auto* data = info.Env().GetInstanceData<AddonData>();
  std::vector<napi_value> args(info.Length());
  for (size_t i = 0; i < info.Length(); ++i) args[i] = info[i];
  return data->engine_class.New(args);
}

template <typename E>
void Put(Napi::Object obj, const char* name, E value) {
  obj.Set(name, static_cast<double>(value));
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object events = Napi::Object::New(env);
  Put(events, "Open", EventType::kOpen);
  Put(events, "Line", EventType::kLine);
  Put(events, "PassiveReady", EventType::kPassiveReady);
  Put(events, "DataFailed", EventType::kDataFailed);
  Put(events, "TransferDone", EventType::kTransferDone);
  Put(events, "Closed", EventType::kClosed);
  Put(events, "InputEnded", EventType::kInputEnded);
  Put(events, "TransferStarted", EventType::kTransferStarted);
  Napi::Object actions = Napi::Object::New(env);
  Put(actions, "Reply", ActionType::kReply);
  Put(actions, "ListenPassive", ActionType::kListenPassive);
  Put(actions, "ConnectActive", ActionType::kConnectActive);
  Put(actions, "SendFile", ActionType::kSendFile);
  Put(actions, "SendBuffer", ActionType::kSendBuffer);
  Put(actions, "RecvFile", ActionType::kRecvFile);
  Put(actions, "Abort", ActionType::kAbort);
  Put(actions, "Close", ActionType::kClose);
  Napi::Object reasons = Napi::Object::New(env);
  Put(reasons, "PeerClosed", CloseReason::kPeerClosed);
  Put(reasons, "Requested", CloseReason::kRequested);
  Put(reasons, "IoError", CloseReason::kIoError);
  Put(reasons, "OutputOverflow", CloseReason::kOutputOverflow);
  Put(reasons, "Shutdown", CloseReason::kShutdown);
  Put(reasons, "CloseTimeout", CloseReason::kCloseTimeout);
  Napi::Object errors = Napi::Object::New(env);
  Put(errors, "Ok", TransferError::kOk);
  Put(errors, "Aborted", TransferError::kAborted);
  Put(errors, "NoDataConnection", TransferError::kNoDataConnection);
  Put(errors, "PeerClosed", TransferError::kPeerClosed);
  Put(errors, "ConnectFailed", TransferError::kConnectFailed);
  Put(errors, "Timeout", TransferError::kTimeout);
  Napi::Object c = Napi::Object::New(env);
  c.Set("events", events);
  c.Set("actions", actions);
  c.Set("closeReasons", reasons);
  c.Set("transferErrors", errors);
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->engine_class = Napi::Persistent(EngineWrap::DefineClass(env));
  env.SetInstanceData(data);
  exports.Set("createEngine", Napi::Function::New(env, CreateEngine, "createEngine"));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace
}  // namespace muxftpd

static Napi::Object InitMuxftpd(Napi::Env env, Napi::Object exports) {
  return muxftpd::Init(env, exports);
}

NODE_API_MODULE(muxftpd, InitMuxftpd)
