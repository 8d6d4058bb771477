// One client: its control connection, output buffer and data-connection
// state. Owned by exactly one worker; touched only on that worker's thread.
#ifndef MUXFTPD_ENGINE_SESSION_H_
#define MUXFTPD_ENGINE_SESSION_H_

#include <cassert>
#include <cstdint>
#include <memory>
#include <string>

#include "file_ops.h"
#include "line_framer.h"
#include "protocol.h"
#include "sys.h"
#include "tls_channel.h"
#include "transfer.h"

namespace muxftpd {

class Session;
struct PassivePort;

// What epoll_event.data.ptr points at: which fd of which session fired.
struct IoHandle {
  enum class Kind : uint8_t { kInternal, kWake, kControl, kListener, kData, kPoolListener };
  Kind kind;
  Session* session;
  PassivePort* pool_port = nullptr;  // kPoolListener only
};

enum class DataState : uint8_t {
  kNone,        // no data connection set up
  kActiveSet,   // active target known: connected when a transfer starts (a download once its file is open)
  kListening,   // passive listener open, waiting for the client
  kConnecting,  // active connect in progress
  kConnected,   // data connection up
};

// Where a session is in its life: one value, so that no session is, say,
// lingering and gone at once. It only moves forward, through the transitions
// of Session below, each of which checks where it starts from.
// There is no "opening" value: Worker::OnHandoff makes a session, adds its
// fd to epoll and announces it to JS (the Open event) in one step, and a
// hand-off that fails before that never becomes a session anyone can see.
enum class Lifecycle : uint8_t {
  kOpen,       // serving: its lines go to JS, JS's actions apply to it
  kClosing,    // JS asked to close: `out` is flushed, then the fd is closed;
               // new lines and actions are refused (answered as for a gone one)
  kLingering,  // closing, and the client leaves that output unread: on the
               // worker's lingering list, closed at --close-timeout unless it reads
  kGone,       // closed this iteration: out of epoll and of the worker's map,
               // freed at the iteration's end (its fds' stale events are skipped)
};

// Where the control connection is in TLS (RFC 4217): it moves
// kClear → kStarting → kHandshake → kReady on AUTH TLS (an implicit-TLS client
// starts in kHandshake), and kReady → kClearing → kShutdown → kAwaitNotify →
// kClear on CCC.
enum class ControlTls : uint8_t {
  kClear,        // clear text
  kStarting,     // StartTls: the replies before it go out in clear; no reads
  kHandshake,    // the handshake runs: no reads of lines, no writes of replies
  kReady,        // lines and replies go through TLS
  kClearing,     // ClearControl: the replies before it go out over TLS; no reads
  kShutdown,     // our close_notify goes out; no reads, no writes
  kAwaitNotify,  // clear text again; the client's close_notify, if it sends one, is read first
};

class Session {
 public:
  Session(SessionId sid, UniqueFd control, const SockAddr& peer, const SockAddr& local,
          size_t max_line);

  SessionId sid;
  UniqueFd control;
  SockAddr peer;
  SockAddr local;
  LineFramer framer;
  // Where its file operations and transfers resolve paths (beneath it): the
  // served root, or its account's home once a FileOp Home has answered.
  DirRef dir;

  IoHandle control_handle{IoHandle::Kind::kControl, this};
  IoHandle listener_handle{IoHandle::Kind::kListener, this};
  IoHandle data_handle{IoHandle::Kind::kData, this};

  // Unsent reply bytes; out_sent of them are already written.
  std::string out;
  size_t out_sent = 0;
  uint32_t control_events = 0;  // the epoll interest currently registered

  bool IsOpen() const { return lifecycle_ == Lifecycle::kOpen; }
  // Closing or lingering: its fd is still open, only to flush what it owes.
  bool IsClosing() const {
    return lifecycle_ == Lifecycle::kClosing || lifecycle_ == Lifecycle::kLingering;
  }
  bool IsLingering() const { return lifecycle_ == Lifecycle::kLingering; }
  bool IsGone() const { return lifecycle_ == Lifecycle::kGone; }
  // JS's Close: kOpen → kClosing.
  void BeginClose() { Move(Lifecycle::kOpen, Lifecycle::kClosing); }
  // Flushed only in part: kClosing → kLingering (Worker::Linger lists it).
  void BeginLinger() { Move(Lifecycle::kClosing, Lifecycle::kLingering); }
  // Closed, from any state but kGone (Worker::CloseSession).
  void MarkGone() {
    assert(lifecycle_ != Lifecycle::kGone);
    lifecycle_ = Lifecycle::kGone;
  }

  // The flags below are not part of the lifecycle: each says which of the
  // worker's lists or epoll sets the session is in, or why it is not read.
  // Each comes and goes while the lifecycle stays where it is, so folding
  // them into it would multiply its states, not remove impossible ones.
  //
  // Membership of the worker's dirty_ list: a session closed in this
  // iteration may still be listed (FlushOutputs skips it when it comes).
  bool in_dirty = false;
  bool in_tls_pending = false;  // on the worker's tls_pending_ list
  // Three reasons for EPOLLIN to be off, each lifted by someone else (the
  // worker once JS catches up; JS; no one), so none lifts another, and a
  // closing session keeps them while it flushes (SetControlEvents).
  bool read_paused = false;   // JS is behind: the worker's pause (paused_ list)
  bool input_paused = false;  // JS asked (PauseInput)
  bool input_ended = false;   // the client half-closed: off for good
  bool ReadsInput() const {
    return !read_paused && !input_paused && !input_ended && ControlReadsLines();
  }
  // TLS leaves the control connection's lines alone in these states.
  bool ControlReadsLines() const {
    return control_tls_state == ControlTls::kClear || control_tls_state == ControlTls::kReady ||
           control_tls_state == ControlTls::kAwaitNotify;
  }
  // The data connection is up, and so is its TLS when it has some.
  bool DataReady() const { return data_state == DataState::kConnected && (!data_tls || data_tls_ready); }

  ControlTls control_tls_state = ControlTls::kClear;
  std::unique_ptr<TlsChannel> control_tls;  // from kHandshake to kAwaitNotify
  // Came in on the implicit-TLS listener: JS hears of it (Open) only once its
  // handshake is done; until then it is not announced and closes unheard.
  bool announced = true;
  uint64_t handshake_deadline_ms = 0;  // an unannounced session's handshake ends by then
  // PROT P: data connections set up from now on are TLS servers.
  bool protect_data = false;
  std::unique_ptr<TlsChannel> data_tls;  // PROT P: the data connection's TLS
  bool data_tls_ready = false;           // its handshake is done (and resumed, when required)
  // A data connection refused before its transfer came (its handshake failed,
  // or did not resume): the TransferError that transfer ends with.
  int32_t data_setup_error = 0;

  DataState data_state = DataState::kNone;
  UniqueFd listener;             // a listener of its own (no passive port range)
  PassivePort* passive = nullptr;  // or a reservation in the shared pool
  SockAddr active_target;        // kActiveSet: where the data connection goes
  UniqueFd data;
  uint32_t data_events = 0;
  // `data` is in the epoll set (see Worker::SetDataEvents): a matter of the
  // data connection, which comes and goes within an open session.
  bool data_registered = false;
  std::unique_ptr<Transfer> transfer;
  // Membership of the worker's active_ and parked_ lists: a matter of the
  // transfer's scheduling, not of the session's life. A transfer is in one at
  // most (Activate refuses a parked one; Park takes one off active_ first).
  bool in_active = false;  // on the worker's list of transfers to step
  bool parked = false;     // throttled: on the worker's parked list
  uint64_t parked_until_ms = 0;
  uint64_t data_activity_ms = 0;  // last progress of the data setup (--data-timeout)

  size_t Unsent() const { return out.size() - out_sent; }
  void Append(const std::string& text) { out.append(text); }
  // Writes as much of `out` as the socket takes (through TLS when the
  // control connection speaks it): bytes left, or -errno.
  ssize_t Flush();

 private:
  ssize_t FlushTls();
  ssize_t Flushed();  // what is left, and the buffer reset once all is out

  void Move(Lifecycle from, Lifecycle to) {
    assert(lifecycle_ == from);
    static_cast<void>(from);
    lifecycle_ = to;
  }

  Lifecycle lifecycle_ = Lifecycle::kOpen;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_SESSION_H_
