// FileJobs: truncations run on its own thread and report there; closes are
// queued up to a bound, then done by the caller; Stop runs what is queued;
// with the thread not running, every job runs at once on the caller's thread.
#include "../engine/file_jobs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "check.h"

using muxftpd::FileJobs;
using muxftpd::UniqueFd;

namespace {

// A temporary file holding `size` bytes, already unlinked: the fd is all there is.
UniqueFd FileWithBytes(size_t size) {
  char path[] = "/tmp/muxftpd-file-jobs-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  std::string bytes(size, 'x');
  CHECK(write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  return UniqueFd(fd);
}

off_t SizeOf(int fd) {
  struct stat st {};
  CHECK(fstat(fd, &st) == 0);
  return st.st_size;
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

void TruncatesOnItsThreadAndReportsThere() {
  FileJobs jobs;
  jobs.Start();
  UniqueFd file = FileWithBytes(4096);
  int dup = fcntl(file.Get(), F_DUPFD_CLOEXEC, 0);
  CHECK(dup >= 0);
  std::atomic<int> result{1};
  std::atomic<bool> elsewhere{false};
  const std::thread::id caller = std::this_thread::get_id();
  jobs.Truncate(UniqueFd(dup), [&](int r) {
    elsewhere = std::this_thread::get_id() != caller;
    result = r;
  });
  jobs.Stop();  // runs what is queued, then joins
  CHECK(result == 0);
  CHECK(elsewhere);
  CHECK(SizeOf(file.Get()) == 0);
  CHECK(!IsOpen(dup));  // the job closed its duplicate
}

void ReportsATruncationError() {
  FileJobs jobs;
  jobs.Start();
  int fds[2];
  CHECK(pipe(fds) == 0);
  close(fds[1]);
  std::atomic<int> result{0};
  jobs.Truncate(UniqueFd(fds[0]), [&](int r) { result = r; });
  jobs.Stop();
  CHECK(result < 0);  // a pipe cannot be truncated: -EINVAL
}

void ClosesQueuedUpToTheBoundThenAtOnce() {
  FileJobs jobs;
  // Not started: closed at once, on this thread.
  UniqueFd now = FileWithBytes(1);
  int now_fd = now.Get();
  jobs.Close(std::move(now));
  CHECK(!IsOpen(now_fd));

  jobs.Start();
  // A truncation that holds the thread until released, so closes pile up.
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  jobs.Truncate(FileWithBytes(1), [&](int) {
    started = true;
    while (!release) std::this_thread::yield();
  });
  while (!started) std::this_thread::yield();
  std::vector<int> queued;
  for (size_t i = 0; i < FileJobs::kMaxQueuedCloses; ++i) {
    UniqueFd f = FileWithBytes(1);
    queued.push_back(f.Get());
    jobs.Close(std::move(f));
  }
  for (int fd : queued) CHECK(IsOpen(fd));  // waiting behind the truncation
  UniqueFd over = FileWithBytes(1);
  int over_fd = over.Get();
  jobs.Close(std::move(over));
  CHECK(!IsOpen(over_fd));  // past the bound: closed by the caller
  release = true;
  jobs.Stop();
  for (int fd : queued) CHECK(!IsOpen(fd));
}

void RunsInlineWhenStopped() {
  FileJobs jobs;
  UniqueFd file = FileWithBytes(100);
  int dup = fcntl(file.Get(), F_DUPFD_CLOEXEC, 0);
  CHECK(dup >= 0);
  const std::thread::id caller = std::this_thread::get_id();
  bool here = false;
  jobs.Truncate(UniqueFd(dup), [&](int r) {
    CHECK(r == 0);
    here = std::this_thread::get_id() == caller;
  });
  CHECK(here);
  CHECK(SizeOf(file.Get()) == 0);
}

}  // namespace

int main() {
  TruncatesOnItsThreadAndReportsThere();
  ReportsATruncationError();
  ClosesQueuedUpToTheBoundThenAtOnce();
  RunsInlineWhenStopped();
  std::puts("file_jobs_test: ok");
  return 0;
}
