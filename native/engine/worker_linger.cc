// Closing sessions whose client leaves its last replies unread: kept while
// what they owe shrinks, closed without them at --close-timeout.
#include <algorithm>
#include <cassert>
#include <cerrno>

#include "file_jobs.h"
#include "worker.h"

namespace muxftpd {

namespace {

// What a closing session still owes its client: unsent output, ours and the
// kernel's (unacknowledged).
uint64_t Owed(const Session* s) {
  int64_t unacked = sys::UnackedBytes(s->control.Get());
  return s->Unsent() + static_cast<uint64_t>(std::max<int64_t>(unacked, 0));
}

}  // namespace

// A closing session waits for its client to read the last replies, but not
// for ever: JS has already let it go (no idle timeout reaches it), and a
// client that never reads would otherwise keep its fd, its slot and its
// address's --max-per-ip count. The deadline moves while the client takes
// bytes, so a slow reader is not cut off: nothing is appended to a closing
// session's output, so what it still owes (our buffer plus the kernel's
// unacknowledged queue) only shrinks when the client reads.
void Worker::Linger(Session* s) {
  if (config_.close_timeout_ms == 0 || s->IsLingering()) return;
  s->BeginLinger();
  if (lingering_.empty()) next_linger_ms_ = now_ms_ + std::min(kExpirySweepMs, config_.close_timeout_ms);
  lingering_.push_back({s->sid, now_ms_ + config_.close_timeout_ms, Owed(s)});
}

void Worker::ExpireLingering() {
  if (lingering_.empty() || now_ms_ < next_linger_ms_) return;
  next_linger_ms_ = now_ms_ + std::min(kExpirySweepMs, config_.close_timeout_ms);
  size_t kept = 0;
  for (Lingering l : lingering_) {
    Session* s = Find(l.sid);
    if (s == nullptr) continue;  // flushed and closed meanwhile, or gone
    if (now_ms_ >= l.deadline_ms) {
      uint64_t owed = Owed(s);
      if (owed >= l.owed) {
        CloseSession(s, CloseReason::kCloseTimeout);
        continue;
      }
      l = {l.sid, now_ms_ + config_.close_timeout_ms, owed};
    }
    lingering_[kept++] = l;
  }
  lingering_.resize(kept);
}

}  // namespace muxftpd
