// sys.h's syscalls in the file system: file I/O, paths resolved beneath a
// directory fd, stat, directory entries, locks, shared memory, randomness.
// (sys.cc has the sockets, epoll and the process; both share sys_retry.h.)
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "sys.h"
#include "sys_retry.h"

namespace muxftpd {
namespace sys {

using sys_internal::RetryEintr;

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

int SharedMemory(const char* name, uint64_t size) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd == -1) return -errno;
  int r = RetryEintr([&] { return ftruncate(fd, static_cast<off_t>(size)); });
  if (r < 0) {
    close(fd);
    return r;
  }
  return fd;
}

int MapShared(int fd, uint64_t size, void** out) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -errno;
  *out = p;
  return 0;
}

int Unmap(void* addr, uint64_t size) { return munmap(addr, size) == -1 ? -errno : 0; }

}  // namespace sys
}  // namespace muxftpd
