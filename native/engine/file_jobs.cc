#include "file_jobs.h"

#include <utility>

namespace muxftpd {

FileJobs::~FileJobs() { Stop(); }

void FileJobs::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void FileJobs::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void FileJobs::Close(UniqueFd fd) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ && closes_ < kMaxQueuedCloses) {
      queue_.push_back(Job{std::move(fd), nullptr});
      ++closes_;
      cv_.notify_one();
      return;
    }
  }
  fd.Reset();
}

void FileJobs::Truncate(UniqueFd fd, Done done) {
  Job job{std::move(fd), std::move(done)};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  Run(job);
}

void FileJobs::Run(Job& job) {
  if (job.done) job.done(sys::Truncate(job.fd.Get()));
  job.fd.Reset();
}

void FileJobs::Loop() {
  sys::NameThisThread("muxftpd-files");
  std::vector<Job> batch;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return !queue_.empty() || !running_; });
    batch.swap(queue_);
    closes_ = 0;
    bool last = !running_;
    lock.unlock();
    for (Job& job : batch) Run(job);
    batch.clear();
    if (last) return;
    lock.lock();
  }
}

}  // namespace muxftpd
