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

bool CheckActions(const char* p, size_t n) {
  namespace f = wire::action;
  size_t at = 0;
  while (at < n) {
    if (n - at < kActionHeader) return false;
    const char* h = p + at;
    // Each length below 2^32: their sum cannot wrap.
    size_t body = static_cast<size_t>(Get(h, f::dataLength)) + Get(h, f::preambleLength) + Get(h, f::epilogueLength);
    if (n - at - kActionHeader < body) return false;
    if (!KnownAction(Get(h, f::type)) || !SafeInteger(Get(h, f::sid)) || !SafeInteger(Get(h, f::offset))) return false;
    at += kActionHeader + body;
  }
  return true;
}

bool DecodeActions(const char* p, size_t n, std::vector<Action>* out) {
  if (!CheckActions(p, n)) {
    out->clear();
    return false;
  }
  DecodeCheckedActions(p, n, out);
  return true;
}

void DecodeCheckedActions(const char* p, size_t n, std::vector<Action>* out) {
  namespace f = wire::action;
  size_t count = 0;
  ForEachActionRecord(p, n, [&](SessionId sid, const char* h, size_t) {
    if (count == out->size()) out->emplace_back();
    Action& a = (*out)[count++];
    size_t data_len = Get(h, f::dataLength);
    size_t preamble_len = Get(h, f::preambleLength);
    size_t epilogue_len = Get(h, f::epilogueLength);
    a.type = static_cast<ActionType>(Get(h, f::type));
    a.mode = static_cast<WriteMode>(Get(h, f::mode));
    a.protection = static_cast<DataProtection>(Get(h, f::mode));
    a.op = static_cast<FileOpKind>(Get(h, f::op));
    a.flags = Get(h, f::flags);
    a.seq = Get(h, f::seq);
    a.sid = sid;
    a.offset = static_cast<uint64_t>(Get(h, f::offset));
    a.port = Get(h, f::port);
    const char* body_at = h + kActionHeader;
    a.data.assign(body_at, data_len);
    a.preamble.assign(body_at + data_len, preamble_len);
    a.epilogue.assign(body_at + data_len + preamble_len, epilogue_len);
  });
  out->resize(count);
}

}  // namespace muxftpd
