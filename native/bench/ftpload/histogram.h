// Latencies in microseconds, log-linear: exact below 64 µs, then 32 buckets
// per power of two (at most ~3% relative error), like HdrHistogram with 5
// significant bits. Printed sparse; bench/client/report.ts merges processes
// and computes the percentiles.
#ifndef MUXFTPD_BENCH_FTPLOAD_HISTOGRAM_H_
#define MUXFTPD_BENCH_FTPLOAD_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

namespace muxftpd::ftpload {

class Histogram {
 public:
  void Add(uint64_t us);
  void Merge(const Histogram& other);
  // {"count","sum_us","min_us","max_us","buckets":[[lower, upper exclusive, count], ...]}
  std::string Json() const;

 private:
  std::vector<uint64_t> counts_ = std::vector<uint64_t>(kBuckets, 0);
  uint64_t n_ = 0, sum_ = 0, max_ = 0, min_ = UINT64_MAX;

  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = 2 * kSub + 58 * kSub;
  static int Index(uint64_t v);
  static uint64_t Lower(int idx);
  static uint64_t Upper(int idx);
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_HISTOGRAM_H_
