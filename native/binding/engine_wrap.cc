#include "engine_wrap.h"

#include <cstring>
#include <functional>
#include <string>

namespace muxftpd {

namespace {

// Reads a numeric field, or records a TypeError and returns 0.
double Num(const Napi::Object& obj, const char* key, bool* ok) {
  Napi::Value v = obj.Get(key);
  if (!v.IsNumber()) {
    *ok = false;
    return 0;
  }
  return v.As<Napi::Number>().DoubleValue();
}

std::string Str(const Napi::Object& obj, const char* key, bool* ok) {
  Napi::Value v = obj.Get(key);
  if (!v.IsString()) {
    *ok = false;
    return {};
  }
  return v.As<Napi::String>().Utf8Value();
}

bool ParseConfig(const Napi::Object& o, EngineConfig* c) {
  bool ok = true;
  c->host = Str(o, "host", &ok);
  c->port = static_cast<uint16_t>(Num(o, "port", &ok));
  c->root = Str(o, "root", &ok);
  c->threads = static_cast<int>(Num(o, "threads", &ok));
  c->clients_per_thread = static_cast<int>(Num(o, "clientsPerThread", &ok));
  c->max_clients = static_cast<int>(Num(o, "maxClients", &ok));
  c->block_size = static_cast<size_t>(Num(o, "blockSize", &ok));
  c->pasv_min = static_cast<uint16_t>(Num(o, "pasvMin", &ok));
  c->pasv_max = static_cast<uint16_t>(Num(o, "pasvMax", &ok));
  c->copy_mode = Num(o, "copyMode", &ok) == 1 ? CopyMode::kReadWrite : CopyMode::kSendfile;
  c->max_line = static_cast<size_t>(Num(o, "maxLine", &ok));
  c->max_output = static_cast<size_t>(Num(o, "maxOutput", &ok));
  c->busy_reply = Str(o, "busyReply", &ok);
  return ok && c->block_size > 0 && c->threads > 0 && c->pasv_min <= c->pasv_max;
}

bool ParseAction(const Napi::Object& o, Action* a) {
  bool ok = true;
  a->type = static_cast<ActionType>(Num(o, "type", &ok));
  a->sid = static_cast<SessionId>(Num(o, "sid", &ok));
  switch (a->type) {
    case ActionType::kReply:
      a->data = Str(o, "data", &ok);
      break;
    case ActionType::kListenPassive:
      a->seq = static_cast<uint32_t>(Num(o, "seq", &ok));
      break;
    case ActionType::kConnectActive:
      a->data = Str(o, "host", &ok);
      a->port = static_cast<uint32_t>(Num(o, "port", &ok));
      break;
    case ActionType::kSendFile:
    case ActionType::kRecvFile:
      a->seq = static_cast<uint32_t>(Num(o, "seq", &ok));
      a->data = Str(o, "path", &ok);
      a->offset = static_cast<uint64_t>(Num(o, "offset", &ok));
      if (a->type == ActionType::kRecvFile) {
        a->mode = static_cast<WriteMode>(Num(o, "mode", &ok));
      }
      break;
    case ActionType::kSendBuffer: {
      a->seq = static_cast<uint32_t>(Num(o, "seq", &ok));
      Napi::Value v = o.Get("data");
      if (!v.IsBuffer()) return false;
      auto buf = v.As<Napi::Buffer<char>>();
      a->data.assign(buf.Data(), buf.Length());
      break;
    }
    case ActionType::kAbort:
    case ActionType::kClose:
      break;
    default:
      return false;
  }
  return ok;
}

Napi::Object EventToJs(Napi::Env env, const Event& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", static_cast<double>(e.type));
  o.Set("sid", static_cast<double>(e.sid));
  switch (e.type) {
    case EventType::kOpen:
      o.Set("peer", e.text);
      o.Set("peerPort", static_cast<double>(e.port));
      o.Set("local", e.local);
      o.Set("localPort", static_cast<double>(e.local_port));
      break;
    case EventType::kLine:
      o.Set("line", Napi::Buffer<char>::Copy(env, e.text.data(), e.text.size()));
      o.Set("tooLong", e.too_long);
      break;
    case EventType::kPassiveReady:
      o.Set("seq", static_cast<double>(e.seq));
      o.Set("port", static_cast<double>(e.port));
      o.Set("error", static_cast<double>(e.error));
      break;
    case EventType::kDataReady:
      o.Set("error", static_cast<double>(e.error));
      break;
    case EventType::kTransferDone:
      o.Set("seq", static_cast<double>(e.seq));
      o.Set("bytes", static_cast<double>(e.bytes));
      o.Set("error", static_cast<double>(e.error));
      break;
    case EventType::kClosed:
      o.Set("reason", static_cast<double>(e.reason));
      break;
  }
  return o;
}

}  // namespace

void DeliverBatchToJs(Napi::Env env, Napi::Function callback, EngineWrap* wrap,
                      DeliveredBatch* data) {
  std::unique_ptr<DeliveredBatch> owned(data);  // freed even when env is gone (teardown)
  if (env == nullptr || callback.IsEmpty()) return;
  const EventBatch& batch = *owned->batch;
  Napi::Array arr = Napi::Array::New(env, batch.size());
  for (size_t i = 0; i < batch.size(); ++i) arr.Set(static_cast<uint32_t>(i), EventToJs(env, batch[i]));
  callback.Call({arr});
  if (env.IsExceptionPending()) {
    // The JS handler threw: surface it as an uncaught exception, as Node would.
    Napi::Error err = env.GetAndClearPendingException();
    napi_fatal_exception(env, err.Value());
  }
  wrap->BatchConsumed(owned->worker);
}

Napi::Function EngineWrap::DefineClass(Napi::Env env) {
  return ObjectWrap<EngineWrap>::DefineClass(
      env, "NativeEngine",
      {InstanceMethod<&EngineWrap::Post>("post"), InstanceMethod<&EngineWrap::Address>("address"),
       InstanceMethod<&EngineWrap::Stats>("stats"), InstanceMethod<&EngineWrap::StopJs>("stop")});
}

EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : ObjectWrap<EngineWrap>(info) {
  Napi::Env env = info.Env();
  EngineConfig config;
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction() ||
      !ParseConfig(info[0].As<Napi::Object>(), &config)) {
    Napi::TypeError::New(env, "createEngine(config, onEvents): bad arguments").ThrowAsJavaScriptException();
    return;
  }
  tsfn_ = BatchTsfn::New(env, info[1].As<Napi::Function>(), "muxftpd-events", 0, 1, this);
  std::string where;
  int r = engine_.Start(config, this, &where);
  if (r < 0) {
    tsfn_.Release();
    Napi::Error err = Napi::Error::New(env, "muxftpd: cannot " + where + ": " + strerror(-r));
    err.Set("code", Napi::String::New(env, "MUXFTPD_ERR_START"));
    err.Set("errno", Napi::Number::New(env, r));
    err.ThrowAsJavaScriptException();
    return;
  }
  running_ = true;
  // Keep this object alive while threads may call back into it.
  Ref();
  // If Node tears the environment down without stop(), the threads must still
  // be joined before the addon's code goes away.
  cleanup_.emplace(env.AddCleanupHook(std::function<void()>([this] { Stop(); })));
}

EngineWrap::~EngineWrap() { engine_.Stop(); }

void EngineWrap::Deliver(int worker, std::unique_ptr<EventBatch> batch) {
  auto* data = new DeliveredBatch{worker, std::move(batch)};
  if (tsfn_.NonBlockingCall(data) != napi_ok) delete data;  // only when closing
}

void EngineWrap::Stop() {
  if (!running_) return;
  running_ = false;
  engine_.Stop();  // after this no thread delivers anything
  tsfn_.Release();
}

Napi::Value EngineWrap::Post(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "post(actions): expected an array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<Action> actions(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject() || !ParseAction(v.As<Napi::Object>(), &actions[i])) {
      Napi::TypeError::New(env, "post(actions): bad action at index " + std::to_string(i))
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  if (running_) engine_.Post(std::move(actions));
  return env.Undefined();
}

Napi::Value EngineWrap::Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SockAddr a = engine_.BoundAddress();
  Napi::Object o = Napi::Object::New(env);
  o.Set("host", a.HostString());
  o.Set("port", static_cast<double>(a.len ? a.Port() : 0));
  return o;
}

Napi::Value EngineWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EngineStats s = engine_.Stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("sessions", static_cast<double>(s.sessions));
  Napi::Array per = Napi::Array::New(env, s.per_worker.size());
  for (size_t i = 0; i < s.per_worker.size(); ++i) per.Set(static_cast<uint32_t>(i), static_cast<double>(s.per_worker[i]));
  o.Set("perWorker", per);
  o.Set("accepted", static_cast<double>(s.accepted));
  o.Set("rejected", static_cast<double>(s.rejected));
  return o;
}

Napi::Value EngineWrap::StopJs(const Napi::CallbackInfo& info) {
  if (running_) {
    Stop();
    if (cleanup_) {
      cleanup_->Remove(info.Env());
      cleanup_.reset();
    }
    Unref();
  }
  return info.Env().Undefined();
}

}  // namespace muxftpd
