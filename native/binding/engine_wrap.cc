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

// An optional numeric field: absent or undefined keeps the default.
void OptNum(const Napi::Object& o, const char* key, uint64_t* out, bool* ok) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return;
  if (!v.IsNumber()) {
    *ok = false;
    return;
  }
  *out = static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
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
  OptNum(o, "dataTimeoutMs", &c->data_timeout_ms, &ok);
  OptNum(o, "closeTimeoutMs", &c->close_timeout_ms, &ok);
  OptNum(o, "maxRate", &c->max_rate, &ok);
  OptNum(o, "maxRatePerClient", &c->max_rate_per_client, &ok);
  OptNum(o, "writeBehind", &c->write_behind, &ok);
  return ok && c->block_size > 0 && c->threads > 0 && c->pasv_min <= c->pasv_max;
}

// Decodes the actions JS packed into one buffer (src/engine/actions.ts owns
// the layout; little-endian, records back to back):
//   0 u8 type | 1 u8 write mode | 2 u16 0 | 4 u32 seq | 8 f64 sid
//   16 f64 offset | 24 u32 port | 28 u32 data length | 32 u32 preamble length
//   36 u32 epilogue length | 40 data | preamble | epilogue
// false on a malformed buffer (a bug on the JS side): nothing is posted then.
constexpr size_t kActionHeader = 40;

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool ParseActions(const char* p, size_t n, std::vector<Action>* out) {
  size_t at = 0;
  while (at < n) {
    if (n - at < kActionHeader) return false;
    const char* h = p + at;
    uint32_t data_len = Load<uint32_t>(h + 28);
    uint32_t preamble_len = Load<uint32_t>(h + 32);
    uint32_t epilogue_len = Load<uint32_t>(h + 36);
    size_t body = static_cast<size_t>(data_len) + preamble_len + epilogue_len;
    if (n - at - kActionHeader < body) return false;
    auto type = static_cast<uint8_t>(h[0]);
    if (type < static_cast<uint8_t>(ActionType::kReply) || type > static_cast<uint8_t>(ActionType::kClose)) return false;
    Action& a = out->emplace_back();
    a.type = static_cast<ActionType>(type);
    a.mode = static_cast<WriteMode>(static_cast<uint8_t>(h[1]));
    double sid = Load<double>(h + 8);
    double offset = Load<double>(h + 16);
    // Integers below 2^53, as JS numbers hold them (a NaN fails both tests).
    if (!(sid >= 0 && sid < 0x1p53) || !(offset >= 0 && offset < 0x1p53)) return false;
    a.seq = Load<uint32_t>(h + 4);
    a.sid = static_cast<SessionId>(sid);
    a.offset = static_cast<uint64_t>(offset);
    a.port = Load<uint32_t>(h + 24);
    a.data.assign(h + kActionHeader, data_len);
    a.preamble.assign(h + kActionHeader + data_len, preamble_len);
    a.epilogue.assign(h + kActionHeader + data_len + preamble_len, epilogue_len);
    at += kActionHeader + body;
  }
  return true;
}

// Packs a batch into one byte buffer, so a batch costs one N-API allocation
// instead of an object per event. The record layout (little-endian) is
// documented, and decoded, in src/engine/native.ts:
//   0 u8 type | 1 u8 flag | 2 u16 second text length | 4 u32 text length
//   8 f64 sid | 16 u32 seq | 20 i32 error | 24 u32 port | 28 u32 local port
//   32 f64 bytes | 40 text | second text
constexpr size_t kRecordHeader = 40;

template <typename T>
void Put(char* at, T value) {
  memcpy(at, &value, sizeof value);
}

Napi::Buffer<char> PackBatch(Napi::Env env, const EventBatch& batch) {
  size_t total = 0;
  for (const Event& e : batch) total += kRecordHeader + e.text.size() + e.local.size();
  Napi::Buffer<char> buf = Napi::Buffer<char>::New(env, total);
  char* p = buf.Data();
  for (const Event& e : batch) {
    uint8_t flag = e.type == EventType::kClosed ? static_cast<uint8_t>(e.reason) : (e.too_long ? 1 : 0);
    Put<uint8_t>(p, static_cast<uint8_t>(e.type));
    Put<uint8_t>(p + 1, flag);
    Put<uint16_t>(p + 2, static_cast<uint16_t>(e.local.size()));
    Put<uint32_t>(p + 4, static_cast<uint32_t>(e.text.size()));
    Put<double>(p + 8, static_cast<double>(e.sid));
    Put<uint32_t>(p + 16, e.seq);
    Put<int32_t>(p + 20, e.error);
    Put<uint32_t>(p + 24, e.port);
    Put<uint32_t>(p + 28, e.local_port);
    Put<double>(p + 32, static_cast<double>(e.bytes));
    memcpy(p + kRecordHeader, e.text.data(), e.text.size());
    memcpy(p + kRecordHeader + e.text.size(), e.local.data(), e.local.size());
    p += kRecordHeader + e.text.size() + e.local.size();
  }
  return buf;
}

}  // namespace

void DeliverBatchToJs(Napi::Env env, Napi::Function callback, EngineWrap* wrap,
                      DeliveredBatch* data) {
  std::unique_ptr<DeliveredBatch> owned(data);  // freed even when env is gone (teardown)
  if (env == nullptr || callback.IsEmpty()) return;
  callback.Call({PackBatch(env, *owned->batch)});
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
       InstanceMethod<&EngineWrap::Stats>("stats"), InstanceMethod<&EngineWrap::StopJs>("stop"),
       InstanceMethod<&EngineWrap::StopAccepting>("stopAccepting")});
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
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "post(actions): expected a Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto buf = info[0].As<Napi::Buffer<char>>();
  std::vector<Action> actions;
  if (!ParseActions(buf.Data(), buf.Length(), &actions)) {
    Napi::TypeError::New(env, "post(actions): malformed action buffer").ThrowAsJavaScriptException();
    return env.Undefined();
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
  Napi::Array loops = Napi::Array::New(env, s.loops.size());
  for (size_t i = 0; i < s.loops.size(); ++i) {
    Napi::Object l = Napi::Object::New(env);
    l.Set("iterations", static_cast<double>(s.loops[i].iterations));
    l.Set("batches", static_cast<double>(s.loops[i].batches));
    l.Set("events", static_cast<double>(s.loops[i].events));
    loops.Set(static_cast<uint32_t>(i), l);
  }
  o.Set("loops", loops);
  o.Set("accepted", static_cast<double>(s.accepted));
  o.Set("rejected", static_cast<double>(s.rejected));
  o.Set("fdLimit", static_cast<double>(s.fd_limit));
  return o;
}

Napi::Value EngineWrap::StopAccepting(const Napi::CallbackInfo& info) {
  if (running_) engine_.StopAccepting();
  return info.Env().Undefined();
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
