#include "acceptor.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>

#include "worker.h"

namespace muxftpd {

namespace {

// After EMFILE/ENFILE the acceptor stops watching the listener this long, so
// a full fd table costs a timer tick instead of a spinning accept loop (nginx).
constexpr int kPauseMs = 100;
constexpr int kBacklog = 4096;
// Past this many hand-offs waiting for all workers, new clients get 421.
constexpr size_t kMaxPendingHandoffs = 65536;

}  // namespace

Acceptor::Acceptor(const EngineConfig& config, std::vector<Worker*> workers, ClientLedger* ledger,
                   EventSink* sink)
    : config_(config), workers_(std::move(workers)), ledger_(ledger), sink_(sink), backlogs_(workers_.size()) {}

Acceptor::~Acceptor() { Stop(); }

// One listening socket on config host and `port`: 0, or -errno with `where` set.
int Acceptor::OpenListener(uint16_t port, UniqueFd* out, SockAddr* bound, std::string* where) {
  SockAddr addr;
  if (!SockAddr::Parse(config_.host, port, &addr)) {
    *where = "parse host address '" + config_.host + "'";
    return -EINVAL;
  }
  bool any6 = config_.host == "::";
  int fd = sys::TcpSocket(addr.Family());
  if (fd == -EAFNOSUPPORT && any6) {
    // No IPv6 on this host: "all interfaces" falls back to IPv4.
    SockAddr::Parse("0.0.0.0", port, &addr);
    any6 = false;
    fd = sys::TcpSocket(AF_INET);
  }
  if (fd < 0) {
    *where = "create listening socket";
    return fd;
  }
  out->Reset(fd);
  int r = sys::SetReuseAddr(fd);
  // Several server processes (--processes) bind the same port; the kernel
  // spreads new connections over their listeners.
  if (r == 0 && config_.reuse_port) r = sys::SetReusePort(fd);
  if (r == 0 && any6) r = sys::SetV6Only(fd, false);  // dual-stack: IPv4 clients arrive v4-mapped
  // Control connections take these over from the listener (Linux clones its
  // socket state at accept), which spares two setsockopt calls per client:
  // replies leave at once (no Nagle wait), and ABOR's Telnet "Synch", sent as
  // urgent data (ftplib puts the line's last byte there), stays in the stream
  // where the line ends.
  if (r == 0) r = sys::SetNoDelay(fd);
  if (r == 0) r = sys::SetOobInline(fd);
  if (r < 0) {
    *where = "set the listening socket's options";
    return r;
  }
  r = sys::Bind(fd, addr);
  if (r < 0) {
    *where = "bind " + config_.host + " port " + std::to_string(port);
    return r;
  }
  if ((r = sys::Listen(fd, kBacklog)) < 0) {
    *where = "listen";
    return r;
  }
  if ((r = sys::LocalAddress(fd, bound)) < 0) {
    *where = "read the listening address";
    return r;
  }
  return 0;
}

int Acceptor::Bind(std::string* where) {
  int r = OpenListener(config_.port, &listen_, &bound_, where);
  if (r < 0) return r;
  if (config_.tls.enabled && config_.tls.implicit) {
    r = OpenListener(config_.tls.implicit_port, &implicit_listen_, &implicit_bound_, where);
    if (r < 0) {
      *where += " (implicit TLS)";
      return r;
    }
  }
  if ((r = sys::EpollCreate()) < 0) {
    *where = "epoll_create";
    return r;
  }
  epoll_.Reset(r);
  if ((r = sys::EventFd()) < 0) {
    *where = "eventfd";
    return r;
  }
  stop_fd_.Reset(r);
  r = sys::EpollAdd(epoll_.Get(), stop_fd_.Get(), EPOLLIN, &stop_fd_);
  if (r == 0) r = sys::EpollAdd(epoll_.Get(), listen_.Get(), EPOLLIN, &listen_);
  if (r == 0 && implicit_listen_.Valid()) {
    r = sys::EpollAdd(epoll_.Get(), implicit_listen_.Get(), EPOLLIN, &implicit_listen_);
  }
  for (size_t i = 0; r == 0 && i < workers_.size(); ++i) {
    // Registered with no interest: EPOLLOUT is armed only while a backlog waits.
    r = sys::EpollAdd(epoll_.Get(), workers_[i]->HandoffFd(), 0, &backlogs_[i]);
  }
  if (r < 0) *where = "watch the acceptor's fds";
  return r;
}

void Acceptor::Start() { thread_ = std::thread([this] { Run(); }); }

void Acceptor::Stop() {
  if (thread_.joinable()) {
    sys::EventFdSignal(stop_fd_.Get());
    thread_.join();
  }
  listen_.Reset();  // new clients are refused by the kernel from here on
  implicit_listen_.Reset();
  CloseBacklogs();
}

void Acceptor::CloseBacklogs() {
  for (size_t i = 0; i < backlogs_.size(); ++i) {
    for (const Handoff& h : backlogs_[i].pending) {
      sys::Close(h.fd);
      workers_[i]->Departed(h.peer);
    }
    backlogs_[i].pending.clear();
  }
  backlog_total_ = 0;
}

void Acceptor::Run() {
  sys::NameThisThread("muxftpd-accept");
  std::vector<epoll_event> events(3 + workers_.size());
  while (true) {
    int n = sys::EpollWait(epoll_.Get(), events.data(), static_cast<int>(events.size()),
                           paused_ ? kPauseMs : -1);
    if (n < 0) {
      // No new client would be served: say so (as a worker does), then stop.
      auto batch = std::make_unique<EventBatch>(1);
      Event& e = batch->front();
      e.type = EventType::kLoopFailed;
      e.error = n;
      e.text = "acceptor";
      sink_->Deliver(-1, std::move(batch));
      return;
    }
    if (n <= 0) {
      if (paused_) PauseListening(false);
      continue;
    }
    for (int i = 0; i < n; ++i) {
      void* ptr = events[i].data.ptr;
      if (ptr == &stop_fd_) return;
      if (ptr == &listen_ || ptr == &implicit_listen_) {
        AcceptAll(static_cast<UniqueFd*>(ptr));
      } else {
        FlushBacklog(static_cast<size_t>(static_cast<Backlog*>(ptr) - backlogs_.data()));
      }
    }
  }
}

void Acceptor::AcceptAll(UniqueFd* listener) {
  bool implicit_tls = listener == &implicit_listen_;
  // Accept until the backlog is empty: one wakeup serves a whole burst.
  while (true) {
    SockAddr peer;
    int fd = sys::Accept(listener->Get(), &peer);
    if (fd >= 0) {
      accepted_.fetch_add(1, std::memory_order_relaxed);
      // A new connection ACKs its first segments at once (quick-ACK mode):
      // USER would cost a bare ACK before the 331 that could carry it. Set
      // per socket because an accepted socket does not inherit it. Linux
      // leaves this mode by itself if a reply ever takes longer than the
      // delayed-ACK timeout, so a slow command delays nothing more.
      sys::SetDelayedAck(fd);
      HandOff(fd, peer, implicit_tls);
      continue;
    }
    if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
      PauseListening(true);
      return;
    }
    if (fd == -EAGAIN || fd == -EWOULDBLOCK) return;
    // ECONNABORTED and friends: that one client is gone, the next may be fine.
  }
}

void Acceptor::HandOff(int fd, const SockAddr& peer, bool implicit_tls) {
  Worker* best = nullptr;
  int best_load = 0;
  for (Worker* w : workers_) {
    int load = w->clients.load(std::memory_order_relaxed);
    if (best == nullptr || load < best_load) {
      best = w;
      best_load = load;
    }
  }
  if (best_load >= config_.clients_per_thread) {
    Reject(fd, ClientLedger::Verdict::kTooMany, implicit_tls);
    return;
  }
  // The limits over all the server's processes: counted from here on, until
  // the worker's Departed, or the Release below when the hand-off fails.
  ClientLedger::Verdict verdict = ledger_->Admit(peer);
  if (verdict != ClientLedger::Verdict::kOk) {
    Reject(fd, verdict, implicit_tls);
    return;
  }
  size_t index = 0;
  while (workers_[index] != best) ++index;
  Handoff msg{};
  msg.fd = fd;
  msg.sid = next_id_++ * workers_.size() + index;
  msg.peer = peer;
  msg.implicit_tls = implicit_tls;
  Backlog& backlog = backlogs_[index];
  if (backlog.pending.empty()) {
    ssize_t n = sys::Send(best->HandoffFd(), &msg, sizeof msg);
    if (n == static_cast<ssize_t>(sizeof msg)) {
      best->clients.fetch_add(1);
      return;
    }
    if (n != -EAGAIN) {
      ledger_->Release(peer);
      Reject(fd, ClientLedger::Verdict::kTooMany, implicit_tls);
      return;
    }
  }
  // A backlog waits for the handoff socket to drain: without EPOLLOUT armed it
  // would never be sent, so a client that cannot be queued that way is turned away.
  if (backlog_total_ >= kMaxPendingHandoffs ||
      (!backlog.watching && sys::EpollMod(epoll_.Get(), best->HandoffFd(), EPOLLOUT, &backlog) < 0)) {
    ledger_->Release(peer);
    Reject(fd, ClientLedger::Verdict::kTooMany, implicit_tls);
    return;
  }
  backlog.watching = true;
  best->clients.fetch_add(1);
  backlog.pending.push_back(msg);
  ++backlog_total_;
}

void Acceptor::FlushBacklog(size_t index) {
  Backlog& backlog = backlogs_[index];
  while (!backlog.pending.empty()) {
    const Handoff& msg = backlog.pending.front();
    ssize_t n = sys::Send(workers_[index]->HandoffFd(), &msg, sizeof msg);
    if (n == -EAGAIN) return;
    if (n != static_cast<ssize_t>(sizeof msg)) {
      workers_[index]->Departed(msg.peer);
      Reject(msg.fd, ClientLedger::Verdict::kTooMany, msg.implicit_tls);
    }
    backlog.pending.pop_front();
    --backlog_total_;
  }
  // Disarmed; should that fail, the next loop finds the backlog empty and tries again.
  backlog.watching = sys::EpollMod(epoll_.Get(), workers_[index]->HandoffFd(), 0, &backlog) < 0;
}

void Acceptor::Reject(int fd, ClientLedger::Verdict why, bool implicit_tls) {
  bool per_ip = why == ClientLedger::Verdict::kTooManyFromAddress;
  (per_ip ? rejected_per_ip_ : rejected_).fetch_add(1, std::memory_order_relaxed);
  if (implicit_tls) {
    // A TLS client cannot read a clear-text 421, and a handshake to say it
    // would cost what the limit is there to spare: the close says it.
    sys::Close(fd);
    return;
  }
  const std::string& reply = per_ip ? config_.per_ip_reply : config_.busy_reply;
  // Best effort: a fresh socket's send buffer always takes one short line,
  // which the close may carry with its FIN; a client already gone gets nothing.
  [[maybe_unused]] ssize_t sent = sys::Send(fd, reply.data(), reply.size(), sys::LastBytesMayWait(fd));
  sys::Close(fd);
}

void Acceptor::PauseListening(bool paused) {
  if (paused == paused_) return;
  // Unchanged when epoll refuses: still listening (or paused), tried again next time.
  uint32_t events = paused ? 0u : uint32_t{EPOLLIN};
  if (sys::EpollMod(epoll_.Get(), listen_.Get(), events, &listen_) == 0) paused_ = paused;
  if (implicit_listen_.Valid()) {
    static_cast<void>(sys::EpollMod(epoll_.Get(), implicit_listen_.Get(), events, &implicit_listen_));
  }
}

}  // namespace muxftpd
