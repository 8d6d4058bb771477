#include "engine_wrap.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <string>

#include "../engine/wire.h"

namespace muxftpd {

namespace {

// Typed reads of one config field; false when the JS value is missing or of
// the wrong kind (TS validated it already: this is the cheap re-check).
bool Read(Napi::Value v, std::string* out) {
  if (!v.IsString()) return false;
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

bool Read(Napi::Value v, bool* out) {
  if (!v.IsBoolean()) return false;
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

template <typename T>
bool Read(Napi::Value v, T* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  // A whole number the field can hold (a NaN fails every test).
  if (!(d >= 0 && d <= static_cast<double>(std::numeric_limits<T>::max()) && d == static_cast<T>(d))) return false;
  *out = static_cast<T>(d);
  return true;
}

// -1 (none) or an fd number.
bool Read(Napi::Value v, OptionalFd* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (d == -1) {
    out->value = -1;
    return true;
  }
  return Read(v, &out->value);
}

bool Read(Napi::Value v, CopyMode* out) {
  uint8_t raw = 0;
  if (!Read(v, &raw)) return false;
  switch (static_cast<CopyMode>(raw)) {
#define MUXFTPD_CASE(name, value) case CopyMode::k##name:
    MUXFTPD_COPY_MODES(MUXFTPD_CASE)
#undef MUXFTPD_CASE
    *out = static_cast<CopyMode>(raw);
    return true;
  }
  return false;
}

// null or undefined: no TLS; else { cert, key, sessionReuse, implicitPort?, ktls }.
bool Read(Napi::Value v, TlsConfig* out) {
  *out = TlsConfig{};
  if (v.IsNull() || v.IsUndefined()) return true;
  if (!v.IsObject()) return false;
  Napi::Object o = v.As<Napi::Object>();
  std::string reuse, ktls;
  if (!Read(o.Get("cert"), &out->cert) || !Read(o.Get("key"), &out->key) ||
      !Read(o.Get("sessionReuse"), &reuse) || !Read(o.Get("ktls"), &ktls)) {
    return false;
  }
  if ((reuse != "required" && reuse != "optional") || (ktls != "auto" && ktls != "off")) return false;
  out->reuse_required = reuse == "required";
  out->ktls = ktls == "auto";
  Napi::Value port = o.Get("implicitPort");
  if (!port.IsUndefined() && !port.IsNull()) {
    if (!Read(port, &out->implicit_port)) return false;
    out->implicit = true;
  }
  out->enabled = true;
  return true;
}

// Every field of MUXFTPD_ENGINE_CONFIG, by its JS name; `bad` names the first that failed.
bool ParseConfig(const Napi::Object& o, EngineConfig* c, std::string* bad) {
#define MUXFTPD_READ(member, js_name, Type) \
  if (!Read(o.Get(#js_name), &c->member)) {  \
    *bad = #js_name;                         \
    return false;                            \
  }
  MUXFTPD_ENGINE_CONFIG(MUXFTPD_READ)
#undef MUXFTPD_READ
  if (c->block_size == 0 || c->threads <= 0 || c->pasv_min > c->pasv_max) {
    *bad = "blockSize, threads or pasvMin..pasvMax";
    return false;
  }
  return true;
}

}  // namespace

namespace {
constexpr size_t kBatchBufferInitial = 64 * 1024;
constexpr size_t kShrinkAbove = 1024 * 1024;
}  // namespace

void EngineWrap::DeliverToJs(std::vector<DeliveredBatch>& batches) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  // One buffer for everything waiting, its length beside it: no N-API
  // allocation (an ArrayBuffer, its backing store, a Buffer) per batch, nor an
  // object per event. The records carry their session ids, so batches of
  // several workers simply follow one another.
  size_t size = 0;
  for (const DeliveredBatch& d : batches) size += EncodedSize(*d.batch);
  Napi::Buffer<char> packed = BatchBuffer(env, size);
  size_t at = 0;
  for (const DeliveredBatch& d : batches) {
    EncodeEvents(*d.batch, packed.Data() + at);
    at += EncodedSize(*d.batch);
  }
  on_events_.MakeCallback(env.Global(), {packed, Napi::Number::New(env, static_cast<double>(size))},
                          *async_context_);
  if (env.IsExceptionPending()) {
    // The JS handler threw: surface it as an uncaught exception, as Node would.
    Napi::Error err = env.GetAndClearPendingException();
    napi_fatal_exception(env, err.Value());
  }
  ShrinkBatchBuffer();
  for (const DeliveredBatch& d : batches) engine_.BatchConsumed(d.worker);
}

Napi::Buffer<char> EngineWrap::BatchBuffer(Napi::Env env, size_t size) {
  if (size > batch_capacity_ || batch_buffer_.IsEmpty()) {
    size_t capacity = std::max({size, batch_capacity_ * 2, kBatchBufferInitial});
    batch_buffer_ = Napi::Persistent(Napi::Buffer<char>::New(env, capacity));
    batch_capacity_ = capacity;
  }
  return batch_buffer_.Value();
}

void EngineWrap::ShrinkBatchBuffer() {
  if (batch_capacity_ <= kShrinkAbove) return;
  batch_buffer_.Reset();
  batch_capacity_ = 0;
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
  std::string bad = "config";
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction() ||
      !ParseConfig(info[0].As<Napi::Object>(), &config, &bad)) {
    Napi::TypeError::New(env, "createEngine(config, onEvents): bad " + bad).ThrowAsJavaScriptException();
    return;
  }
  on_events_ = Napi::Persistent(info[1].As<Napi::Function>());
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "muxftpd-events");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
      mailbox_.Open(loop, [this](std::vector<DeliveredBatch>& batches) { DeliverToJs(batches); }) < 0) {
    Napi::Error::New(env, "muxftpd: cannot open the event mailbox").ThrowAsJavaScriptException();
    return;
  }
  std::string where;
  int r = engine_.Start(config, this, &where);
  if (r < 0) {
    mailbox_.Close();
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
  cleanup_.emplace(env.AddCleanupHook(std::function<void()>([this] {
    Stop();
    batch_buffer_.Reset();
    on_events_.Reset();
    async_context_.reset();
  })));
}

EngineWrap::~EngineWrap() { engine_.Stop(); }

void EngineWrap::Deliver(int worker, std::unique_ptr<EventBatch> batch) {
  mailbox_.Leave(DeliveredBatch{worker, std::move(batch)});
}

void EngineWrap::Stop() {
  if (!running_) return;
  running_ = false;
  engine_.Stop();  // after this no thread delivers anything
  mailbox_.Close();
}

Napi::Value EngineWrap::Post(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "post(actions): expected a Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto buf = info[0].As<Napi::Buffer<char>>();
  // Checked here, so a bug in JS throws at its post; decoded on the workers.
  if (!CheckActions(buf.Data(), buf.Length())) {
    Napi::TypeError::New(env, "post(actions): malformed action buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (running_) engine_.Post(buf.Data(), buf.Length());
  return env.Undefined();
}

Napi::Value EngineWrap::Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SockAddr a = engine_.BoundAddress();
  SockAddr implicit = engine_.ImplicitTlsAddress();
  Napi::Object o = Napi::Object::New(env);
  o.Set("host", a.HostString());
  o.Set("port", static_cast<double>(a.len ? a.Port() : 0));
  o.Set("implicitTlsPort", static_cast<double>(implicit.len ? implicit.Port() : 0));
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
  o.Set("rejectedPerIp", static_cast<double>(s.rejected_per_ip));
  o.Set("fdLimit", static_cast<double>(s.fd_limit));
  o.Set("passiveControlPeer", static_cast<double>(s.passive_control_peer));
  Napi::Object tls = Napi::Object::New(env);
  tls.Set("controlHandshakes", static_cast<double>(s.tls.control_handshakes));
  tls.Set("controlSwitched", static_cast<double>(s.tls.control_switched));
  tls.Set("controlFailures", static_cast<double>(s.tls.control_failures));
  tls.Set("implicitFailures", static_cast<double>(s.tls.implicit_failures));
  tls.Set("dataHandshakes", static_cast<double>(s.tls.data_handshakes));
  tls.Set("dataFailures", static_cast<double>(s.tls.data_failures));
  tls.Set("dataNotResumed", static_cast<double>(s.tls.data_not_resumed));
  tls.Set("ktlsTransfers", static_cast<double>(s.tls.ktls_transfers));
  o.Set("tls", tls);
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
