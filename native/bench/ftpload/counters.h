// What the workers of one process share while the run goes on: relaxed
// atomic counters for the progress line and the --count and passive
// barriers, and the stop flag. Nothing else crosses threads.
#ifndef MUXFTPD_BENCH_FTPLOAD_COUNTERS_H_
#define MUXFTPD_BENCH_FTPLOAD_COUNTERS_H_

#include <atomic>
#include <cstdint>

namespace muxftpd::ftpload {

struct Counters {
  std::atomic<uint64_t> ops{0}, bytes{0}, errors{0}, open{0}, established{0}, claimed{0};
  std::atomic<uint64_t> sessions_started{0};
  // passive: sessions past their data setup (holding a data connection, or
  // failed before), and sessions holding one right now.
  std::atomic<uint64_t> settled{0}, held{0};
  // Data setups in flight (--max-data-setups).
  std::atomic<uint64_t> setups{0};
  std::atomic<bool> stop{false};
  uint64_t start_us = 0, deadline_us = 0;
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_COUNTERS_H_
