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

namespace muxftpd {

namespace {

template <typename F>
auto RetryEintr(F f) -> decltype(f()) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r == -1 ? -errno : r;
}

}  // namespace

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

ssize_t Send(int fd, const void* buf, size_t len, bool more) {
  int flags = MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0);
  return RetryEintr([&] { return send(fd, buf, len, flags); });
}

ssize_t PRead(int fd, void* buf, size_t len, uint64_t offset) {
  return RetryEintr([&] { return pread(fd, buf, len, static_cast<off_t>(offset)); });
}

int PWriteAll(int fd, const void* buf, size_t len, uint64_t offset) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = RetryEintr([&] { return pwrite(fd, p, len, static_cast<off_t>(offset)); });
    if (n < 0) return static_cast<int>(n);
    p += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

ssize_t SendFile(int out_fd, int in_fd, uint64_t* offset, size_t len) {
  off_t off = static_cast<off_t>(*offset);
  ssize_t n = RetryEintr([&] { return sendfile(out_fd, in_fd, &off, len); });
  if (n > 0) *offset = static_cast<uint64_t>(off);
  return n;
}

int StartWriteback(int fd, uint64_t offset, uint64_t len) {
  return RetryEintr([&] {
    return sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(len), SYNC_FILE_RANGE_WRITE);
  });
}

uint64_t PageSize() { return static_cast<uint64_t>(sysconf(_SC_PAGESIZE)); }

int Truncate(int fd) {
  return RetryEintr([&] { return ftruncate(fd, 0); });
}

int Dup(int fd) {
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return r == -1 ? -errno : r;
}

int DropCache(int fd, uint64_t offset, uint64_t len) {
  // posix_fadvise returns the error number instead of setting errno.
  return -posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(len), POSIX_FADV_DONTNEED);
}

namespace {

// The fallback for kernels without openat2: walk the path one component at a
// time with O_NOFOLLOW, so no symlink and no ".." is ever followed.
int OpenByWalk(int root_fd, const std::string& path, int flags, unsigned mode) {
  UniqueFd dir;
  int at = root_fd;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") return -EXDEV;
    if (slash == std::string::npos) {
      const char* name = part.empty() ? "." : part.c_str();
      return RetryEintr([&] { return openat(at, name, flags | O_NOFOLLOW | O_CLOEXEC, mode); });
    }
    if (!part.empty() && part != ".") {
      int fd = RetryEintr([&] {
        return openat(at, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      });
      if (fd < 0) return fd;
      dir.Reset(fd);
      at = fd;
    }
    start = slash + 1;
  }
}

}  // namespace

int OpenBeneath(int root_fd, const std::string& path, int flags, unsigned mode) {
  // Every worker thread learns the same answer; atomic, so that learning it is no data race.
  static std::atomic<bool> have_openat2{true};
  const char* rel = path.empty() ? "." : path.c_str();
  if (have_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    // EAGAIN: a rename or mount anywhere in the system raced a ".." of this
    // lookup (a symlink such as ../x), so the kernel could not be sure it
    // stayed beneath; openat2(2) says to retry. A few tries clear a busy
    // system's renames; a lookup raced on every try still fails.
    int fd = -EAGAIN;
    for (int attempt = 0; fd == -EAGAIN && attempt < 8; ++attempt) {
      fd = RetryEintr([&] {
        return static_cast<int>(syscall(SYS_openat2, root_fd, rel, &how, sizeof how));
      });
    }
    if (fd != -ENOSYS) return fd;
    have_openat2.store(false, std::memory_order_relaxed);
  }
  return OpenByWalk(root_fd, path, flags, mode);
}

int OpenDirectory(const std::string& path) {
  return RetryEintr([&] { return open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); });
}

namespace {

void Fill(const struct stat& st, FileStat* out) {
  out->mode = st.st_mode;
  out->nlink = static_cast<uint32_t>(st.st_nlink);
  out->size = static_cast<uint64_t>(st.st_size);
  out->mtime_ms = static_cast<double>(st.st_mtim.tv_sec) * 1000 + static_cast<double>(st.st_mtim.tv_nsec / 1000000);
  out->dev = st.st_dev;
  out->ino = st.st_ino;
}

}  // namespace

int StatFd(int fd, FileStat* out) {
  struct stat st {};
  if (fstat(fd, &st) == -1) return -errno;
  Fill(st, out);
  return 0;
}

int StatAt(int dir_fd, const char* name, FileStat* out) {
  struct stat st {};
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) return -errno;
  Fill(st, out);
  return 0;
}

int MkdirAt(int dir_fd, const char* name, unsigned mode) {
  return RetryEintr([&] { return mkdirat(dir_fd, name, mode); });
}

int UnlinkAt(int dir_fd, const char* name, bool directory) {
  return RetryEintr([&] { return unlinkat(dir_fd, name, directory ? AT_REMOVEDIR : 0); });
}

int RenameAt(int from_dir, const char* from, int to_dir, const char* to) {
  return RetryEintr([&] { return renameat(from_dir, from, to_dir, to); });
}

int ReadDirNames(int dir_fd, std::vector<std::string>* names) {
  // getdents64 directly: fdopendir would take the fd over.
  alignas(8) char buf[32 * 1024];
  while (true) {
    long n = RetryEintr([&] { return static_cast<int>(syscall(SYS_getdents64, dir_fd, buf, sizeof buf)); });
    if (n < 0) return static_cast<int>(n);
    if (n == 0) return 0;
    for (long at = 0; at < n;) {
      auto* d = reinterpret_cast<const struct dirent64*>(buf + at);
      std::string_view name(d->d_name);
      if (name != "." && name != "..") names->emplace_back(name);
      at += d->d_reclen;
    }
  }
}

int LockFile(int fd, bool exclusive) {
  struct flock lock {};
  lock.l_type = static_cast<short>(exclusive ? F_WRLCK : F_RDLCK);
  lock.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file, however it grows
  int r = RetryEintr([&] { return fcntl(fd, F_OFD_SETLK, &lock); });
  // POSIX lets a conflict be EACCES too: one answer for callers.
  return r == -EACCES ? -EAGAIN : r;
}

int UnlockFile(int fd) {
  struct flock lock {};
  lock.l_type = F_UNLCK;
  lock.l_whence = SEEK_SET;
  return RetryEintr([&] { return fcntl(fd, F_OFD_SETLK, &lock); });
}

int RandomBytes(void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = RetryEintr([&] { return getrandom(p, len, 0); });
    if (n < 0) return static_cast<int>(n);
    p += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

int FileSize(int fd, uint64_t* size, bool* regular) {
  struct stat st {};
  if (fstat(fd, &st) == -1) return -errno;
  *size = static_cast<uint64_t>(st.st_size);
  *regular = S_ISREG(st.st_mode);
  return 0;
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
