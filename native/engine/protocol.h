// The records that cross between the worker threads and JavaScript.
//
// This file is mirrored by src/engine/native.ts; the numeric values of every
// enum here are exported to JS as binding.constants and a unit test asserts
// that the two sides agree.
#ifndef MUXFTPD_ENGINE_PROTOCOL_H_
#define MUXFTPD_ENGINE_PROTOCOL_H_

#include <cstdint>
#include <string>

namespace muxftpd {

// Session ids: sid = counter * worker_count + worker_index, with a global
// counter that only grows. Ids are therefore increasing, never reused, and
// name their worker without a lookup table.
using SessionId = uint64_t;

enum class EventType : uint8_t {
  kOpen = 1,           // a control connection was accepted: peer and local address
  kLine = 2,           // one control line (without CRLF), or an over-long line marker
  kPassiveReady = 3,   // answer to kListenPassive: port, or error
  kDataFailed = 4,     // an active connect failed: the errno (a success is not reported:
                       // the transfer that needs the connection reports its end)
  kTransferDone = 5,   // a transfer ended: bytes moved, error 0 or a TransferError / -errno
  kClosed = 6,         // the session is gone: reason
  kInputEnded = 7,     // the client shut down its sending side (FIN): no more lines will
                       // come, replies still can go; JS closes once it has answered
  kTransferStarted = 8,  // a transfer's file is open and its preamble queued: seq
                         // (kTransferDone follows; an open error has only kTransferDone)
};

enum class ActionType : uint8_t {
  kReply = 1,          // append text to the control output
  kListenPassive = 2,  // open a passive listener (seq answered by kPassiveReady)
  kConnectActive = 3,  // PORT/EPRT: transfers connect to host:port (a download once its file is open)
  kSendFile = 4,       // send a file from offset over the data connection (seq → kTransferDone)
  kSendBuffer = 5,     // send bytes over the data connection (seq → kTransferDone)
  kRecvFile = 6,       // write the data connection into a file (seq → kTransferDone)
  kAbort = 7,          // drop the data connection, listener and any transfer
  kClose = 8,          // flush the control output, then close the session
};

enum class CloseReason : uint8_t {
  kPeerClosed = 1,     // the client closed or reset the control connection
  kRequested = 2,      // JS asked for it (QUIT, timeouts, limits)
  kIoError = 3,        // a read or write on the control connection failed
  kOutputOverflow = 4, // the client stopped reading replies
  kShutdown = 5,       // the engine is stopping
  kCloseTimeout = 6,   // closing, the client read none of its last replies for the close timeout
};

// Transfer errors that are not an errno (errno values are reported negated).
enum class TransferError : int32_t {
  kOk = 0,
  kAborted = 1,        // ABOR, a new data command, or the session closing
  kNoDataConnection = 2,  // a transfer was asked with no listener, data connection or active target
  kPeerClosed = 3,     // the data connection closed before the transfer ended
  kConnectFailed = 4,  // the active connect failed (detail: the errno in kDataFailed)
  kTimeout = 5,        // the data connection made no progress for the data timeout
};

// How recvFile opens its target.
enum class WriteMode : uint8_t {
  kTruncate = 0,       // create or truncate, then write from offset (STOR, REST+STOR)
  kAppend = 1,         // create or append (APPE)
  kExclusive = 2,      // create, failing if it exists (STOU)
};

enum class CopyMode : uint8_t {
  kSendfile = 0,
  kReadWrite = 1,
};

struct Event {
  EventType type;
  SessionId sid = 0;
  uint32_t seq = 0;
  int32_t error = 0;      // kPassiveReady/kDataFailed/kTransferDone: 0 or error
  uint32_t port = 0;      // kPassiveReady: the port; kOpen: the peer port
  uint32_t local_port = 0;  // kOpen
  uint64_t bytes = 0;     // kTransferDone
  bool too_long = false;  // kLine: the line exceeded max_line and was dropped
  CloseReason reason = CloseReason::kPeerClosed;  // kClosed
  std::string text;       // kLine: the line bytes; kOpen: peer address
  std::string local;      // kOpen: local address
};

struct Action {
  ActionType type;
  SessionId sid = 0;
  uint32_t seq = 0;
  uint32_t port = 0;      // kConnectActive
  uint64_t offset = 0;    // kSendFile/kRecvFile
  WriteMode mode = WriteMode::kTruncate;  // kRecvFile
  std::string data;       // kReply: text; kSendBuffer: bytes; kSendFile/kRecvFile: path
                          // relative to the root; kConnectActive: host
  std::string preamble;   // transfers: a reply (the 150) queued on the control
                          // connection only once the file is open; on an open error
                          // nothing is sent and the error goes back in kTransferDone.
                          // kListenPassive: a reply template sent once the listener is
                          // up, with %P → the port, %H → "p1,p2" (FillPassivePort)
  std::string epilogue;   // transfers: a reply (the 226) queued when the transfer
                          // ends without error, once the data connection is closed
};

// The first %H of `reply` becomes PASV's "p1,p2" and the first %P the port in
// decimal (src/protocol/address.ts fillPassive is the same in TypeScript).
inline std::string FillPassivePort(std::string reply, uint16_t port) {
  if (size_t at = reply.find("%H"); at != std::string::npos) {
    reply.replace(at, 2, std::to_string(port >> 8) + "," + std::to_string(port & 255));
  }
  if (size_t at = reply.find("%P"); at != std::string::npos) reply.replace(at, 2, std::to_string(port));
  return reply;
}

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_PROTOCOL_H_
