#include "file_ops.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace muxftpd {

namespace {

// openat2 RESOLVE_BENEATH answers EXDEV for a path that leads out of `base`
// (a symlink or ".." that climbs out, an absolute symlink): to the client
// that is a refusal, like a permission, not a device error.
int OpenBeneath(int base, const std::string& path, int flags) {
  int fd = sys::OpenBeneath(base, path, flags, 0);
  return fd == -EXDEV ? -EACCES : fd;
}

// "a/b/c" → parent "a/b" and entry "c"; "c" → "." and "c". The entry must be
// a name: not empty, ".", or ".." (the session's directory itself is never an
// entry to remove, rename or create).
bool SplitEntry(const std::string& path, std::string* parent, std::string* name) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) slash = 0;
  parent->assign(path, 0, slash);
  name->assign(path, path[slash] == '/' ? slash + 1 : slash);
  if (parent->empty()) parent->assign(1, '.');
  return !name->empty() && *name != "." && *name != "..";
}

// The parent directory of an entry, opened beneath `base` (O_PATH: enough for *at calls).
int OpenParent(int base, const std::string& path, std::string* name) {
  std::string parent;
  if (!SplitEntry(path, &parent, name)) return -EPERM;
  return OpenBeneath(base, parent, O_PATH | O_DIRECTORY);
}

void AppendRecord(std::string* out, const sys::FileStat& st, std::string_view name) {
  namespace f = wire::stat;
  size_t at = out->size();
  out->resize(at + kStatHeader + name.size());
  char* r = out->data() + at;
  wire::Put(r, f::mode, st.mode);
  wire::Put(r, f::nlink, st.nlink);
  wire::Put(r, f::size, st.size);
  wire::Put(r, f::mtimeMs, st.mtime_ms);
  wire::Put(r, f::dev, st.dev);
  wire::Put(r, f::ino, st.ino);
  wire::Put(r, f::nameLength, name.size());
  std::copy(name.begin(), name.end(), r + kStatHeader);
}

// The record of what `path` names, symlinks followed beneath `base`.
int StatBeneath(int base, const std::string& path, sys::FileStat* st) {
  int fd = OpenBeneath(base, path, O_PATH);
  if (fd < 0) return fd;
  UniqueFd owned(fd);
  return sys::StatFd(fd, st);
}

int Stat(int base, const std::string& path, std::string* out) {
  sys::FileStat st;
  int r = StatBeneath(base, path, &st);
  if (r == 0) AppendRecord(out, st, "");
  return r;
}

int Lstat(int base, const std::string& path, std::string* out) {
  std::string name;
  int fd = OpenParent(base, path, &name);
  if (fd < 0) return fd;
  UniqueFd parent(fd);
  sys::FileStat st;
  int r = sys::StatAt(fd, name.c_str(), &st);
  if (r == 0) AppendRecord(out, st, "");
  return r;
}

// A directory's record, then each entry's, sorted by name. A symlink is shown
// as what it leads to, resolved beneath `base` (not beneath the listed
// directory, so "../x" to a sibling stays listed); one that leads out or
// nowhere is left out, as every other command refuses it. An entry gone
// since the directory was read is left out too.
int List(int base, const std::string& path, std::string* out) {
  int fd = OpenBeneath(base, path, O_PATH);
  if (fd < 0) return fd;
  UniqueFd target(fd);
  sys::FileStat st;
  int r = sys::StatFd(fd, &st);
  if (r < 0) return r;
  AppendRecord(out, st, "");
  if (!S_ISDIR(st.mode)) return 0;
  // Opened from the O_PATH fd itself: the directory read is the one stat'ed.
  fd = sys::OpenBeneath(target.Get(), ".", O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) return fd;
  UniqueFd dir(fd);
  std::vector<std::string> names;
  r = sys::ReadDirNames(dir.Get(), &names);
  if (r < 0) return r;
  std::sort(names.begin(), names.end());
  const std::string prefix = path == "." || path.empty() ? "" : path + "/";
  for (const std::string& name : names) {
    if (sys::StatAt(dir.Get(), name.c_str(), &st) < 0) continue;
    if (S_ISLNK(st.mode) && StatBeneath(base, prefix + name, &st) < 0) continue;
    AppendRecord(out, st, name);
  }
  return 0;
}

int OnEntry(int base, const std::string& path, FileOpKind op) {
  std::string name;
  int fd = OpenParent(base, path, &name);
  if (fd < 0) return fd;
  UniqueFd parent(fd);
  switch (op) {
    case FileOpKind::kMkdir: return sys::MkdirAt(fd, name.c_str(), 0777);
    case FileOpKind::kRmdir: return sys::UnlinkAt(fd, name.c_str(), true);
    case FileOpKind::kUnlink: return sys::UnlinkAt(fd, name.c_str(), false);
    default: return -EINVAL;
  }
}

int Rename(int base, const std::string& from, const std::string& to) {
  std::string from_name;
  std::string to_name;
  int fd = OpenParent(base, from, &from_name);
  if (fd < 0) return fd;
  UniqueFd from_dir(fd);
  fd = OpenParent(base, to, &to_name);
  if (fd < 0) return fd;
  UniqueFd to_dir(fd);
  return sys::RenameAt(from_dir.Get(), from_name.c_str(), to_dir.Get(), to_name.c_str());
}

}  // namespace

FileOps::~FileOps() { Stop(); }

void FileOps::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return;
  running_ = true;
  for (int i = 0; i < threads_; ++i) pool_.emplace_back([this] { Loop(); });
}

void FileOps::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_ && pool_.empty()) return;
    running_ = false;
  }
  cv_.notify_all();
  for (auto& t : pool_) t.join();
  pool_.clear();
  // Every job is answered, so nobody waits for one forever.
  std::deque<Job> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (Job& job : left) job.done(Run(job));
}

void FileOps::Submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  job.done(Run(job));
}

void FileOps::Loop() {
  sys::NameThisThread("muxftpd-fileops");
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return !running_ || !queue_.empty(); });
    if (!running_) return;  // Stop() answers what is left
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    job.done(Run(job));
    lock.lock();
  }
}

FileOpResult FileOps::Run(const Job& job) {
  FileOpResult result;
  if (!job.base || !job.base->Valid()) {
    result.error = -EBADF;
    return result;
  }
  const int base = job.base->Get();
  switch (job.op) {
    case FileOpKind::kHome: result.home = OpenHome(job.base, job.path, &result.error); break;
    case FileOpKind::kStat: result.error = Stat(base, job.path, &result.records); break;
    case FileOpKind::kLstat: result.error = Lstat(base, job.path, &result.records); break;
    case FileOpKind::kList: result.error = List(base, job.path, &result.records); break;
    case FileOpKind::kMkdir:
    case FileOpKind::kRmdir:
    case FileOpKind::kUnlink: result.error = OnEntry(base, job.path, job.op); break;
    case FileOpKind::kRename: result.error = Rename(base, job.path, job.path2); break;
    default: result.error = -EINVAL; break;
  }
  if (result.error < 0) result.records.clear();
  return result;
}

DirRef FileOps::OpenHome(const DirRef& root, const std::string& path, int* error) {
  std::lock_guard<std::mutex> lock(homes_mu_);
  if (DirRef open = homes_[path].lock()) return open;
  int fd = OpenBeneath(root->Get(), path, O_PATH | O_DIRECTORY);
  if (fd < 0) {
    *error = fd;
    homes_.erase(path);
    return nullptr;
  }
  auto home = std::make_shared<const UniqueFd>(fd);
  homes_[path] = home;
  // Forget homes no session holds any more, so the map stays as small as the homes in use.
  std::erase_if(homes_, [](const auto& entry) { return entry.second.expired(); });
  return home;
}

}  // namespace muxftpd
