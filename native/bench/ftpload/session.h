// One FTP session of the load: its state, its sockets and what it has done.
// A worker owns a fixed array of them (slots); a slot runs one session after
// another until the run ends.
#ifndef MUXFTPD_BENCH_FTPLOAD_SESSION_H_
#define MUXFTPD_BENCH_FTPLOAD_SESSION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "native/engine/sys.h"
#include "options.h"
#include "tls.h"

namespace muxftpd::ftpload {

enum class St {
  kFree,         // slot empty (waiting to start or restart)
  kConnecting,   // control connect in flight
  kGreeting,     // waiting for 220
  kAuth,         // --tls explicit: AUTH TLS sent, waiting 234
  kCtlTls,       // TLS handshake of the control connection (after 234, or before 220 if implicit)
  kPbsz,         // --tls: PBSZ 0 sent (after login, before a session's first transfer)
  kProt,         // --tls: PROT P sent
  kUser,         // USER sent
  kPass,         // PASS sent
  kType,         // TYPE I sent
  kPasvReq,      // EPSV/PASV sent
  kDataConnect,  // data connect in flight
  kPortReq,      // PORT/EPRT sent
  kXferCmd,      // RETR/STOR sent, waiting 150
  kXfer,         // data moving, waiting for its end and 226
  kHold,         // idle: logged in, waiting for the next NOOP time
  kNoop,         // NOOP sent
  kFlood,        // noop: logged in, --pipeline NOOPs in flight
  kDataHold,     // passive: data connection open, waiting for the others' (then RETR)
  kSetupWait,    // --max-data-setups: waiting for a data setup's turn
  kQuit,         // QUIT sent, waiting 221 then EOF
  kQuitEof,      // 221 seen, waiting for the server to close
};

// The state's name in error kinds ("xfer_cmd_550", "timeout_pasv") and in
// the summary's aborted_by_state.
const char* StName(St s);

// Which of a session's sockets an epoll event is for.
enum Which : uint64_t { kCtl = 0, kData = 1, kLst = 2 };

struct Session {
  uint32_t slot = 0;
  St st = St::kFree;
  Kind kind = Kind::kLogin;
  int ctl = -1, data = -1, lst = -1;
  // Bumped with each new fd, so that an event of a closed fd is known stale.
  uint32_t ctl_gen = 0, data_gen = 0, lst_gen = 0;
  bool ctl_out_armed = false;
  std::string in, out;
  int ml_code = 0;  // multi-line reply in progress
  uint64_t session_start = 0, op_start = 0, wait_since = 0, next_at = 0;
  // Where the phase in progress began (phases.h): on the control connection
  // (connected, USER sent, QUIT sent), of the data setup (227/229 received,
  // PORT/EPRT sent) and of the transfer (RETR/STOR sent).
  uint64_t ctl_mark = 0, data_mark = 0, xfer_mark = 0;
  bool first_byte = false;  // this transfer's first data byte is counted
  bool claimed_op = false;  // this session (login/small) or op has claimed a --count unit
  bool logged_in = false, counted_open = false, counted_est = false;
  // transfer
  const FileSpec* file = nullptr;
  bool upload = false;
  uint64_t xfer_bytes = 0;
  uint32_t crc = 0;
  bool data_done = false, reply_done = false, data_connected = false;
  uint64_t files_done = 0;
  uint64_t upload_seq = 0;
  int src = -1;     // index into Options::sources, -1 = none
  SockAddr local;   // of the control connection: active mode listens there
  // noop: send times of the NOOPs in flight (a ring of --pipeline entries)
  std::vector<uint64_t> ring;
  uint32_t ring_head = 0, inflight = 0;
  bool settled = false;  // passive: counted in Counters::settled
  bool in_setup = false;  // counted in Counters::setups
  uint64_t wait_ticket = 0;  // kSetupWait: its place in Worker::setup_queue_
  // --tls: the control and data connections' TLS, and the sessions the
  // server issued (the data connections resume the latest).
  ssl_st* ctl_tls = nullptr;
  ssl_st* data_tls = nullptr;
  bool data_tls_ready = false, data_out_armed = false;
  TlsSessionSink tls_sessions;
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_SESSION_H_
