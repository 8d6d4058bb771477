#include "codec_probe.h"

#include <string>
#include <vector>

#include "../engine/wire.h"

namespace muxftpd {

namespace {

double Number(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
}

std::string Bytes(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsBuffer()) {
    auto b = v.As<Napi::Buffer<char>>();
    return std::string(b.Data(), b.Length());
  }
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

Napi::Value DecodeActionsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "decodeActions(buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto buf = info[0].As<Napi::Buffer<char>>();
  std::vector<Action> actions;
  if (!DecodeActions(buf.Data(), buf.Length(), &actions)) return env.Null();
  Napi::Array out = Napi::Array::New(env, actions.size());
  for (size_t i = 0; i < actions.size(); ++i) {
    const Action& a = actions[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", static_cast<double>(a.type));
    o.Set("mode", static_cast<double>(a.mode));
    o.Set("op", static_cast<double>(a.op));
    o.Set("flags", static_cast<double>(a.flags));
    o.Set("seq", static_cast<double>(a.seq));
    o.Set("sid", static_cast<double>(a.sid));
    o.Set("offset", static_cast<double>(a.offset));
    o.Set("port", static_cast<double>(a.port));
    o.Set("data", Napi::Buffer<char>::Copy(env, a.data.data(), a.data.size()));
    o.Set("preamble", a.preamble);
    o.Set("epilogue", a.epilogue);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value EncodeEventsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "encodeEvents(events)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array in = info[0].As<Napi::Array>();
  std::vector<Event> events(in.Length());
  for (uint32_t i = 0; i < in.Length(); ++i) {
    Napi::Object o = in.Get(i).As<Napi::Object>();
    Event& e = events[i];
    e.type = static_cast<EventType>(Number(o, "type"));
    e.sid = static_cast<SessionId>(Number(o, "sid"));
    e.seq = static_cast<uint32_t>(Number(o, "seq"));
    e.error = static_cast<int32_t>(Number(o, "error"));
    e.port = static_cast<uint32_t>(Number(o, "port"));
    e.local_port = static_cast<uint32_t>(Number(o, "localPort"));
    e.bytes = static_cast<uint64_t>(Number(o, "bytes"));
    e.too_long = o.Get("tooLong").ToBoolean();
    e.fresh = o.Get("fresh").ToBoolean();
    e.implicit_tls = o.Get("implicitTls").ToBoolean();
    e.late = o.Get("late").ToBoolean();
    e.reason = static_cast<CloseReason>(Number(o, "reason"));
    e.text = Bytes(o, "text");
    e.local = Bytes(o, "local");
  }
  Napi::Buffer<char> out = Napi::Buffer<char>::New(env, EncodedSize(events));
  EncodeEvents(events, out.Data());
  return out;
}

}  // namespace

Napi::Object CodecProbe(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("decodeActions", Napi::Function::New(env, DecodeActionsJs, "decodeActions"));
  o.Set("encodeEvents", Napi::Function::New(env, EncodeEventsJs, "encodeEvents"));
  return o;
}

}  // namespace muxftpd
