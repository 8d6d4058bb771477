#include "session.h"

#include <cerrno>
#include <utility>

namespace muxftpd {

Session::Session(SessionId id, UniqueFd fd, const SockAddr& peer_addr, const SockAddr& local_addr,
                 size_t max_line)
    : sid(id), control(std::move(fd)), peer(peer_addr), local(local_addr), framer(max_line) {}

ssize_t Session::Flush() {
  if (control_tls_state == ControlTls::kHandshake || control_tls_state == ControlTls::kShutdown) {
    return static_cast<ssize_t>(Unsent());  // nothing may cut into the TLS exchange: it waits
  }
  if (control_tls_state == ControlTls::kReady || control_tls_state == ControlTls::kClearing) return FlushTls();
  // A closing session's last bytes wait for the close right after, which
  // sends them with its FIN: one segment and one wakeup of the client instead
  // of two (a partial write's rest goes out as ACKs come in). Input arriving
  // in the microseconds between the check and the close still makes it a
  // reset and loses that reply: a narrow window, taken for one segment less
  // on every clean close.
  bool more = IsClosing() && sys::LastBytesMayWait(control.Get());
  while (out_sent < out.size()) {
    ssize_t n = sys::Send(control.Get(), out.data() + out_sent, out.size() - out_sent, more);
    if (n == -EAGAIN || n == -EWOULDBLOCK) break;
    if (n < 0) return n;
    out_sent += static_cast<size_t>(n);
  }
  return Flushed();
}

// Through TLS: one record per reply batch, as long as the socket takes them.
ssize_t Session::FlushTls() {
  while (out_sent < out.size()) {
    ssize_t n = control_tls->Write(out.data() + out_sent, out.size() - out_sent);
    if (n == -EAGAIN) break;
    if (n < 0) return n == -EPROTO ? -EIO : n;
    out_sent += static_cast<size_t>(n);
  }
  if (out_sent == out.size()) {
    // What the TLS layer queued itself (a KeyUpdate in answer to the
    // client's) goes out too; want() kWrite keeps EPOLLOUT until it has.
    ssize_t n = control_tls->FlushPending();
    if (n < 0 && n != -EAGAIN) return n == -EPROTO ? -EIO : n;
  }
  return Flushed();
}

ssize_t Session::Flushed() {
  if (out_sent == out.size()) {
    out.clear();
    out_sent = 0;
    // A burst of replies (a long listing of HELP, say) should not pin memory
    // for the rest of an idle session's life.
    if (out.capacity() > 4096) out.shrink_to_fit();
    return 0;
  }
  return static_cast<ssize_t>(out.size() - out_sent);
}

}  // namespace muxftpd
