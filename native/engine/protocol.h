// The records that cross between the worker threads and JavaScript, and the
// byte layout they cross in.
//
// Every enum and every wire field is declared once, here, as a list macro:
// the enum (or the offset constant) is made from it, the codec (wire.cc)
// uses the offsets, and the addon exports the lists to JavaScript as
// binding.constants (addon.cc), where src/engine/native.ts reads the values
// and a unit test checks that the names it declares are the ones exported.
#ifndef MUXFTPD_ENGINE_PROTOCOL_H_
#define MUXFTPD_ENGINE_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace muxftpd {

// Session ids: sid = counter * worker_count + worker_index, with a global
// counter that only grows. Ids are therefore increasing, never reused, and
// name their worker without a lookup table.
using SessionId = uint64_t;

// ───────────────────────────── enums ─────────────────────────────
// X(Name, value). The JS names are the Name; the C++ enumerators are kName.

// Open: a control connection was accepted: peer and local address.
// Line: one control line (without CRLF), or an over-long line marker.
// PassiveReady: answer to ListenPassive: port, or error.
// DataFailed: an active connect failed: the errno (a success is not reported:
//   the transfer that needs the connection reports its end).
// TransferDone: a transfer ended: bytes moved, error 0 or a TransferError / -errno;
//   flag 1 when its file opened and its TransferStarted, which came in the
//   same batch, was left out (a small file: one event for JS, not two).
// Closed: the session is gone: reason.
// InputEnded: the client shut down its sending side (FIN): no more lines will
//   come, replies still can go; JS closes once it has answered.
// TransferStarted: a transfer's file is open and its preamble queued: seq
//   (TransferDone follows; an open error has only TransferDone). Only when
//   the transfer is still running at the end of the batch (see TransferDone).
// FileDone: answer to FileOp: seq, error 0 or -errno, text the stat records
//   (Stat, Lstat: one; List: the directory's own, then one per entry).
// LoopFailed: an engine thread's loop failed and that thread stopped (its
//   epoll_wait returned an error): text names it ("worker 0", "acceptor"),
//   error the -errno. The server cannot go on whole.
// DataConnected: a data connection is up: text, port → its peer (the client
//   host that connected, or the active target); flag 1 when an active one has
//   just come up (each once), 0 for an OpenData's report of one that was up
//   already. seq: the OpenData it answers (0: none); then also local,
//   localPort → the server's end. A passive connection coming up is not
//   reported, only counted (stats passiveControlPeer): the worker takes the
//   control peer's alone.
// DataRefused: a passive listener turned away a connection from a host other
//   than the session's control peer (a port thief, or a NAT that changed the
//   source): text, port → that peer; local, localPort → the listener. sid 0
//   when a shared --pasv-ports port cannot name one session. flag 1 (sid 0):
//   not foreign but late, from a host whose reservation of that shared port
//   has just ended (a second connection, or one after a second PASV or the
//   session's close).
// TlsReady: answer to StartTls: the control connection speaks TLS; text is
//   "<protocol> <cipher>" ("TLSv1.3 TLS_AES_256_GCM_SHA384").
// TlsFailed: answer to StartTls or ClearControl that failed: text the reason
//   (OpenSSL's, short). The engine closes the session after it (Closed follows).
// ControlCleared: answer to ClearControl: the control connection is clear text again.
// (Open's flag is 1 when the session came in on the implicit-TLS listener: its
// handshake is done before Open; a failed one never reaches JS.)
#define MUXFTPD_EVENT_TYPES(X) \
  X(Open, 1)                   \
  X(Line, 2)                   \
  X(PassiveReady, 3)           \
  X(DataFailed, 4)             \
  X(TransferDone, 5)           \
  X(Closed, 6)                 \
  X(InputEnded, 7)             \
  X(TransferStarted, 8)        \
  X(FileDone, 9)               \
  X(LoopFailed, 10)            \
  X(DataConnected, 11)         \
  X(DataRefused, 12)           \
  X(TlsReady, 13)              \
  X(TlsFailed, 14)             \
  X(ControlCleared, 15)

// Reply: append text to the control output.
// ListenPassive: open a passive listener (seq answered by PassiveReady).
// ConnectActive: PORT/EPRT: transfers connect to host:port (a download once its file is open).
// SendFile: send a file from offset over the data connection (seq → TransferDone).
// SendBuffer: send bytes over the data connection (seq → TransferDone).
// RecvFile: write the data connection into a file (seq → TransferDone).
// Abort: drop the data connection, listener and any transfer.
// Close: flush the control output, then close the session.
// FileOp: one file-system operation (the op field) beneath the session's
//   directory, on the engine's file-operation threads (seq → FileDone).
// PauseInput: stop reading the session's control connection (JS has too many
//   of its lines waiting): its client meets TCP backpressure. Lines already
//   read are still delivered; a FIN behind the unread bytes is reported only
//   after ResumeInput (a reset still closes the session at once).
// ResumeInput: read it again (unless the worker's own pause, JS behind, holds it).
// OpenData: ESTA/ESTP: connect the active target now, or take a passive
//   connection the client has made; seq → DataConnected with the endpoints,
//   or DataFailed (-ENOTCONN: no data connection to report).
// StartTls: AUTH TLS. The replies queued before it (the 234) go out in clear,
//   then the worker runs a TLS server handshake on the control connection,
//   reading no line meanwhile; bytes the client sent after AUTH in clear are
//   never taken as commands (the STARTTLS injection of CVE-2011-0411: they
//   fail the handshake). Answered by TlsReady or TlsFailed.
// ClearControl: CCC. The replies queued before it (the 200) go out over TLS,
//   then close_notify is exchanged and the control connection is clear text
//   again. Answered by ControlCleared (or TlsFailed).
// DataProtection: PROT; the mode field is a DataProtection value. Data
//   connections opened from then on (passive and active alike) are TLS servers
//   (Private) or clear (Clear), before any transfer byte moves.
#define MUXFTPD_ACTION_TYPES(X) \
  X(Reply, 1)                   \
  X(ListenPassive, 2)           \
  X(ConnectActive, 3)           \
  X(SendFile, 4)                \
  X(SendBuffer, 5)              \
  X(RecvFile, 6)                \
  X(Abort, 7)                   \
  X(Close, 8)                   \
  X(FileOp, 9)                  \
  X(PauseInput, 10)             \
  X(ResumeInput, 11)            \
  X(OpenData, 12)               \
  X(StartTls, 13)               \
  X(ClearControl, 14)           \
  X(DataProtection, 15)

// PeerClosed: the client closed or reset the control connection.
// Requested: JS asked for it (QUIT, timeouts, limits).
// IoError: a read or write on the control connection failed.
// OutputOverflow: the client stopped reading replies.
// Shutdown: the engine is stopping.
// CloseTimeout: closing, the client read none of its last replies for the close timeout.
#define MUXFTPD_CLOSE_REASONS(X) \
  X(PeerClosed, 1)               \
  X(Requested, 2)                \
  X(IoError, 3)                  \
  X(OutputOverflow, 4)           \
  X(Shutdown, 5)                 \
  X(CloseTimeout, 6)

// Transfer errors that are not an errno (errno values are reported negated).
// Aborted: ABOR, a new data command, or the session closing.
// NoDataConnection: a transfer was asked with no listener, data connection or active target.
// PeerClosed: the data connection closed before the transfer ended.
// ConnectFailed: the active connect failed (detail: the errno in DataFailed).
// Timeout: the data connection made no progress for the data timeout.
// TlsFailed: the data connection's TLS handshake (or a record on it) failed.
// TlsNotResumed: session reuse is required and the data connection's
//   handshake did not resume its control connection's TLS session.
#define MUXFTPD_TRANSFER_ERRORS(X) \
  X(Ok, 0)                         \
  X(Aborted, 1)                    \
  X(NoDataConnection, 2)           \
  X(PeerClosed, 3)                 \
  X(ConnectFailed, 4)              \
  X(Timeout, 5)                    \
  X(TlsFailed, 6)                  \
  X(TlsNotResumed, 7)

// How RecvFile opens its target.
// Truncate: create or truncate, then write from offset (STOR, REST+STOR).
// Append: create or append (APPE).
// Exclusive: create, failing if it exists (STOU).
// Replace: write a new hidden file (kUploadTempPrefix) in the target's
//   directory, renamed over the target when the upload ends without error and
//   removed otherwise; the target is never opened (STOR with --atomic-uploads).
#define MUXFTPD_WRITE_MODES(X) \
  X(Truncate, 0)               \
  X(Append, 1)                 \
  X(Exclusive, 2)              \
  X(Replace, 3)

// How downloads copy file blocks to sockets.
#define MUXFTPD_COPY_MODES(X) \
  X(Sendfile, 0)              \
  X(ReadWrite, 1)

// What a FileOp does. Paths are relative to the session's directory (the
// served root, or its account's home once Home has answered) and are
// resolved by the kernel beneath it (openat2 RESOLVE_BENEATH): no symlink and
// no ".." leads out, whatever the tree does meanwhile.
// Home: path is the account's home, relative to the root: from the answer on,
//   it is the session's directory (one fd per distinct home, shared).
// Stat: the file path names, symlinks followed beneath the directory.
// Lstat: the entry itself (a symlink is not followed).
// List: the directory path names (followed): its own record, then each
//   entry's, where a symlink is followed when it stays beneath and is left out
//   when it leads out or nowhere. A path that is no directory: its record alone.
// Mkdir, Rmdir, Unlink: the entry path names. Rename: path to path2 (entries).
#define MUXFTPD_FILE_OPS(X) \
  X(Home, 0)                \
  X(Stat, 1)                \
  X(Lstat, 2)               \
  X(List, 3)                \
  X(Mkdir, 4)               \
  X(Rmdir, 5)               \
  X(Unlink, 6)              \
  X(Rename, 7)

// Bits of an action's flags.
// SplitReply: Reply, ListenPassive: the reply goes out in two writes, split at
//   EngineConfig::split_reply_at with split_reply_pause_ms between them (a
//   test instrument for middleboxes that parse replies).
#define MUXFTPD_ACTION_FLAGS(X) \
  X(SplitReply, 1)

// What DataProtection sets (RFC 4217 PROT C, PROT P).
#define MUXFTPD_DATA_PROTECTIONS(X) \
  X(Clear, 0)                       \
  X(Private, 1)

#define MUXFTPD_ENUMERATOR(name, value) k##name = value,
enum class EventType : uint8_t { MUXFTPD_EVENT_TYPES(MUXFTPD_ENUMERATOR) };
enum class ActionType : uint8_t { MUXFTPD_ACTION_TYPES(MUXFTPD_ENUMERATOR) };
enum class CloseReason : uint8_t { MUXFTPD_CLOSE_REASONS(MUXFTPD_ENUMERATOR) };
enum class TransferError : int32_t { MUXFTPD_TRANSFER_ERRORS(MUXFTPD_ENUMERATOR) };
enum class WriteMode : uint8_t { MUXFTPD_WRITE_MODES(MUXFTPD_ENUMERATOR) };
enum class CopyMode : uint8_t { MUXFTPD_COPY_MODES(MUXFTPD_ENUMERATOR) };
enum class FileOpKind : uint8_t { MUXFTPD_FILE_OPS(MUXFTPD_ENUMERATOR) };
enum class ActionFlag : uint8_t { MUXFTPD_ACTION_FLAGS(MUXFTPD_ENUMERATOR) };
enum class DataProtection : uint8_t { MUXFTPD_DATA_PROTECTIONS(MUXFTPD_ENUMERATOR) };
#undef MUXFTPD_ENUMERATOR

// Every enum list, for the addon's export: X(jsGroupName, ListMacro).
#define MUXFTPD_ENUM_GROUPS(X)           \
  X(events, MUXFTPD_EVENT_TYPES)         \
  X(actions, MUXFTPD_ACTION_TYPES)       \
  X(closeReasons, MUXFTPD_CLOSE_REASONS) \
  X(transferErrors, MUXFTPD_TRANSFER_ERRORS) \
  X(writeModes, MUXFTPD_WRITE_MODES)     \
  X(copyModes, MUXFTPD_COPY_MODES)     \
  X(fileOps, MUXFTPD_FILE_OPS)           \
  X(actionFlags, MUXFTPD_ACTION_FLAGS)   \
  X(dataProtections, MUXFTPD_DATA_PROTECTIONS)

// The name of a WriteMode::kReplace upload's temporary file starts with this
// (then 16 random hex digits); exported as binding.constants.uploadTempPrefix,
// so that listings can leave such files out.
inline constexpr char kUploadTempPrefix[] = ".muxftpd-upload.";

// ───────────────────────────── records ─────────────────────────────

struct Event {
  EventType type;
  SessionId sid = 0;
  uint32_t seq = 0;
  int32_t error = 0;      // kPassiveReady/kDataFailed/kTransferDone: 0 or error
  uint32_t port = 0;      // kPassiveReady: the port; kOpen: the peer port
  uint32_t local_port = 0;  // kOpen
  uint64_t bytes = 0;     // kTransferDone
  bool too_long = false;  // kLine: the line exceeded max_line and was dropped
  bool fresh = false;     // kDataConnected: an active connection has just come up
  bool implicit_tls = false;  // kOpen: came in on the implicit-TLS listener, handshake done
  bool late = false;      // kDataRefused: late, not foreign
  bool opened = false;    // kTransferDone: its file opened (its kTransferStarted was left out of the batch)
  // kTransferStarted: the transfer ended in the same batch, whose kTransferDone
  // says `opened` instead; dropped before the batch leaves the worker.
  bool superseded = false;
  CloseReason reason = CloseReason::kPeerClosed;  // kClosed
  std::string text;       // kLine: the line bytes; kOpen, kDataConnected, kDataRefused: peer address
  std::string local;      // kOpen, kDataConnected, kDataRefused: local address
};

struct Action {
  ActionType type;
  SessionId sid = 0;
  uint32_t seq = 0;
  uint32_t port = 0;      // kConnectActive
  uint8_t flags = 0;      // ActionFlag bits
  uint64_t offset = 0;    // kSendFile/kRecvFile
  WriteMode mode = WriteMode::kTruncate;  // kRecvFile
  DataProtection protection = DataProtection::kClear;  // kDataProtection (the same wire byte)
  FileOpKind op = FileOpKind::kStat;      // kFileOp
  std::string data;       // kReply: text; kSendBuffer: bytes; kSendFile/kRecvFile/kFileOp:
                          // path relative to the session's directory; kConnectActive: host
  std::string preamble;   // transfers: a reply (the 150) queued on the control
                          // connection only once the file is open; on an open error
                          // nothing is sent and the error goes back in kTransferDone.
                          // kListenPassive: a reply template sent once the listener is
                          // up, with %P → the port, %H → "p1,p2" (FillPassivePort).
                          // kFileOp Rename: the new path.
  std::string epilogue;   // transfers: a reply (the 226) queued when the transfer
                          // ends without error, once the data connection is closed.
                          // kListenPassive: the reply queued instead of the template
                          // when no listener could be opened (the 425).
};

// ───────────────────────────── wire layout ─────────────────────────────
// Both directions are byte buffers of records back to back, little-endian;
// each record is a fixed header, then its variable-length texts in the order
// the lengths are listed. X(jsName, offset, type); types are u8, u16, u32,
// i32, u64 and f64 (ids, offsets and byte counts are integers below 2^53, as
// JS numbers hold them).

// An event record (native → JS, one buffer per worker loop iteration).
// flag: Line → 1 when the line was too long; Closed → the CloseReason;
// DataConnected → 1 when the connection has just come up; Open → 1 when the
// session came in on the implicit-TLS listener; DataRefused → 1 when the
// connection was late, not foreign.
// text: Line → the line bytes; Open, DataConnected, DataRefused → the peer
// address; TlsReady → "<protocol> <cipher>"; TlsFailed → the reason.
// second: Open, DataConnected, DataRefused → the local address.
#define MUXFTPD_EVENT_FIELDS(X) \
  X(type, 0, u8)                \
  X(flag, 1, u8)                \
  X(secondLength, 2, u16)       \
  X(textLength, 4, u32)         \
  X(sid, 8, f64)                \
  X(seq, 16, u32)               \
  X(error, 20, i32)             \
  X(port, 24, u32)              \
  X(localPort, 28, u32)         \
  X(bytes, 32, f64)
inline constexpr size_t kEventHeader = 40;

// An action record (JS → native, one buffer per post()).
// mode: RecvFile → the WriteMode; DataProtection → the DataProtection.
// data: Reply → the text; ConnectActive → the host; SendFile, RecvFile → the
// path relative to the root; SendBuffer → the bytes. preamble, epilogue: as
// in struct Action.
#define MUXFTPD_ACTION_FIELDS(X) \
  X(type, 0, u8)                 \
  X(mode, 1, u8)                 \
  X(op, 2, u8)                   \
  X(flags, 3, u8)                \
  X(seq, 4, u32)                 \
  X(sid, 8, f64)                 \
  X(offset, 16, f64)             \
  X(port, 24, u32)               \
  X(dataLength, 28, u32)         \
  X(preambleLength, 32, u32)     \
  X(epilogueLength, 36, u32)
inline constexpr size_t kActionHeader = 40;

// A stat record, in a FileDone's text (back to back, each then its name).
// mode, nlink as st_mode, st_nlink; mtimeMs: milliseconds since the epoch.
#define MUXFTPD_STAT_FIELDS(X) \
  X(mode, 0, u32)              \
  X(nlink, 4, u32)             \
  X(size, 8, f64)              \
  X(mtimeMs, 16, f64)          \
  X(dev, 24, u64)              \
  X(ino, 32, u64)              \
  X(nameLength, 40, u16)
inline constexpr size_t kStatHeader = 42;

namespace wire {
using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using i32 = int32_t;
using u64 = uint64_t;
using f64 = double;
// A header field: its offset, typed with its wire type (wire.cc reads and
// writes through it, so a field cannot be written wider than declared).
template <typename T>
struct Field {
  using Type = T;
  size_t offset;
};
// Reads and writes a field of the record at `record` (unaligned, host order:
// the engine runs on little-endian Linux only).
template <typename T>
T Get(const char* record, Field<T> field) {
  T v;
  std::memcpy(&v, record + field.offset, sizeof v);
  return v;
}
template <typename T, typename V>
void Put(char* record, Field<T> field, V value) {
  T v = static_cast<T>(value);
  std::memcpy(record + field.offset, &v, sizeof v);
}
#define MUXFTPD_FIELD(name, offset, type) inline constexpr Field<type> name{offset};
namespace event {
MUXFTPD_EVENT_FIELDS(MUXFTPD_FIELD)
}  // namespace event
namespace action {
MUXFTPD_ACTION_FIELDS(MUXFTPD_FIELD)
}  // namespace action
namespace stat {
MUXFTPD_STAT_FIELDS(MUXFTPD_FIELD)
}  // namespace stat
#undef MUXFTPD_FIELD
}  // namespace wire

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
