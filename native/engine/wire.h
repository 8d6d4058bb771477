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
// Appends the actions of a buffer to `out`. False on a malformed buffer (a
// bug on the JS side: a short record, an unknown type, a number that is not
// an integer below 2^53); `out` is then left as it was.
[[nodiscard]] bool DecodeActions(const char* p, size_t n, std::vector<Action>* out);

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_WIRE_H_
