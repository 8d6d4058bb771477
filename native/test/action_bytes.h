// Actions as JS posts them (src/engine/actions.ts): records in the layout of
// protocol.h, for the native tests to post through the addon's own path
// (wire.h CheckActions, Engine::Post, the worker's DecodeActions).
#ifndef MUXFTPD_TEST_ACTION_BYTES_H_
#define MUXFTPD_TEST_ACTION_BYTES_H_

#include <string>
#include <vector>

#include "../engine/protocol.h"

namespace muxftpd::test {

inline std::string ActionBytes(const std::vector<Action>& actions) {
  namespace f = wire::action;
  std::string out;
  for (const Action& a : actions) {
    std::string r(kActionHeader, '\0');
    wire::Put(r.data(), f::type, static_cast<uint8_t>(a.type));
    // One byte, two meanings (protocol.h): the write mode, or PROT's level.
    uint8_t mode = a.type == ActionType::kDataProtection ? static_cast<uint8_t>(a.protection) : static_cast<uint8_t>(a.mode);
    wire::Put(r.data(), f::mode, mode);
    wire::Put(r.data(), f::op, static_cast<uint8_t>(a.op));
    wire::Put(r.data(), f::flags, a.flags);
    wire::Put(r.data(), f::seq, a.seq);
    wire::Put(r.data(), f::sid, static_cast<double>(a.sid));
    wire::Put(r.data(), f::offset, static_cast<double>(a.offset));
    wire::Put(r.data(), f::port, a.port);
    wire::Put(r.data(), f::dataLength, static_cast<uint32_t>(a.data.size()));
    wire::Put(r.data(), f::preambleLength, static_cast<uint32_t>(a.preamble.size()));
    wire::Put(r.data(), f::epilogueLength, static_cast<uint32_t>(a.epilogue.size()));
    out += r + a.data + a.preamble + a.epilogue;
  }
  return out;
}

}  // namespace muxftpd::test

#endif  // MUXFTPD_TEST_ACTION_BYTES_H_
