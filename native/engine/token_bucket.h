// Bandwidth throttling for the copy loop: a token bucket in bytes. Pure.
//
// A throttled transfer is not stepped while its bucket is empty: the worker
// parks it until WaitMs() has passed, so throttling costs no CPU.
#ifndef MUXFTPD_ENGINE_TOKEN_BUCKET_H_
#define MUXFTPD_ENGINE_TOKEN_BUCKET_H_

#include <algorithm>
#include <cstdint>

namespace muxftpd {

class TokenBucket {
 public:
  TokenBucket() = default;
  // rate: bytes per second (0: unlimited). The burst is a fifth of a second
  // of traffic, so a transfer that resumes cannot exceed the rate by much.
  TokenBucket(uint64_t rate, uint64_t now_ms)
      : rate_(rate), burst_(std::max<uint64_t>(rate / 5, 1024)), tokens_(burst_), last_ms_(now_ms) {}

  bool Limited() const { return rate_ != 0; }

  // Bytes that may move now (at most `want`).
  uint64_t Allow(uint64_t want, uint64_t now_ms) {
    if (!Limited()) return want;
    if (now_ms > last_ms_) {
      tokens_ = std::min(burst_, tokens_ + rate_ * (now_ms - last_ms_) / 1000);
      last_ms_ = now_ms;
    }
    return std::min(want, tokens_);
  }

  void Spend(uint64_t bytes) {
    if (Limited()) tokens_ -= std::min(tokens_, bytes);
  }

  // How long until `want` bytes (capped at the burst) are available.
  uint64_t WaitMs(uint64_t want) const {
    uint64_t target = std::min(want, burst_);
    if (!Limited() || tokens_ >= target) return 0;
    return ((target - tokens_) * 1000 + rate_ - 1) / rate_;
  }

 private:
  uint64_t rate_ = 0;
  uint64_t burst_ = 0;
  uint64_t tokens_ = 0;
  uint64_t last_ms_ = 0;
};

}  // namespace muxftpd

#endif  // MUXFTPD_ENGINE_TOKEN_BUCKET_H_
