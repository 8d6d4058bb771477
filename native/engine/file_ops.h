// The session's file-system operations (stat, list, mkdir, rmdir, unlink,
// rename, and opening an account's home), run by the kernel beneath a
// directory fd: openat2 RESOLVE_BENEATH reaches the parent directory, then
// the *at call acts on the last component without following it. No path is
// checked first and used later, so a local process swapping a directory for
// a symlink meanwhile cannot lead an operation out of the session's
// directory. (vsftpd gets the same from chroot; a thread cannot chroot.)
//
// They run on threads of their own: not a worker (a slow disk would stall
// every session of it), not FileJobs (a 200 ms truncation must not delay a
// SIZE), not Node's thread pool (shared with everything else of the process).
#ifndef MUXFTPD_ENGINE_FILE_OPS_H_
#define MUXFTPD_ENGINE_FILE_OPS_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol.h"
#include "sys.h"

namespace muxftpd {

// A session's directory: the served root, or its account's home. Shared by
// every session with the same one (an fd per session would halve the
// sessions a process's fd limit holds); closed with its last session.
using DirRef = std::shared_ptr<const UniqueFd>;

struct FileOpResult {
  int error = 0;         // 0 or -errno
  std::string records;   // stat records (protocol.h MUXFTPD_STAT_FIELDS)
  DirRef home;           // Home: the directory opened
};

class FileOps {
 public:
  using Done = std::function<void(FileOpResult&&)>;

  struct Job {
    FileOpKind op;
    DirRef base;
    std::string path;
    std::string path2;  // Rename: the new name
    Done done;          // called on a FileOps thread (or the caller's, when stopped)
  };

  explicit FileOps(int threads) : threads_(threads) {}
  ~FileOps();
  FileOps(const FileOps&) = delete;
  FileOps& operator=(const FileOps&) = delete;

  void Start();
  // Runs every job still queued, then joins. Idempotent.
  void Stop();
  void Submit(Job job);

  // Runs one job on the calling thread (the threads run these; so do the tests).
  FileOpResult Run(const Job& job);

 private:
  void Loop();
  DirRef OpenHome(const DirRef& root, const std::string& path, int* error);

  const int threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool running_ = false;   // guarded by mu_
  std::vector<std::thread> pool_;

  std::mutex homes_mu_;
  std::map<std::string, std::weak_ptr<const UniqueFd>> homes_;  // guarded by homes_mu_
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_FILE_OPS_H_
