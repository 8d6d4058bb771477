// Runs the file operations that may wait for the disk off the worker threads:
// emptying a file that has bytes (ftruncate frees its blocks and drops its
// cached pages: about 200 ms for 400 MB on this project's VMs) and closing
// one so emptied (on ext4, auto_da_alloc makes that close write the whole new
// upload out); and, for --atomic-uploads, renaming a finished upload over its
// target (the old file's blocks are freed then, and ext4's auto_da_alloc
// writes the new one out on a rename that replaces a file) or removing one
// that failed. A worker that did any of these itself would stall every
// session it serves behind the disk. One thread for the engine: such jobs are
// rare, and each file's jobs run in the order they were asked.
#ifndef MUXFTPD_ENGINE_FILE_JOBS_H_
#define MUXFTPD_ENGINE_FILE_JOBS_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sys.h"

namespace muxftpd {

class FileJobs {
 public:
  // Gets a job's result (0 or -errno) on the jobs thread.
  using Done = std::function<void(int result)>;
  // A job's work, given its fd: 0 or -errno.
  using Work = std::function<int(int fd)>;

  FileJobs() = default;
  ~FileJobs();
  FileJobs(const FileJobs&) = delete;
  FileJobs& operator=(const FileJobs&) = delete;

  void Start();
  // Runs every job still queued, then joins. Idempotent.
  void Stop();
  // All callable from any thread. When the jobs thread is not running, the
  // job runs at once on the caller's thread. A close is also done at once
  // when kMaxQueuedCloses wait already (besides those being closed): a client
  // replacing files faster than the disk takes them then waits for the disk,
  // instead of piling up fds. Jobs, which uploads wait for, go before the
  // closes waiting with them (each has an fd of its own: order between them
  // does not matter).
  void Close(UniqueFd fd);
  // Runs work(fd), closes fd, then calls done with the result.
  void Run(UniqueFd fd, Work work, Done done);
  // Empties the file (Run with sys::Truncate).
  void Truncate(UniqueFd fd, Done done);

  static constexpr size_t kMaxQueuedCloses = 256;

 private:
  struct Job {
    UniqueFd fd;  // closed once the work is done
    Work work;
    Done done;
  };
  static void RunJob(Job& job);
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> jobs_;          // guarded by mu_
  std::vector<UniqueFd> closes_;   // guarded by mu_
  bool running_ = false;           // guarded by mu_
  std::thread thread_;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_FILE_JOBS_H_
