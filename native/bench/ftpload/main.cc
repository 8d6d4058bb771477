// ftpload: the load generator behind muxftpd-bench.
//
// N worker threads, each with its own epoll instance, each driving many FTP
// sessions as non-blocking state machines: connect, 220, USER/PASS, then per
// scenario a data connection (EPSV, PASV, PORT or EPRT) and RETR/STOR, NOOPs
// for idle sessions, a window of pipelined NOOPs for the NOOP flood, QUIT.
// Nothing is shared between workers but a handful of relaxed atomic counters,
// so the client scales with its threads and is not the bottleneck of a
// benchmark (the reason it is native and not Node).
//
// Output: one JSON line per progress tick on stdout ({"type":"progress"...}),
// then one final {"type":"summary"...} line with a sparse latency histogram.
// Percentiles and rates are computed by the TypeScript side
// (bench/client/report.ts), which also merges summaries of several processes.
//
// A session uses one fd while it is idle (its control connection); a transfer
// adds a data fd (and a listener in active mode while it waits for the
// server). That is what lets one process hold 10,000 idle sessions under a
// 20,000 fd limit.
//
// Where the parts live (native/bench/ftpload/): options.cc (the command line,
// getopt_long), addresses.cc (--host/--source, PASV/EPSV/PORT/EPRT), worker*.cc
// (the sessions), tally.h + summary.cc (what is counted and printed),
// histogram.cc, json_writer.cc, crc32.cc, stream.cc (--stream-ms), tls.cc (--tls, OpenSSL); sockets
// through native/engine/sys.h.

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "clock.h"
#include "counters.h"
#include "options.h"
#include "stream.h"
#include "summary.h"
#include "tls.h"
#include "worker.h"

namespace muxftpd::ftpload {
namespace {

std::atomic<bool> g_signalled{false};
void OnSignal(int) { g_signalled.store(true); }

// False when stdout is gone (EPIPE: SIGPIPE is ignored) or failed otherwise.
bool PrintLine(const std::string& json) {
  bool ok = std::printf("%s\n", json.c_str()) >= 0;
  return std::fflush(stdout) == 0 && ok && !std::ferror(stdout);
}

int Main(int argc, char** argv) {
  Options o = ParseOptions(argc, argv);
  int64_t fd_limit = sys::RaiseFdLimit();
  signal(SIGPIPE, SIG_IGN);  // OpenSSL writes with write(): a closed peer must not kill the run
  if (o.tls != TlsMode::kOff) TlsInit(o.tls_version);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);

  Counters counters;
  counters.start_us = NowUs();
  counters.deadline_us = counters.start_us + static_cast<uint64_t>(o.duration_s * 1e6);
  std::vector<std::unique_ptr<Worker>> workers;
  int per = o.concurrency / o.threads, extra = o.concurrency % o.threads, first = 0;
  for (int t = 0; t < o.threads; t++) {
    int n = per + (t < extra ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(t, o, counters, first, n));
    first += n;
  }
  // --stream-ms: a sample stream per worker, so workers never wait on each other.
  std::vector<std::unique_ptr<SampleStream>> streams;
  if (o.stream_ms > 0) {
    for (auto& w : workers) {
      streams.push_back(std::make_unique<SampleStream>(static_cast<size_t>(o.stream_max)));
      w->tally.stream = streams.back().get();
    }
  }
  // With --stream-ms a reader takes the lines as they come (a Locust user,
  // bench/locust/): once it is gone, nobody wants the rest, and a run with
  // a day's --duration must not go on alone. The run stops as at a signal.
  auto print = [&o, &counters](const std::string& line) {
    if (!PrintLine(line) && o.stream_ms > 0) counters.stop.store(true);
  };
  auto print_samples = [&streams, &counters, &print](uint64_t now) {
    for (auto& s : streams) {
      std::string line = s->TakeLine(static_cast<double>(now - counters.start_us) / 1e6);
      if (!line.empty()) print(line);
    }
  };
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (auto& w : workers) {
    threads.emplace_back([&w, &done] {
      w->Run();
      done.fetch_add(1);
    });
  }
  const uint64_t tick_us = static_cast<uint64_t>(o.progress_ms) * 1000;
  uint64_t next_progress = counters.start_us + tick_us;
  const uint64_t stream_us = static_cast<uint64_t>(o.stream_ms) * 1000;
  uint64_t next_stream = counters.start_us + stream_us;
  while (done.load() < static_cast<int>(workers.size())) {
    usleep(5000);
    uint64_t now = NowUs();
    if (g_signalled.load()) counters.stop.store(true);
    if (now >= next_progress) {
      next_progress += tick_us;
      print(ProgressLine(counters, now));
    }
    if (stream_us > 0 && now >= next_stream) {
      next_stream = now + stream_us;
      print_samples(now);
    }
  }
  for (auto& t : threads) t.join();
  print_samples(NowUs());  // the rest: all lines together hold what the summary holds

  // The measured window ends when the last worker stopped: at the deadline
  // (within one 20 ms loop turn) or when --count operations were done.
  Tally all;
  all.stopped_us = counters.start_us;
  for (auto& w : workers) all.Merge(w->tally);
  PrintLine(SummaryLine(o, counters, all, all.stopped_us,
                        fd_limit > 0 ? static_cast<uint64_t>(fd_limit) : 0));
  return 0;
}

}  // namespace
}  // namespace muxftpd::ftpload

int main(int argc, char** argv) { return muxftpd::ftpload::Main(argc, argv); }
