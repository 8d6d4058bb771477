// Microseconds of the monotonic clock: latencies are measured in µs, finer
// than the engine's coarse sys::NowMs.
#ifndef MUXFTPD_BENCH_FTPLOAD_CLOCK_H_
#define MUXFTPD_BENCH_FTPLOAD_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace muxftpd::ftpload {

inline uint64_t NowUs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_CLOCK_H_
