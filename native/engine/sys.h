// The only place that calls raw syscalls (vsftpd's sysutil.c, uSockets' bsd.c).
// Every function returns a value >= 0 on success or a negated errno, and
// retries EINTR itself, so callers never read errno.
#ifndef MUXFTPD_ENGINE_SYS_H_
#define MUXFTPD_ENGINE_SYS_H_

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace muxftpd {

// Owns one file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(other.Release());
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int Get() const { return fd_; }
  bool Valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A socket address with IPv4-mapped IPv6 addresses folded to plain IPv4, so
// that a dual-stack listener's clients compare and print as IPv4 clients.
struct SockAddr {
  // Big enough for IPv4 and IPv6 and no more: every session keeps two.
  union Storage {
    sockaddr sa;
    sockaddr_in in4;
    sockaddr_in6 in6;
  } storage{};
  socklen_t len = 0;

  int Family() const { return storage.sa.sa_family; }
  uint16_t Port() const;
  void SetPort(uint16_t port);
  bool SameHost(const SockAddr& other) const;
  std::string HostString() const;
  void Normalize();
  // Parses a numeric IPv4 or IPv6 address; false when it is neither.
  static bool Parse(const std::string& host, uint16_t port, SockAddr* out);
};

namespace sys {

// Results carry [[nodiscard]], but for the few calls whose failure leaves
// nothing to do: a close (the fd is gone either way), advisory hints (cork,
// delayed ACKs, a bind without a port, writeback, the page cache), eventfd
// signals (a counter that cannot overflow in practice), and taking an fd out
// of an epoll set right before closing it (the close removes it anyway).

int Close(int fd);
[[nodiscard]] int TcpSocket(int family);
[[nodiscard]] int SetReuseAddr(int fd);
[[nodiscard]] int SetReusePort(int fd);
[[nodiscard]] int SetNoDelay(int fd);
int SetCork(int fd, bool on);
// TCP_QUICKACK off: ACKs wait briefly for data to ride on (a reply does).
int SetDelayedAck(int fd);
[[nodiscard]] int SetOobInline(int fd);
int SetBindNoPort(int fd);
[[nodiscard]] int SetV6Only(int fd, bool on);
[[nodiscard]] int Bind(int fd, const SockAddr& addr);
[[nodiscard]] int Listen(int fd, int backlog);
[[nodiscard]] int Accept(int fd, SockAddr* peer);
[[nodiscard]] int Connect(int fd, const SockAddr& addr);  // 0, -EINPROGRESS, or -errno
[[nodiscard]] int SocketError(int fd);                    // pending SO_ERROR, negated
[[nodiscard]] int LocalAddress(int fd, SockAddr* out);
// Bytes written to a TCP socket that its peer has not acknowledged yet
// (SIOCOUTQ), or -errno.
[[nodiscard]] int64_t UnackedBytes(int fd);
// Bytes received on a TCP socket and not read yet (SIOCINQ), or -errno.
[[nodiscard]] int64_t UnreadBytes(int fd);
// Whether the last bytes written before closing `fd` may wait (Send's `more`)
// for the close to carry them with its FIN: not while input lies unread, as
// that close sends a reset, which discards bytes not sent yet.
[[nodiscard]] bool LastBytesMayWait(int fd);
[[nodiscard]] ssize_t Read(int fd, void* buf, size_t len);
// MSG_NOSIGNAL; `more` adds MSG_MORE: the bytes may wait for more (or a close).
[[nodiscard]] ssize_t Send(int fd, const void* buf, size_t len, bool more = false);
// recv(MSG_PEEK): the next bytes of a socket, left in it.
[[nodiscard]] ssize_t Peek(int fd, void* buf, size_t len);
[[nodiscard]] ssize_t PRead(int fd, void* buf, size_t len, uint64_t offset);
[[nodiscard]] int PWriteAll(int fd, const void* buf, size_t len, uint64_t offset);
[[nodiscard]] ssize_t SendFile(int out_fd, int in_fd, uint64_t* offset, size_t len);
// Starts writeback of [offset, offset+len) without waiting for it to complete
// (sync_file_range); it may still block while the device's queue is full.
int StartWriteback(int fd, uint64_t offset, uint64_t len);
// Drops the cached pages of [offset, offset+len) that are clean
// (POSIX_FADV_DONTNEED; dirty pages and pages under writeback stay).
int DropCache(int fd, uint64_t offset, uint64_t len);
uint64_t PageSize();
// Empties the file (ftruncate to 0).
[[nodiscard]] int Truncate(int fd);
// A close-on-exec duplicate of fd, or -errno.
[[nodiscard]] int Dup(int fd);
// Opens path (relative, no leading '/') strictly beneath root_fd: openat2 with
// RESOLVE_BENEATH, or, where the kernel lacks it, a component walk that
// refuses every symlink and "..".
[[nodiscard]] int OpenBeneath(int root_fd, const std::string& path, int flags, unsigned mode);
[[nodiscard]] int OpenDirectory(const std::string& path);

// What a stat record carries (protocol.h MUXFTPD_STAT_FIELDS).
struct FileStat {
  uint32_t mode = 0;
  uint32_t nlink = 0;
  uint64_t size = 0;
  double mtime_ms = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
};
// fstat of an open fd (an O_PATH one too).
[[nodiscard]] int StatFd(int fd, FileStat* out);
// The entry `name` of the directory dir_fd itself: a symlink is not followed.
[[nodiscard]] int StatAt(int dir_fd, const char* name, FileStat* out);
[[nodiscard]] int MkdirAt(int dir_fd, const char* name, unsigned mode);
// unlinkat: a file, or with `directory` an empty directory.
[[nodiscard]] int UnlinkAt(int dir_fd, const char* name, bool directory);
[[nodiscard]] int RenameAt(int from_dir, const char* from, int to_dir, const char* to);
// Appends the names in the directory open as dir_fd (not "." and "..") to
// `names`. dir_fd stays open and owned by the caller; its offset moves.
[[nodiscard]] int ReadDirNames(int dir_fd, std::vector<std::string>* names);
// A non-blocking open-file-description lock on the whole file (fcntl
// F_OFD_SETLK): shared (fd open for reading) or exclusive (open for writing).
// -EAGAIN when another open file description holds a conflicting lock. The
// lock belongs to the open file description, not to the process, so it
// conflicts between the process's own fds too, and it goes with the
// description's last close (or UnlockFile).
[[nodiscard]] int LockFile(int fd, bool exclusive);
[[nodiscard]] int UnlockFile(int fd);
// Fills buf from the kernel's random pool (getrandom); -errno.
[[nodiscard]] int RandomBytes(void* buf, size_t len);
[[nodiscard]] int FileSize(int fd, uint64_t* size, bool* regular);
// An anonymous shared-memory file of `size` zero bytes (memfd_create with
// MFD_CLOEXEC, then ftruncate): its fd, or -errno.
[[nodiscard]] int SharedMemory(const char* name, uint64_t size);
// Maps `size` bytes of `fd` read-write and MAP_SHARED: 0 with *out set, or -errno.
[[nodiscard]] int MapShared(int fd, uint64_t size, void** out);
int Unmap(void* addr, uint64_t size);
[[nodiscard]] int EpollCreate();
[[nodiscard]] int EpollAdd(int epfd, int fd, uint32_t events, void* ptr);
[[nodiscard]] int EpollMod(int epfd, int fd, uint32_t events, void* ptr);
int EpollDel(int epfd, int fd);
// epoll_wait: the number of ready events (0 when interrupted by a signal), or -errno.
[[nodiscard]] int EpollWait(int epfd, epoll_event* events, int max_events, int timeout_ms);
[[nodiscard]] int EventFd();
int EventFdSignal(int fd);
int EventFdDrain(int fd);
[[nodiscard]] int SeqPacketPair(int fds[2]);
// Raises the soft limit on open files to the hard limit; returns the new
// soft limit (or -errno).
[[nodiscard]] int64_t RaiseFdLimit();
// Milliseconds of a coarse monotonic clock (vDSO: no syscall).
uint64_t NowMs();
// Names the calling thread (15 characters at most), so that `top -H`, perf
// and /proc/PID/task/*/comm tell the engine's threads from node's own.
void NameThisThread(const char* name);
// Gives the memory malloc holds free in all its arenas back to the kernel
// (glibc malloc_trim): per-thread arenas otherwise keep the peak of a burst.
void ReleaseFreeMemory();

}  // namespace sys
}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_SYS_H_
