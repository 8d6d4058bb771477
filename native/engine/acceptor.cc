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

}  // namespace

Acceptor::Acceptor(const EngineConfig& config, std::vector<Worker*> workers)
    : config_(config), workers_(std::move(workers)) {}

Acceptor::~Acceptor() { Stop(); }

int Acceptor::Bind(std::string* where) {
  SockAddr addr;
  if (!SockAddr::Parse(config_.host, config_.port, &addr)) {
    *where = "parse host address '" + config_.host + "'";
    return -EINVAL;
  }
  bool any6 = config_.host == "::";
  int fd = sys::TcpSocket(addr.Family());
  if (fd == -EAFNOSUPPORT && any6) {
    // No IPv6 on this host: "all interfaces" falls back to IPv4.
    SockAddr::Parse("0.0.0.0", config_.port, &addr);
    any6 = false;
    fd = sys::TcpSocket(AF_INET);
  }
  if (fd < 0) {
    *where = "create listening socket";
    return fd;
  }
  listen_.Reset(fd);
  sys::SetReuseAddr(fd);
  if (any6) sys::SetV6Only(fd, false);  // dual-stack: IPv4 clients arrive v4-mapped
  int r = sys::Bind(fd, addr);
  if (r < 0) {
    *where = "bind " + config_.host + " port " + std::to_string(config_.port);
    return r;
  }
  if ((r = sys::Listen(fd, kBacklog)) < 0) {
    *where = "listen";
    return r;
  }
  sys::LocalAddress(fd, &bound_);
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
  sys::EpollAdd(epoll_.Get(), stop_fd_.Get(), EPOLLIN, &stop_fd_);
  sys::EpollAdd(epoll_.Get(), listen_.Get(), EPOLLIN, &listen_);
  return 0;
}

void Acceptor::Start() { thread_ = std::thread([this] { Run(); }); }

void Acceptor::Stop() {
  if (thread_.joinable()) {
    sys::EventFdSignal(stop_fd_.Get());
    thread_.join();
  }
  listen_.Reset();  // new clients are refused by the kernel from here on
}

void Acceptor::Run() {
  epoll_event events[2];
  while (true) {
    int n = epoll_wait(epoll_.Get(), events, 2, paused_ ? kPauseMs : -1);
    if (n == -1 && errno != EINTR) return;
    if (n <= 0) {
      if (paused_) PauseListening(false);
      continue;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == &stop_fd_) return;
      AcceptAll();
    }
  }
}

void Acceptor::AcceptAll() {
  // Accept until the backlog is empty: one wakeup serves a whole burst.
  while (true) {
    SockAddr peer;
    int fd = sys::Accept(listen_.Get(), &peer);
    if (fd >= 0) {
      accepted_.fetch_add(1, std::memory_order_relaxed);
      HandOff(fd, peer);
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

void Acceptor::HandOff(int fd, const SockAddr& peer) {
  int total = 0;
  Worker* best = nullptr;
  int best_load = 0;
  for (Worker* w : workers_) {
    int load = w->clients.load(std::memory_order_relaxed);
    total += load;
    if (best == nullptr || load < best_load) {
      best = w;
      best_load = load;
    }
  }
  if (total >= config_.max_clients || best_load >= config_.clients_per_thread) {
    Reject(fd);
    return;
  }
  size_t index = 0;
  while (workers_[index] != best) ++index;
  Handoff msg{};
  msg.fd = fd;
  msg.sid = next_id_++ * workers_.size() + index;
  msg.peer = peer;
  best->clients.fetch_add(1);
  if (sys::Send(best->HandoffFd(), &msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) {
    best->clients.fetch_sub(1);
    Reject(fd);
  }
}

void Acceptor::Reject(int fd) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  // Best effort: a fresh socket's send buffer always takes one short line.
  sys::Send(fd, config_.busy_reply.data(), config_.busy_reply.size());
  sys::Close(fd);
}

void Acceptor::PauseListening(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  sys::EpollMod(epoll_.Get(), listen_.Get(), paused ? 0u : uint32_t{EPOLLIN}, &listen_);
}

}  // namespace muxftpd
