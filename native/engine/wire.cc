#include "wire.h"

#include <cstring>

namespace muxftpd {

namespace {

using wire::Get;
using wire::Put;

// JS numbers hold integers exactly below 2^53 (a NaN fails the test).
bool SafeInteger(double v) { return v >= 0 && v < 0x1p53; }

bool KnownAction(uint8_t type) {
  switch (static_cast<ActionType>(type)) {
#define MUXFTPD_CASE(name, value) case ActionType::k##name:
    MUXFTPD_ACTION_TYPES(MUXFTPD_CASE)
#undef MUXFTPD_CASE
    return true;
  }
  return false;
}

}  // namespace

size_t EncodedSize(const std::vector<Event>& events) {
  size_t total = 0;
  for (const Event& e : events) total += kEventHeader + e.text.size() + e.local.size();
  return total;
}

void EncodeEvents(const std::vector<Event>& events, char* p) {
  namespace f = wire::event;
  for (const Event& e : events) {
    uint8_t flag = e.type == EventType::kClosed ? static_cast<uint8_t>(e.reason)
                                                : (e.too_long || e.fresh || e.implicit_tls || e.late || e.opened ? 1 : 0);
    Put(p, f::type, e.type);
    Put(p, f::flag, flag);
    Put(p, f::secondLength, e.local.size());
    Put(p, f::textLength, e.text.size());
    Put(p, f::sid, e.sid);
    Put(p, f::seq, e.seq);
    Put(p, f::error, e.error);
    Put(p, f::port, e.port);
    Put(p, f::localPort, e.local_port);
    Put(p, f::bytes, e.bytes);
    std::memcpy(p + kEventHeader, e.text.data(), e.text.size());
    std::memcpy(p + kEventHeader + e.text.size(), e.local.data(), e.local.size());
    p += kEventHeader + e.text.size() + e.local.size();
  }
}

bool DecodeActions(const char* p, size_t n, std::vector<Action>* out) {
  namespace f = wire::action;
  const size_t first = out->size();
  auto fail = [&] {
    out->resize(first);
    return false;
  };
  size_t at = 0;
  while (at < n) {
    if (n - at < kActionHeader) return fail();
    const char* h = p + at;
    size_t data_len = Get(h, f::dataLength);
    size_t preamble_len = Get(h, f::preambleLength);
    size_t epilogue_len = Get(h, f::epilogueLength);
    size_t body = data_len + preamble_len + epilogue_len;
    if (n - at - kActionHeader < body) return fail();
    uint8_t type = Get(h, f::type);
    double sid = Get(h, f::sid);
    double offset = Get(h, f::offset);
    if (!KnownAction(type) || !SafeInteger(sid) || !SafeInteger(offset)) return fail();
    Action& a = out->emplace_back();
    a.type = static_cast<ActionType>(type);
    a.mode = static_cast<WriteMode>(Get(h, f::mode));
    a.protection = static_cast<DataProtection>(Get(h, f::mode));
    a.op = static_cast<FileOpKind>(Get(h, f::op));
    a.flags = Get(h, f::flags);
    a.seq = Get(h, f::seq);
    a.sid = static_cast<SessionId>(sid);
    a.offset = static_cast<uint64_t>(offset);
    a.port = Get(h, f::port);
    const char* body_at = h + kActionHeader;
    a.data.assign(body_at, data_len);
    a.preamble.assign(body_at + data_len, preamble_len);
    a.epilogue.assign(body_at + data_len + preamble_len, epilogue_len);
    at += kActionHeader + body;
  }
  return true;
}

}  // namespace muxftpd
