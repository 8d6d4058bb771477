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
    if (running_ && closes_.size() < kMaxQueuedCloses) {
      closes_.push_back(std::move(fd));
      cv_.notify_one();
      return;
    }
  }
  fd.Reset();
}

void FileJobs::Run(UniqueFd fd, Work work, Done done) {
  Job job{std::move(fd), std::move(work), std::move(done)};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      jobs_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  RunJob(job);
}

void FileJobs::Truncate(UniqueFd fd, Done done) {
  Run(std::move(fd), sys::Truncate, std::move(done));
}

void FileJobs::RunJob(Job& job) {
  int result = job.work(job.fd.Get());
  // Closed before the result is told: once told, the job holds nothing of the file.
  job.fd.Reset();
  job.done(result);
}

void FileJobs::Loop() {
  sys::NameThisThread("muxftpd-files");
  std::vector<Job> jobs;
  std::vector<UniqueFd> closes;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return !jobs_.empty() || !closes_.empty() || !running_; });
    jobs.swap(jobs_);
    closes.swap(closes_);
    bool last = !running_;
    lock.unlock();
    for (Job& job : jobs) RunJob(job);
    jobs.clear();
    closes.clear();  // the closes
    if (last) return;
    lock.lock();
  }
}

}  // namespace muxftpd
