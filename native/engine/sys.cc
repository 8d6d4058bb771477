#include "sys.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "sys_retry.h"

namespace muxftpd {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) sys::Close(fd_);
  fd_ = fd;
}

uint16_t SockAddr::Port() const {
  if (Family() == AF_INET) return ntohs(storage.in4.sin_port);
  return ntohs(storage.in6.sin6_port);
}

void SockAddr::SetPort(uint16_t port) {
  if (Family() == AF_INET) {
    storage.in4.sin_port = htons(port);
  } else {
    storage.in6.sin6_port = htons(port);
  }
}

bool SockAddr::SameHost(const SockAddr& other) const {
  if (Family() != other.Family()) return false;
  if (Family() == AF_INET) {
    return storage.in4.sin_addr.s_addr == other.storage.in4.sin_addr.s_addr;
  }
  return memcmp(&storage.in6.sin6_addr, &other.storage.in6.sin6_addr, sizeof(in6_addr)) == 0;
}

std::string SockAddr::HostString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (Family() == AF_INET) {
    inet_ntop(AF_INET, &storage.in4.sin_addr, buf, sizeof buf);
  } else if (Family() == AF_INET6) {
    inet_ntop(AF_INET6, &storage.in6.sin6_addr, buf, sizeof buf);
  }
  return buf;
}

void SockAddr::Normalize() {
  if (Family() != AF_INET6) return;
  const sockaddr_in6 in6 = storage.in6;
  if (!IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) return;
  storage = {};
  storage.in4.sin_family = AF_INET;
  storage.in4.sin_port = in6.sin6_port;
  memcpy(&storage.in4.sin_addr, &in6.sin6_addr.s6_addr[12], 4);
  len = sizeof storage.in4;
}

bool SockAddr::Parse(const std::string& host, uint16_t port, SockAddr* out) {
  *out = {};
  if (inet_pton(AF_INET, host.c_str(), &out->storage.in4.sin_addr) == 1) {
    out->storage.in4.sin_family = AF_INET;
    out->storage.in4.sin_port = htons(port);
    out->len = sizeof out->storage.in4;
    return true;
  }
  *out = {};
  if (inet_pton(AF_INET6, host.c_str(), &out->storage.in6.sin6_addr) == 1) {
    out->storage.in6.sin6_family = AF_INET6;
    out->storage.in6.sin6_port = htons(port);
    out->len = sizeof out->storage.in6;
    out->Normalize();
    return true;
  }
  return false;
}

namespace sys {

using sys_internal::RetryEintr;

int Close(int fd) {
  // Linux closes the fd even when close() reports EINTR: never retry.
  return close(fd) == -1 ? -errno : 0;
}

int TcpSocket(int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return fd == -1 ? -errno : fd;
}

int SetReuseAddr(int fd) {
  int on = 1;
  return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ? -errno : 0;
}

int SetReusePort(int fd) {
  int on = 1;
  return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == -1 ? -errno : 0;
}

int SetNoDelay(int fd) {
  int on = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1 ? -errno : 0;
}

int SetCork(int fd, bool on) {
  int v = on ? 1 : 0;
  return setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v) == -1 ? -errno : 0;
}

int SetDelayedAck(int fd) {
  int off = 0;
  return setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) == -1 ? -errno : 0;
}

int SetOobInline(int fd) {
  int on = 1;
  return setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof on) == -1 ? -errno : 0;
}

int SetBindNoPort(int fd) {
  int on = 1;
  return setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on) == -1 ? -errno : 0;
}

int SetV6Only(int fd, bool on) {
  int v = on ? 1 : 0;
  return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) == -1 ? -errno : 0;
}

int Bind(int fd, const SockAddr& addr) {
  return bind(fd, &addr.storage.sa, addr.len) == -1 ? -errno : 0;
}

int Listen(int fd, int backlog) { return listen(fd, backlog) == -1 ? -errno : 0; }

int Accept(int fd, SockAddr* peer) {
  peer->len = sizeof peer->storage;
  int r = RetryEintr([&] {
    return accept4(fd, &peer->storage.sa, &peer->len,
                   SOCK_NONBLOCK | SOCK_CLOEXEC);
  });
  if (r >= 0) peer->Normalize();
  return r;
}

int Connect(int fd, const SockAddr& addr) {
  // A non-blocking connect interrupted by a signal goes on in the background,
  // like EINPROGRESS: it must not be retried.
  if (connect(fd, &addr.storage.sa, addr.len) == 0) return 0;
  return errno == EINTR ? -EINPROGRESS : -errno;
}

int SocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) return -errno;
  return -err;
}

int LocalAddress(int fd, SockAddr* out) {
  out->len = sizeof out->storage;
  if (getsockname(fd, &out->storage.sa, &out->len) == -1) return -errno;
  out->Normalize();
  return 0;
}

int64_t UnackedBytes(int fd) {
  int n = 0;
  if (ioctl(fd, SIOCOUTQ, &n) == -1) return -errno;
  return n;
}

int64_t UnreadBytes(int fd) {
  int n = 0;
  if (ioctl(fd, SIOCINQ, &n) == -1) return -errno;
  return n;
}

bool LastBytesMayWait(int fd) { return UnreadBytes(fd) == 0; }

ssize_t Read(int fd, void* buf, size_t len) {
  return RetryEintr([&] { return read(fd, buf, len); });
}

ssize_t Peek(int fd, void* buf, size_t len) {
  return RetryEintr([&] { return recv(fd, buf, len, MSG_PEEK | MSG_DONTWAIT); });
}

ssize_t Send(int fd, const void* buf, size_t len, bool more) {
  int flags = MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0);
  return RetryEintr([&] { return send(fd, buf, len, flags); });
}

int EpollCreate() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd == -1 ? -errno : fd;
}

int EpollAdd(int epfd, int fd, uint32_t events, void* ptr) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = ptr;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1 ? -errno : 0;
}

int EpollMod(int epfd, int fd, uint32_t events, void* ptr) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = ptr;
  return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == -1 ? -errno : 0;
}

int EpollDel(int epfd, int fd) {
  return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr) == -1 ? -errno : 0;
}

int EpollWait(int epfd, epoll_event* events, int max_events, int timeout_ms) {
  int n = epoll_wait(epfd, events, max_events, timeout_ms);
  if (n == -1) return errno == EINTR ? 0 : -errno;
  return n;
}

int EventFd() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  return fd == -1 ? -errno : fd;
}

int EventFdSignal(int fd) {
  uint64_t one = 1;
  return static_cast<int>(RetryEintr([&] { return write(fd, &one, sizeof one); }));
}

int EventFdDrain(int fd) {
  uint64_t value = 0;
  return static_cast<int>(RetryEintr([&] { return read(fd, &value, sizeof value); }));
}

int SeqPacketPair(int fds[2]) {
  return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == -1 ? -errno : 0;
}

int64_t RaiseFdLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == -1) return -errno;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) == -1) return -errno;
  }
  return static_cast<int64_t>(lim.rlim_cur);
}

void ReleaseFreeMemory() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Under a sanitizer malloc is the sanitizer's, and glibc's allocator may
  // never have been set up: a first malloc_trim from this thread would set
  // it up and attach this thread to glibc's main arena without counting it,
  // and a later thread exit then fails glibc's arena assertion
  // (__malloc_arena_thread_freeres: a->attached_threads > 0), which killed
  // a test process of the ASan run. There is nothing of glibc's to trim.
  return;
#else
  malloc_trim(0);
#endif
}

void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

uint64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace sys
}  // namespace muxftpd
