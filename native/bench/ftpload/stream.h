// --stream-ms: each operation's result streamed while the run goes on, for a
// driver that reports them one by one (the Locust users of bench/locust/). A
// worker appends each sample it adds to its histograms (an operation's
// latency, a phase's) and each error here; the main thread takes them every
// --stream-ms and prints one line:
//   {"type":"samples","t":s,"op":[us,...],"connect":[us,...],...,"errors":{"name":n}}
// (the phases by their phases.h names; empty ones left out). The last line
// comes after the workers stopped and before the summary, so the lines add
// up to exactly the summary's histograms and errors, unless samples were
// dropped: one interval keeps at most --stream-max samples per channel (op
// or phase; default 50,000: 400 KB each), so memory stays bounded when the reader is slower
// than the load (printing blocks, the interval grows); the rest are counted
// per channel in "dropped":{"op":n,...} and left out of the line (the
// summary's histograms still hold them all). Errors are counted, never dropped.
#ifndef MUXFTPD_BENCH_FTPLOAD_STREAM_H_
#define MUXFTPD_BENCH_FTPLOAD_STREAM_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "phases.h"

namespace muxftpd::ftpload {

class SampleStream {
 public:
  // `max_per_line` (--stream-max): samples kept per channel between two lines.
  explicit SampleStream(size_t max_per_line) : max_(max_per_line) {}

  void Op(uint64_t us) { Push(0, us); }
  void PhaseDone(Phase p, uint64_t us) { Push(1 + static_cast<size_t>(p), us); }
  void Error(const std::string& kind);
  // Everything since the last call as one "samples" line; "" when there was nothing.
  std::string TakeLine(double t_s);

 private:
  void Push(size_t channel, uint64_t us);
  const size_t max_;
  std::mutex mu_;
  std::array<std::vector<uint64_t>, 1 + kPhases> samples_;
  std::array<uint64_t, 1 + kPhases> dropped_{};
  std::map<std::string, uint64_t> errors_;
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_STREAM_H_
