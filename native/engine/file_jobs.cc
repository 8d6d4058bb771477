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

void FileJobs::Truncate(UniqueFd fd, Done done) {
  Truncation job{std::move(fd), std::move(done)};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      truncations_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  Run(job);
}

void FileJobs::Run(Truncation& job) {
  job.done(sys::Truncate(job.fd.Get()));
  job.fd.Reset();
}

void FileJobs::Loop() {
  sys::NameThisThread("muxftpd-files");
  std::vector<Truncation> truncations;
  std::vector<UniqueFd> closes;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return !truncations_.empty() || !closes_.empty() || !running_; });
    truncations.swap(truncations_);
    closes.swap(closes_);
    bool last = !running_;
    lock.unlock();
    for (Truncation& job : truncations) Run(job);
    truncations.clear();
    closes.clear();  // the closes
    if (last) return;
    lock.lock();
  }
}

}  // namespace muxftpd
