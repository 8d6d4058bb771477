// The addon's entry: createEngine(), createClientLedger(), the constants of
// protocol.h and engine.h that src/engine/native.ts reads, and the codec
// probe its boundary test uses.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

#include "../engine/client_ledger.h"
#include "../engine/engine.h"
#include "../engine/protocol.h"
#include "../engine/tls_context.h"
#include "codec_probe.h"
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

// createClientLedger(maxClients): the fd of a fresh client ledger segment
// (close-on-exec), for a primary to hand its server processes as their
// ledgerFd. The caller owns it and closes it.
Napi::Value CreateClientLedger(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double max_clients = info.Length() == 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  if (!(max_clients >= 1 && max_clients <= UINT32_MAX && max_clients == static_cast<uint32_t>(max_clients))) {
    Napi::TypeError::New(env, "createClientLedger(maxClients): a whole number >= 1").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = ClientLedger::CreateSegment(static_cast<uint32_t>(max_clients));
  if (fd < 0) {
    Napi::Error e = Napi::Error::New(env, std::string("createClientLedger: ") + std::strerror(-fd));
    e.Set("errno", static_cast<double>(fd));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// makeSelfSignedCertificate(commonName): { cert, key, fingerprint } (--tls-cert auto).
Napi::Value MakeSelfSigned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "makeSelfSignedCertificate(commonName): a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  SelfSigned made;
  std::string error;
  if (MakeSelfSignedCertificate(info[0].As<Napi::String>().Utf8Value(), &made, &error) < 0) {
    Napi::Error::New(env, "makeSelfSignedCertificate: " + error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("cert", made.cert);
  o.Set("key", made.key);
  o.Set("fingerprint", made.fingerprint);
  return o;
}

Napi::Object Enum(Napi::Env env, std::initializer_list<std::pair<const char*, double>> values) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [name, value] : values) o.Set(name, value);
  return o;
}

template <typename T>
const char* WireType() {
  if constexpr (std::is_same_v<T, wire::u8>) return "u8";
  if constexpr (std::is_same_v<T, wire::u16>) return "u16";
  if constexpr (std::is_same_v<T, wire::u32>) return "u32";
  if constexpr (std::is_same_v<T, wire::i32>) return "i32";
  if constexpr (std::is_same_v<T, wire::u64>) return "u64";
  if constexpr (std::is_same_v<T, wire::f64>) return "f64";
}

template <typename T>
const char* ConfigType() {
  if constexpr (std::is_same_v<T, std::string>) return "string";
  if constexpr (std::is_same_v<T, bool>) return "boolean";
  if constexpr (std::is_same_v<T, TlsConfig>) return "object";  // or null: typeof null is 'object'
  return "number";
}

// One header field of a record, as a MUXFTPD_*_FIELDS list declares it.
struct WireField {
  const char* name;
  size_t offset;
  const char* type;
};

// A record's layout for src/engine/native.ts: { header, fields: { name: { offset, type } } }.
Napi::Object Layout(Napi::Env env, size_t header, std::initializer_list<WireField> fields) {
  Napi::Object by_name = Napi::Object::New(env);
  for (const WireField& f : fields) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("offset", static_cast<double>(f.offset));
    d.Set("type", f.type);
    by_name.Set(f.name, d);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("header", static_cast<double>(header));
  o.Set("fields", by_name);
  return o;
}

// Everything protocol.h and engine.h declare for the other side: the enums,
// the wire layout, the engine config's fields, the upload temporaries' prefix.
Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
#define MUXFTPD_PAIR(name, value) {#name, static_cast<double>(value)},
#define MUXFTPD_GROUP(group, list) c.Set(#group, Enum(env, {list(MUXFTPD_PAIR)}));
  MUXFTPD_ENUM_GROUPS(MUXFTPD_GROUP)
#undef MUXFTPD_GROUP
#undef MUXFTPD_PAIR
  Napi::Object wire_layout = Napi::Object::New(env);
#define MUXFTPD_WIRE_FIELD(name, offset, type) WireField{#name, offset, WireType<wire::type>()},
  wire_layout.Set("event", Layout(env, kEventHeader, {MUXFTPD_EVENT_FIELDS(MUXFTPD_WIRE_FIELD)}));
  wire_layout.Set("action",
                  Layout(env, kActionHeader, {MUXFTPD_ACTION_FIELDS(MUXFTPD_WIRE_FIELD)}));
  wire_layout.Set("stat", Layout(env, kStatHeader, {MUXFTPD_STAT_FIELDS(MUXFTPD_WIRE_FIELD)}));
#undef MUXFTPD_WIRE_FIELD
  c.Set("wire", wire_layout);
  Napi::Object config = Napi::Object::New(env);
#define MUXFTPD_CONFIG_TYPE(member, js_name, Type) config.Set(#js_name, ConfigType<Type>());
  MUXFTPD_ENGINE_CONFIG(MUXFTPD_CONFIG_TYPE)
#undef MUXFTPD_CONFIG_TYPE
  c.Set("engineConfig", config);
  c.Set("uploadTempPrefix", kUploadTempPrefix);
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->engine_class = Napi::Persistent(EngineWrap::DefineClass(env));
  env.SetInstanceData(data);
  exports.Set("createEngine", Napi::Function::New(env, CreateEngine, "createEngine"));
  exports.Set("createClientLedger", Napi::Function::New(env, CreateClientLedger, "createClientLedger"));
  exports.Set("makeSelfSignedCertificate",
              Napi::Function::New(env, MakeSelfSigned, "makeSelfSignedCertificate"));
  exports.Set("constants", Constants(env));
  exports.Set("codec", CodecProbe(env));
  return exports;
}

}  // namespace
}  // namespace muxftpd

static Napi::Object InitMuxftpd(Napi::Env env, Napi::Object exports) {
  return muxftpd::Init(env, exports);
}

NODE_API_MODULE(muxftpd, InitMuxftpd)
