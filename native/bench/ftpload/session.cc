#include "session.h"

namespace muxftpd::ftpload {

const char* StName(St s) {
  switch (s) {
    case St::kFree: return "free";
    case St::kConnecting: return "connect";
    case St::kGreeting: return "greeting";
    case St::kAuth: return "auth";
    case St::kCtlTls: return "tls_handshake";
    case St::kPbsz: return "pbsz";
    case St::kProt: return "prot";
    case St::kUser: return "user";
    case St::kPass: return "pass";
    case St::kType: return "type";
    case St::kPasvReq: return "pasv";
    case St::kDataConnect: return "data_connect";
    case St::kPortReq: return "port";
    case St::kXferCmd: return "xfer_cmd";
    case St::kXfer: return "xfer";
    case St::kHold: return "hold";
    case St::kNoop: return "noop";
    case St::kFlood: return "noop_flood";
    case St::kDataHold: return "data_hold";
    case St::kSetupWait: return "setup_wait";
    case St::kQuit: return "quit";
    case St::kQuitEof: return "quit";
  }
  return "?";
}

}  // namespace muxftpd::ftpload
