// One client: its control connection, output buffer and data-connection
// state. Owned by exactly one worker; touched only on that worker's thread.
#ifndef MUXFTPD_ENGINE_SESSION_H_
#define MUXFTPD_ENGINE_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "file_ops.h"
#include "line_framer.h"
#include "protocol.h"
#include "sys.h"
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
  bool closing = false;         // close once `out` is flushed
  bool dead = false;            // closed this iteration; freed at its end
  bool in_dirty = false;        // queued for an output flush this iteration
  bool lingering = false;       // closing with output unread: on the worker's lingering list
  bool read_paused = false;     // EPOLLIN dropped while JS is behind (the worker's pause)
  bool input_paused = false;    // EPOLLIN dropped at JS's request (PauseInput): a flag of its
                                // own, so neither pause lifts the other
  bool input_ended = false;     // the client half-closed: EPOLLIN stays off for good

  DataState data_state = DataState::kNone;
  UniqueFd listener;             // a listener of its own (no passive port range)
  PassivePort* passive = nullptr;  // or a reservation in the shared pool
  SockAddr active_target;        // kActiveSet: where the data connection goes
  UniqueFd data;
  uint32_t data_events = 0;
  bool data_registered = false;  // `data` is in the epoll set (see Worker::SetDataEvents)
  std::unique_ptr<Transfer> transfer;
  bool in_active = false;       // on the worker's list of transfers to step
  bool parked = false;          // throttled: on the worker's parked list
  uint64_t parked_until_ms = 0;
  uint64_t data_activity_ms = 0;  // last progress of the data setup (--data-timeout)

  size_t Unsent() const { return out.size() - out_sent; }
  void Append(const std::string& text) { out.append(text); }
  // Writes as much of `out` as the socket takes: bytes left, or -errno.
  ssize_t Flush();
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_SESSION_H_
