// The lines ftpload prints: a progress tick while the run goes on, and the
// summary at its end (the format bench/client/report.ts reads as
// FtploadProgress and FtploadSummary).
#ifndef MUXFTPD_BENCH_FTPLOAD_SUMMARY_H_
#define MUXFTPD_BENCH_FTPLOAD_SUMMARY_H_

#include <cstdint>
#include <string>

#include "counters.h"
#include "options.h"
#include "tally.h"

namespace muxftpd::ftpload {

// {"type":"progress","t":seconds since the start,"open","established","ops","bytes","errors"}
std::string ProgressLine(const Counters& c, uint64_t now_us);

// {"type":"summary",...}: the whole process, its workers' tallies merged.
std::string SummaryLine(const Options& o, const Counters& c, const Tally& t, uint64_t end_us,
                        uint64_t fd_limit);

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_SUMMARY_H_
