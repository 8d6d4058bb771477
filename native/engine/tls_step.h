// What a non-blocking TLS call asks of the loop, and how a step ended:
// shared by TlsChannel and the record layer it hands a control connection to.
#ifndef MUXFTPD_ENGINE_TLS_STEP_H_
#define MUXFTPD_ENGINE_TLS_STEP_H_

#include <cstdint>

namespace muxftpd {

enum class TlsWant : uint8_t { kNothing, kRead, kWrite };

enum class TlsStep : uint8_t {
  kDone,    // finished (the handshake, or our close_notify sent)
  kWait,    // would block: wait for want()
  kFailed,  // see error()
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_TLS_STEP_H_
