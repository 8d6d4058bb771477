// The codec of the boundary's byte buffers (layout in protocol.h). Pure: no
// N-API, so the native tests cover it and the addon only copies bytes.
#ifndef MUXFTPD_ENGINE_WIRE_H_
#define MUXFTPD_ENGINE_WIRE_H_

#include <cstddef>
#include <vector>

#include "protocol.h"

namespace muxftpd {

// Bytes EncodeEvents writes for `events`.
size_t EncodedSize(const std::vector<Event>& events);
// Writes every event's record into `out`, which holds EncodedSize(events) bytes.
void EncodeEvents(const std::vector<Event>& events, char* out);
// Whether a buffer of action records is well formed: false on a bug on the JS
// side (a short record, an unknown type, a number that is not an integer
// below 2^53). Allocates nothing: the JS thread checks what it posts, and the
// worker decodes it (the strings are made, and freed, on the worker's thread).
[[nodiscard]] bool CheckActions(const char* p, size_t n);
// A checked buffer's records one by one: fn(sid, record, record_size).
template <typename Fn>
void ForEachActionRecord(const char* p, size_t n, Fn&& fn);
// The actions of a buffer CheckActions accepted, into `out` from its start,
// reusing its elements (their strings keep their capacity from one call to
// the next); `out` is resized to the count. The worker's call: its poster
// checked the buffer.
void DecodeCheckedActions(const char* p, size_t n, std::vector<Action>* out);
// CheckActions, then DecodeCheckedActions. False on a malformed buffer; `out`
// is then empty.
[[nodiscard]] bool DecodeActions(const char* p, size_t n, std::vector<Action>* out);

namespace wire {
// Bytes of the action record at `h` (its header read; CheckActions has checked them).
inline size_t ActionRecordSize(const char* h) {
  return kActionHeader + Get(h, action::dataLength) + Get(h, action::preambleLength) + Get(h, action::epilogueLength);
}
}  // namespace wire

template <typename Fn>
void ForEachActionRecord(const char* p, size_t n, Fn&& fn) {
  size_t at = 0;
  while (at < n) {
    const char* h = p + at;
    size_t size = wire::ActionRecordSize(h);
    fn(static_cast<SessionId>(wire::Get(h, wire::action::sid)), h, size);
    at += size;
  }
}

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_WIRE_H_
