// ftpload's command line: what one run does (scenario, data mode, sizes,
// limits), parsed with getopt_long. The flags are bench/client/ftpload.ts's
// ftploadArgs and bench/README.md's; a bad one ends the run (exit 2).
#ifndef MUXFTPD_BENCH_FTPLOAD_OPTIONS_H_
#define MUXFTPD_BENCH_FTPLOAD_OPTIONS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "native/engine/sys.h"
#include "tls.h"

namespace muxftpd::ftpload {

// What a session does once logged in. noop: keeps --pipeline NOOPs in flight
// (an operation = one 200). passive: runs once: log in, EPSV/PASV, open the
// data connection, then wait until every session of the process has its
// data connection open (or failed) before RETR, so they all hold one at once.
enum class Kind { kLogin, kSmall, kPersistent, kLarge, kUpload, kIdle, kNoop, kPassive };
const char* KindName(Kind k);

enum class DataMode { kEpsv, kPasv, kPort, kEprt };
const char* DataModeName(DataMode m);

// A file the server serves, and what a download of it must look like.
struct FileSpec {
  std::string remote;
  int64_t size = -1;  // expected size, -1 = unknown (not checked)
  bool have_crc = false;
  uint32_t crc = 0;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 21;
  std::string scenario = "login";
  std::vector<std::pair<Kind, int>> mix;  // weights; one entry unless mixed
  DataMode mode = DataMode::kEpsv;
  int concurrency = 1;
  int threads = 1;
  double duration_s = 10;
  uint64_t count = 0;  // 0 = unbounded (duration only)
  std::string user = "anonymous";
  std::string pass = "bench@";
  FileSpec small, large;
  bool checksum = false;
  uint64_t upload_size = 1 << 20;
  std::string upload_prefix = "upload/ftpload";
  uint64_t files_per_session = 0;  // persistent: 0 = until the end
  double noop_interval_s = 30;
  double timeout_s = 30;
  int ramp = 256;     // sessions between connect and logged-in, per thread (idle, noop, passive)
  int pipeline = 16;  // noop: NOOPs in flight per session
  // Data setups (EPSV/PASV/PORT/EPRT sent, data connection not yet made) in
  // flight at once in this process; 0 = no limit. Others wait their turn (a
  // queue per worker: worker_data.cc), so a NAT's expectation table
  // (nf_conntrack_expect_max) is not the limit.
  uint64_t max_data_setups = 0;
  std::vector<SockAddr> sources;
  // The address every 227 must carry (--expect-pasv-address; default --host),
  // as SockAddr::HostString writes it.
  std::string expect_pasv;
  int progress_ms = 1000;
  // Every this many ms a "samples" line: each operation's and phase's latency
  // and each error since the last one (stream.h); 0 = none.
  int stream_ms = 0;
  // At most this many samples per channel (op, each phase) in one "samples"
  // line; the rest are counted as dropped (stream.h), so memory stays bounded.
  int stream_max = 50000;
  std::string tag;
  SockAddr target;
  TlsMode tls = TlsMode::kOff;
  int tls_version = 13;  // 12 or 13
};

// Parses argv; prints why and exits 2 on a bad flag, --help included.
Options ParseOptions(int argc, char** argv);

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_OPTIONS_H_
