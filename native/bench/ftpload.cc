// ftpload: the load generator behind muxftpd-bench.
//
// N worker threads, each with its own epoll instance, each driving many FTP
// sessions as non-blocking state machines: connect, 220, USER/PASS, then per
// scenario a data connection (EPSV, PASV, PORT or EPRT) and RETR/STOR, NOOPs
// for idle sessions, a window of pipelined NOOPs for the NOOP flood, QUIT. Nothing is shared between workers but a handful of
// relaxed atomic counters, so the client scales with its threads and is not
// the bottleneck of a benchmark (the reason it is native and not Node).
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

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace ftpload {
namespace {

// ---------------------------------------------------------------- utilities

uint64_t NowUs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

[[noreturn]] void Die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "ftpload: ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
  std::exit(2);
}

// CRC-32 (IEEE), slice-by-8: only used when --checksum is asked, and fast
// enough (>1 GB/s) that it does not dominate a large-file run.
uint32_t g_crc_table[8][256];
void InitCrc() {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    g_crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++) {
    for (int t = 1; t < 8; t++) {
      g_crc_table[t][i] = (g_crc_table[t - 1][i] >> 8) ^ g_crc_table[0][g_crc_table[t - 1][i] & 0xff];
    }
  }
}
uint32_t Crc32Update(uint32_t crc, const unsigned char* p, size_t n) {
  crc = ~crc;
  while (n >= 8) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    a ^= crc;
    crc = g_crc_table[7][a & 0xff] ^ g_crc_table[6][(a >> 8) & 0xff] ^
          g_crc_table[5][(a >> 16) & 0xff] ^ g_crc_table[4][a >> 24] ^
          g_crc_table[3][b & 0xff] ^ g_crc_table[2][(b >> 8) & 0xff] ^
          g_crc_table[1][(b >> 16) & 0xff] ^ g_crc_table[0][b >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) crc = g_crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o;
}

// Log-linear histogram of microseconds: exact below 64 us, then 32 buckets per
// power of two (at most ~3% relative error), like HdrHistogram with 5 bits.
constexpr int kSubBits = 5;
constexpr int kSub = 1 << kSubBits;
constexpr int kHistBuckets = 2 * kSub + 58 * kSub;
int HistIndex(uint64_t v) {
  if (v < 2 * kSub) return static_cast<int>(v);
  int e = 63 - __builtin_clzll(v);  // >= kSubBits + 1
  int m = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
  int idx = 2 * kSub + (e - kSubBits - 1) * kSub + m;
  return idx < kHistBuckets ? idx : kHistBuckets - 1;
}
uint64_t HistLower(int idx) {
  if (idx < 2 * kSub) return static_cast<uint64_t>(idx);
  int e = (idx - 2 * kSub) / kSub + kSubBits + 1;
  uint64_t m = static_cast<uint64_t>((idx - 2 * kSub) % kSub);
  return (kSub + m) << (e - kSubBits);
}
uint64_t HistUpper(int idx) {  // exclusive
  if (idx < 2 * kSub) return static_cast<uint64_t>(idx) + 1;
  int e = (idx - 2 * kSub) / kSub + kSubBits + 1;
  return HistLower(idx) + (uint64_t{1} << (e - kSubBits));
}

struct Histogram {
  std::vector<uint64_t> counts = std::vector<uint64_t>(kHistBuckets, 0);
  uint64_t n = 0, sum = 0, max = 0, min = UINT64_MAX;
  void Add(uint64_t v) {
    counts[HistIndex(v)]++;
    n++;
    sum += v;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  void Merge(const Histogram& o) {
    for (int i = 0; i < kHistBuckets; i++) counts[i] += o.counts[i];
    n += o.n;
    sum += o.sum;
    if (o.max > max) max = o.max;
    if (o.min < min) min = o.min;
  }
  std::string Json() const {
    std::string s = "{\"count\":" + std::to_string(n) + ",\"sum_us\":" + std::to_string(sum) +
                    ",\"min_us\":" + std::to_string(n ? min : 0) +
                    ",\"max_us\":" + std::to_string(max) + ",\"buckets\":[";
    bool first = true;
    for (int i = 0; i < kHistBuckets; i++) {
      if (!counts[i]) continue;
      if (!first) s += ',';
      first = false;
      s += "[" + std::to_string(HistLower(i)) + "," + std::to_string(HistUpper(i)) + "," +
           std::to_string(counts[i]) + "]";
    }
    return s + "]}";
  }
};

// ---------------------------------------------------------------- options

// noop: a logged-in session keeps --pipeline NOOPs in flight (an operation =
// one 200). passive: each session runs once: log in, EPSV/PASV, open the data
// connection, then wait until every session of the process has its data
// connection open (or failed) before RETR, so they all hold one at once.
enum class Kind { kLogin, kSmall, kPersistent, kLarge, kUpload, kIdle, kNoop, kPassive };
const char* KindName(Kind k) {
  switch (k) {
    case Kind::kLogin: return "login";
    case Kind::kSmall: return "small";
    case Kind::kPersistent: return "persistent";
    case Kind::kLarge: return "large";
    case Kind::kUpload: return "upload";
    case Kind::kIdle: return "idle";
    case Kind::kNoop: return "noop";
    case Kind::kPassive: return "passive";
  }
  return "?";
}
enum class DataMode { kEpsv, kPasv, kPort, kEprt };

struct FileSpec {
  std::string remote;
  int64_t size = -1;       // expected size, -1 = unknown (not checked)
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
  int ramp = 256;  // sessions allowed between connect and logged-in, per thread (idle, noop, passive)
  int pipeline = 16;  // noop: NOOPs in flight per session
  std::vector<sockaddr_storage> sources;
  int progress_ms = 1000;
  std::string tag;
  sockaddr_storage target{};
};

bool ParseAddr(const std::string& s, int port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  auto* a4 = reinterpret_cast<sockaddr_in*>(out);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(out);
  std::string h = s;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (inet_pton(AF_INET, h.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    return true;
  }
  if (inet_pton(AF_INET6, h.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    return true;
  }
  return false;
}

socklen_t AddrLen(const sockaddr_storage& a) {
  return a.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

void SetPort(sockaddr_storage* a, int port) {
  if (a->ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(a)->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(a)->sin_port = htons(static_cast<uint16_t>(port));
  }
}

int GetPort(const sockaddr_storage& a) {
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port)
                                 : ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
}

std::string AddrText(const sockaddr_storage& a) {
  char b[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr, b, sizeof b);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, b, sizeof b);
  }
  return b;
}

// "127.0.0.2-127.0.0.20" (IPv4 range), "a,b,c", or a single address.
void ParseSources(const std::string& spec, std::vector<sockaddr_storage>* out) {
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    size_t dash = part.find('-');
    if (dash != std::string::npos) {
      in_addr lo{}, hi{};
      if (inet_pton(AF_INET, part.substr(0, dash).c_str(), &lo) != 1 ||
          inet_pton(AF_INET, part.substr(dash + 1).c_str(), &hi) != 1 ||
          ntohl(lo.s_addr) > ntohl(hi.s_addr)) {
        Die("bad --source range '%s'", part.c_str());
      }
      for (uint32_t v = ntohl(lo.s_addr); v <= ntohl(hi.s_addr); v++) {
        sockaddr_storage a{};
        auto* a4 = reinterpret_cast<sockaddr_in*>(&a);
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(v);
        out->push_back(a);
        if (v == UINT32_MAX) break;
      }
    } else if (!part.empty()) {
      sockaddr_storage a{};
      if (!ParseAddr(part, 0, &a)) Die("bad --source address '%s'", part.c_str());
      out->push_back(a);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

bool ParseKind(const std::string& s, Kind* k) {
  static const std::pair<const char*, Kind> kinds[] = {
      {"login", Kind::kLogin}, {"small", Kind::kSmall}, {"persistent", Kind::kPersistent},
      {"large", Kind::kLarge}, {"upload", Kind::kUpload}, {"idle", Kind::kIdle},
      {"noop", Kind::kNoop}, {"passive", Kind::kPassive}};
  for (auto& [n, v] : kinds) {
    if (s == n) {
      *k = v;
      return true;
    }
  }
  return false;
}

void LoadLocal(const std::string& path, FileSpec* f, bool checksum) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd == -1) Die("cannot open %s: %s", path.c_str(), strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) == -1) Die("cannot stat %s: %s", path.c_str(), strerror(errno));
  f->size = st.st_size;
  if (checksum) {
    std::vector<unsigned char> buf(1 << 20);
    uint32_t crc = 0;
    for (;;) {
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n == -1 && errno == EINTR) continue;
      if (n == -1) Die("cannot read %s: %s", path.c_str(), strerror(errno));
      if (n == 0) break;
      crc = Crc32Update(crc, buf.data(), static_cast<size_t>(n));
    }
    f->crc = crc;
    f->have_crc = true;
  }
  close(fd);
}

void Usage() {
  std::fprintf(stderr,
      "usage: ftpload --host H --port P\n"
      "  --scenario login|small|persistent|large|upload|idle|noop|passive|mixed\n"
      "  [--mode epsv|pasv|port|eprt] [--concurrency N] [--threads N] [--duration S] [--count N]\n"
      "  [--user U] [--pass P] [--file REMOTE] [--file-size N] [--file-local PATH]\n"
      "  [--large-file REMOTE] [--large-size N] [--large-local PATH] [--checksum]\n"
      "  [--upload-size N] [--upload-prefix P] [--files-per-session N]\n"
      "  [--noop-interval S] [--pipeline N] [--timeout S] [--ramp N] [--source A-B|A,B]\n"
      "  [--progress-ms N]\n"
      "  [--mix login=1,small=4,...] [--tag T]\n");
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  std::string file_local, large_local, mix;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) Die("%s needs a value", argv[i]);
    return argv[++i];
  };
  auto num = [](const std::string& flag, const std::string& v) -> double {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || d < 0) Die("bad value for %s: '%s'", flag.c_str(), v.c_str());
    return d;
  };
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--host") o.host = need(i);
    else if (a == "--port") o.port = static_cast<int>(num(a, need(i)));
    else if (a == "--scenario") o.scenario = need(i);
    else if (a == "--mode") {
      std::string m = need(i);
      if (m == "epsv") o.mode = DataMode::kEpsv;
      else if (m == "pasv") o.mode = DataMode::kPasv;
      else if (m == "port") o.mode = DataMode::kPort;
      else if (m == "eprt") o.mode = DataMode::kEprt;
      else Die("bad --mode '%s'", m.c_str());
    } else if (a == "--concurrency") o.concurrency = static_cast<int>(num(a, need(i)));
    else if (a == "--threads") o.threads = static_cast<int>(num(a, need(i)));
    else if (a == "--duration") o.duration_s = num(a, need(i));
    else if (a == "--count") o.count = static_cast<uint64_t>(num(a, need(i)));
    else if (a == "--user") o.user = need(i);
    else if (a == "--pass") o.pass = need(i);
    else if (a == "--file") o.small.remote = need(i);
    else if (a == "--file-size") o.small.size = static_cast<int64_t>(num(a, need(i)));
    else if (a == "--file-local") file_local = need(i);
    else if (a == "--large-file") o.large.remote = need(i);
    else if (a == "--large-size") o.large.size = static_cast<int64_t>(num(a, need(i)));
    else if (a == "--large-local") large_local = need(i);
    else if (a == "--checksum") o.checksum = true;
    else if (a == "--upload-size") o.upload_size = static_cast<uint64_t>(num(a, need(i)));
    else if (a == "--upload-prefix") o.upload_prefix = need(i);
    else if (a == "--files-per-session") o.files_per_session = static_cast<uint64_t>(num(a, need(i)));
    else if (a == "--noop-interval") o.noop_interval_s = num(a, need(i));
    else if (a == "--timeout") o.timeout_s = num(a, need(i));
    else if (a == "--ramp") o.ramp = static_cast<int>(num(a, need(i)));
    else if (a == "--pipeline") o.pipeline = static_cast<int>(num(a, need(i)));
    else if (a == "--source") ParseSources(need(i), &o.sources);
    else if (a == "--progress-ms") o.progress_ms = static_cast<int>(num(a, need(i)));
    else if (a == "--mix") mix = need(i);
    else if (a == "--tag") o.tag = need(i);
    else if (a == "--help" || a == "-h") Usage();
    else Die("unknown option '%s' (see --help)", a.c_str());
  }
  if (o.port <= 0 || o.port > 65535) Die("bad --port");
  if (!ParseAddr(o.host, o.port, &o.target)) Die("bad --host '%s' (give an IP address)", o.host.c_str());
  if (o.concurrency < 1) Die("--concurrency must be at least 1");
  if (o.threads < 1) o.threads = 1;
  if (o.threads > o.concurrency) o.threads = o.concurrency;
  if (o.ramp < 1) o.ramp = 1;
  if (o.pipeline < 1) o.pipeline = 1;
  if (o.pipeline > 4096) o.pipeline = 4096;
  if (o.progress_ms < 50) o.progress_ms = 50;
  if (o.scenario == "mixed") {
    if (mix.empty()) mix = "login=1,small=4,persistent=4,large=1";
    size_t start = 0;
    while (start < mix.size()) {
      size_t comma = mix.find(',', start);
      std::string part = mix.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
      size_t eq = part.find('=');
      Kind k;
      if (eq == std::string::npos || !ParseKind(part.substr(0, eq), &k) || k == Kind::kIdle ||
          k == Kind::kNoop || k == Kind::kPassive) {
        Die("bad --mix entry '%s'", part.c_str());
      }
      int w = static_cast<int>(num("--mix", part.substr(eq + 1)));
      if (w > 0) o.mix.emplace_back(k, w);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (o.mix.empty()) Die("--mix has no positive weight");
  } else {
    Kind k;
    if (!ParseKind(o.scenario, &k)) Die("unknown --scenario '%s'", o.scenario.c_str());
    o.mix.emplace_back(k, 1);
  }
  if (o.checksum && file_local.empty() && large_local.empty()) {
    Die("--checksum needs --file-local or --large-local (the expected content)");
  }
  if (!file_local.empty()) LoadLocal(file_local, &o.small, o.checksum);
  if (!large_local.empty()) LoadLocal(large_local, &o.large, o.checksum);
  for (auto& [k, w] : o.mix) {
    (void)w;
    if ((k == Kind::kSmall || k == Kind::kPersistent || k == Kind::kPassive) && o.small.remote.empty()) {
      Die("scenario %s needs --file", KindName(k));
    }
    if (k == Kind::kLarge && o.large.remote.empty()) {
      if (o.small.remote.empty()) Die("scenario large needs --large-file (or --file)");
      o.large = o.small;
    }
    if (k == Kind::kPassive && o.mode != DataMode::kEpsv && o.mode != DataMode::kPasv) {
      Die("scenario passive needs --mode epsv or pasv");
    }
  }
  return o;
}

// ---------------------------------------------------------------- shared state

struct Shared {
  std::atomic<uint64_t> ops{0}, bytes{0}, errors{0}, open{0}, established{0}, claimed{0};
  std::atomic<uint64_t> sessions_started{0};
  // passive: sessions past their data setup (holding a data connection, or
  // failed before), and sessions holding one right now.
  std::atomic<uint64_t> settled{0}, held{0};
  std::atomic<bool> stop{false};
  uint64_t start_us = 0, deadline_us = 0;
};

// ---------------------------------------------------------------- sessions

enum class St {
  kFree,         // slot empty (waiting to start or restart)
  kConnecting,   // control connect in flight
  kGreeting,     // waiting for 220
  kUser,         // USER sent
  kPass,         // PASS sent
  kType,         // TYPE I sent
  kPasvReq,      // EPSV/PASV sent
  kDataConnect,  // data connect in flight
  kPortReq,      // PORT/EPRT sent
  kXferCmd,      // RETR/STOR sent, waiting 150
  kXfer,         // data moving, waiting for its end and 226
  kHold,         // idle: logged in, waiting for the next NOOP time
  kNoop,         // NOOP sent
  kFlood,        // noop: logged in, --pipeline NOOPs in flight
  kDataHold,     // passive: data connection open, waiting for the others' (then RETR)
  kQuit,         // QUIT sent, waiting 221 then EOF
  kQuitEof,      // 221 seen, waiting for the server to close
};

const char* StName(St s) {
  switch (s) {
    case St::kFree: return "free";
    case St::kConnecting: return "connect";
    case St::kGreeting: return "greeting";
    case St::kUser: return "user";
    case St::kPass: return "pass";
    case St::kType: return "type";
    case St::kPasvReq: return "pasv";
    case St::kDataConnect: return "data_connect";
    case St::kPortReq: return "port";
    case St::kXferCmd: return "xfer_cmd";
    case St::kXfer: return "xfer";
    case St::kHold: return "hold";
    case St::kNoop: return "noop";
    case St::kFlood: return "noop_flood";
    case St::kDataHold: return "data_hold";
    case St::kQuit: return "quit";
    case St::kQuitEof: return "quit";
  }
  return "?";
}

enum Which : uint64_t { kCtl = 0, kData = 1, kLst = 2 };

struct Session {
  uint32_t slot = 0;
  St st = St::kFree;
  Kind kind = Kind::kLogin;
  int ctl = -1, data = -1, lst = -1;
  uint32_t ctl_gen = 0, data_gen = 0, lst_gen = 0;
  bool ctl_out_armed = false;
  std::string in, out;
  int ml_code = 0;           // multi-line reply in progress
  uint64_t session_start = 0, op_start = 0, wait_since = 0, next_at = 0;
  bool claimed_op = false;   // this session (login/small) or op has claimed a --count unit
  bool logged_in = false, counted_open = false, counted_est = false;
  // transfer
  const FileSpec* file = nullptr;
  bool upload = false;
  uint64_t xfer_bytes = 0;
  uint32_t crc = 0;
  bool data_done = false, reply_done = false, data_connected = false;
  uint64_t files_done = 0;
  uint64_t upload_seq = 0;
  int src = -1;
  sockaddr_storage peer{}, local{};
  // noop: send times of the NOOPs in flight (a ring of --pipeline entries)
  std::vector<uint64_t> ring;
  uint32_t ring_head = 0, inflight = 0;
  bool settled = false;  // passive: counted in Shared::settled
};

class Worker {
 public:
  Worker(int id, const Options& o, Shared& sh, int first_slot, int nslots)
      : id_(id), o_(o), sh_(sh), first_slot_(first_slot), rng_(0x9e3779b9u * (id + 1)) {
    sessions_.resize(static_cast<size_t>(nslots));
    for (int i = 0; i < nslots; i++) sessions_[static_cast<size_t>(i)].slot = static_cast<uint32_t>(i);
    for (auto& [k, w] : o_.mix) total_weight_ += w;
    timeout_us_ = static_cast<uint64_t>(o_.timeout_s * 1e6);
    buf_.resize(256 * 1024);
    upload_buf_.resize(256 * 1024);
    for (size_t i = 0; i < upload_buf_.size(); i++) upload_buf_[i] = static_cast<char>('a' + i % 26);
  }

  void Run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ == -1) Die("epoll_create1: %s", strerror(errno));
    uint64_t now = NowUs();
    // Spread the first connects over the first few ms so that a thread does
    // not open thousands of sockets in one burst before it reads anything.
    for (auto& s : sessions_) {
      s.next_at = now;
      pending_.push_back(s.slot);
    }
    StartPending(now);
    std::vector<epoll_event> evs(1024);
    uint64_t last_scan = now;
    while (true) {
      now = NowUs();
      if (!stopping_ && (sh_.stop.load(std::memory_order_relaxed) || now >= sh_.deadline_us)) {
        StopAll(now);
      }
      if (stopping_ || (CountDone() && active_ == 0) || (OneShot() && active_ == 0 && pending_.empty())) break;
      int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 20);
      if (n == -1 && errno != EINTR) Die("epoll_wait: %s", strerror(errno));
      now = NowUs();
      for (int i = 0; i < n; i++) {
        uint64_t d = evs[static_cast<size_t>(i)].data.u64;
        uint32_t slot = static_cast<uint32_t>(d & 0xffffffffu);
        uint64_t which = (d >> 32) & 3;
        uint32_t gen = static_cast<uint32_t>(d >> 34);
        Session& s = sessions_[slot];
        uint32_t ev = evs[static_cast<size_t>(i)].events;
        // Skip events of fds closed (and maybe reopened) earlier in this batch.
        if (which == kCtl) {
          if (s.ctl == -1 || (s.ctl_gen & 0x3fffffffu) != gen) continue;
          OnCtl(s, ev, now);
        } else if (which == kData) {
          if (s.data == -1 || (s.data_gen & 0x3fffffffu) != gen) continue;
          OnData(s, ev, now);
        } else {
          if (s.lst == -1 || (s.lst_gen & 0x3fffffffu) != gen) continue;
          OnListen(s, now);
        }
      }
      if (now - last_scan >= 20000) {
        last_scan = now;
        Scan(now);
      }
      StartPending(now);
    }
    stopped_us = NowUs();
    if (flood_ops_) ops_by_kind["noop"] += flood_ops_;
    close(ep_);
  }

  uint64_t stopped_us = 0;
  Histogram hist;        // per op
  Histogram login_hist;  // connect to 230
  std::map<std::string, uint64_t> errors;
  uint64_t aborted = 0, alive_at_end = 0, max_established = 0, verified_size = 0,
           verified_crc = 0, sessions_ok = 0, max_data_held = 0;
  std::map<std::string, uint64_t> ops_by_kind;
  std::map<std::string, uint64_t> aborted_by_state;  // cut at the end, by the state they were in

 private:
  bool CountDone() const {
    return o_.count > 0 && sh_.claimed.load(std::memory_order_relaxed) >= o_.count;
  }

  bool ClaimOp() {
    if (stopping_) return false;
    if (o_.count == 0) return true;
    uint64_t c = sh_.claimed.fetch_add(1, std::memory_order_relaxed);
    return c < o_.count;
  }

  Kind PickKind() {
    if (o_.mix.size() == 1) return o_.mix[0].first;
    int r = static_cast<int>(rng_() % static_cast<uint32_t>(total_weight_));
    for (auto& [k, w] : o_.mix) {
      if (r < w) return k;
      r -= w;
    }
    return o_.mix.back().first;
  }

  static bool PerSessionOp(Kind k) { return k == Kind::kLogin || k == Kind::kSmall; }

  bool Single(Kind k) const { return o_.mix.size() == 1 && o_.mix[0].first == k; }
  // passive: every slot runs one session, never restarted.
  bool OneShot() const { return Single(Kind::kPassive); }

  // passive: this session is past its data setup (holding, or failed before).
  void Settle(Session& s) {
    if (s.settled || s.kind != Kind::kPassive) return;
    s.settled = true;
    sh_.settled.fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t Tag(uint32_t slot, Which w, uint32_t gen) {
    return slot | (static_cast<uint64_t>(w) << 32) | (static_cast<uint64_t>(gen & 0x3fffffffu) << 34);
  }

  void Watch(Session& s, Which w, int fd, uint32_t gen, uint32_t events, bool add) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = Tag(s.slot, w, gen);
    if (epoll_ctl(ep_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) == -1) {
      Die("epoll_ctl: %s", strerror(errno));
    }
  }

  void Error(Session& s, const std::string& kind, uint64_t now, bool restart_later = true) {
    errors[kind]++;
    sh_.errors.fetch_add(1, std::memory_order_relaxed);
    // Back off before the slot reconnects, so that a refusing server is not
    // hammered into a flood of identical errors.
    EndSession(s, now, restart_later ? (s.kind == Kind::kIdle ? 1000000 : 50000) : 0);
  }

  void Errno(Session& s, const char* what, int err, uint64_t now) {
    const char* name;
    switch (err) {
      case ECONNREFUSED: name = "refused"; break;
      case ECONNRESET: name = "reset"; break;
      case ETIMEDOUT: name = "timedout"; break;
      case EPIPE: name = "epipe"; break;
      case EADDRNOTAVAIL: name = "eaddrnotavail"; break;
      case EADDRINUSE: name = "eaddrinuse"; break;
      case EMFILE: name = "emfile"; break;
      case ENFILE: name = "enfile"; break;
      case EHOSTUNREACH: name = "unreachable"; break;
      case ENETUNREACH: name = "unreachable"; break;
      default: name = nullptr;
    }
    std::string k = std::string(what) + "_" + (name ? name : ("errno" + std::to_string(err)));
    Error(s, k, now);
  }

  void CloseFd(int& fd) {
    if (fd != -1) {
      close(fd);  // closing also removes it from the epoll set
      fd = -1;
    }
  }

  void CloseData(Session& s) {
    CloseFd(s.data);
    CloseFd(s.lst);
    s.data_connected = false;
  }

  // Ends a session; the slot restarts after delay_us unless the run is over.
  void EndSession(Session& s, uint64_t now, uint64_t delay_us) {
    if (s.st == St::kFree) return;
    if (s.st == St::kDataHold) sh_.held.fetch_sub(1, std::memory_order_relaxed);
    Settle(s);
    CloseData(s);
    CloseFd(s.ctl);
    if (s.counted_open) sh_.open.fetch_sub(1, std::memory_order_relaxed);
    if (s.counted_est) sh_.established.fetch_sub(1, std::memory_order_relaxed);
    if (!s.logged_in && s.st != St::kFree) connecting_--;
    s.counted_open = s.counted_est = false;
    s.st = St::kFree;
    s.in.clear();
    s.out.clear();
    std::vector<uint64_t>().swap(s.ring);
    s.inflight = 0;
    active_--;
    if (!stopping_ && !OneShot()) {
      s.next_at = now + delay_us;
      pending_.push_back(s.slot);
    }
  }

  void StartPending(uint64_t now) {
    size_t n = pending_.size();
    while (n-- > 0 && !stopping_) {
      uint32_t slot = pending_.front();
      Session& s = sessions_[slot];
      if (s.next_at > now) {
        pending_.pop_front();
        pending_.push_back(slot);
        continue;
      }
      if (connecting_ >= o_.ramp && Ramped()) break;
      pending_.pop_front();
      StartSession(s, now);
    }
  }

  // Runs that hold many sessions log them in --ramp at a time per thread.
  bool Ramped() const { return Single(Kind::kIdle) || Single(Kind::kNoop) || Single(Kind::kPassive); }

  void StartSession(Session& s, uint64_t now) {
    s.kind = PickKind();
    s.claimed_op = false;
    s.settled = false;
    if (PerSessionOp(s.kind)) {
      if (!ClaimOp()) return;  // --count reached: the slot stays free
      s.claimed_op = true;
    } else if (CountDone()) {
      Settle(s);  // never starts: no one waits for it
      return;
    }
    sh_.sessions_started.fetch_add(1, std::memory_order_relaxed);
    s.session_start = s.op_start = s.wait_since = now;
    s.logged_in = false;
    s.ml_code = 0;
    s.files_done = 0;
    s.in.clear();
    s.out.clear();
    s.ctl_out_armed = false;
    active_++;
    connecting_++;
    s.st = St::kConnecting;
    if (!o_.sources.empty()) s.src = static_cast<int>((first_slot_ + s.slot + rr_++) % o_.sources.size());
    int fd = OpenConnect(s, o_.target);
    if (fd < 0) {
      Errno(s, "connect", -fd, now);
      return;
    }
    s.ctl = fd;
    s.ctl_gen++;
    s.counted_open = true;
    sh_.open.fetch_add(1, std::memory_order_relaxed);
    Watch(s, kCtl, fd, s.ctl_gen, EPOLLOUT | EPOLLIN, true);
  }

  // Non-blocking socket + optional source bind + connect. Returns fd or -errno.
  int OpenConnect(Session& s, const sockaddr_storage& target) {
    int fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s.src >= 0) {
      sockaddr_storage src = o_.sources[static_cast<size_t>(s.src)];
      if (src.ss_family == target.ss_family) {
        // Let connect() pick the port for the full 4-tuple rather than
        // reserving one per source address at bind time.
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, reinterpret_cast<sockaddr*>(&src), AddrLen(src)) == -1) {
          int e = errno;
          close(fd);
          return -e;
        }
      }
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&target), AddrLen(target)) == -1 &&
        errno != EINPROGRESS) {
      int e = errno;
      close(fd);
      return -e;
    }
    return fd;
  }

  void Send(Session& s, const std::string& line, uint64_t now) {
    s.wait_since = now;
    s.out += line;
    s.out += "\r\n";
    FlushCtl(s, now);
  }

  void FlushCtl(Session& s, uint64_t now) {
    while (!s.out.empty()) {
      ssize_t n = send(s.ctl, s.out.data(), s.out.size(), MSG_NOSIGNAL);
      if (n == -1) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        Errno(s, "ctl_send", errno, now);
        return;
      }
      s.out.erase(0, static_cast<size_t>(n));
    }
    bool want = !s.out.empty();
    if (want != s.ctl_out_armed) {
      s.ctl_out_armed = want;
      Watch(s, kCtl, s.ctl, s.ctl_gen, EPOLLIN | (want ? EPOLLOUT : 0u), false);
    }
  }

  void OnCtl(Session& s, uint32_t ev, uint64_t now) {
    if (s.st == St::kConnecting) {
      if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s.ctl, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) {
        Errno(s, "connect", err, now);
        return;
      }
      s.st = St::kGreeting;
      s.wait_since = now;
      Watch(s, kCtl, s.ctl, s.ctl_gen, EPOLLIN, false);
      return;
    }
    if ((ev & EPOLLOUT) && s.ctl_out_armed) {
      FlushCtl(s, now);
      if (s.st == St::kFree) return;
    }
    if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    char b[4096];
    ssize_t n = recv(s.ctl, b, sizeof b, 0);
    if (n == -1) {
      if (errno == EAGAIN || errno == EINTR) return;
      if (s.st == St::kQuit || s.st == St::kQuitEof) {
        Finish(s, now);
        return;
      }
      Errno(s, std::string("ctl_").append(StName(s.st)).c_str(), errno, now);
      return;
    }
    if (n == 0) {
      if (s.st == St::kQuit || s.st == St::kQuitEof) {
        Finish(s, now);
        return;
      }
      Error(s, std::string("closed_in_") + StName(s.st), now);
      return;
    }
    s.in.append(b, static_cast<size_t>(n));
    if (s.in.size() > 65536) {
      Error(s, "reply_too_long", now);
      return;
    }
    size_t pos = 0;
    while (s.st != St::kFree) {
      size_t nl = s.in.find('\n', pos);
      if (nl == std::string::npos) break;
      std::string line = s.in.substr(pos, nl - pos);
      pos = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      bool digits = line.size() >= 3 && isdigit(static_cast<unsigned char>(line[0])) &&
                    isdigit(static_cast<unsigned char>(line[1])) &&
                    isdigit(static_cast<unsigned char>(line[2]));
      int code = digits ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') : 0;
      if (s.ml_code) {
        // RFC 959 4.2: a multi-line reply ends with a line "ddd<SP>" of the same code.
        if (code == s.ml_code && (line.size() == 3 || line[3] == ' ')) {
          s.ml_code = 0;
          OnReply(s, code, line, now);
        }
        continue;
      }
      if (!digits) {
        Error(s, "bad_reply", now);
        break;
      }
      if (line.size() > 3 && line[3] == '-') {
        s.ml_code = code;
        continue;
      }
      OnReply(s, code, line, now);
    }
    if (s.st == St::kFree) return;
    s.in.erase(0, pos);
    // NOOP flood: the replies of this read queued their follow-ups; one send for all.
    if (!s.out.empty() && !s.ctl_out_armed) FlushCtl(s, now);
  }

  void ReplyError(Session& s, int code, uint64_t now) {
    Error(s, std::string(StName(s.st)) + "_" + std::to_string(code), now);
  }

  void OnReply(Session& s, int code, const std::string& line, uint64_t now) {
    if (code >= 100 && code < 200 && s.st != St::kXferCmd) return;  // preliminary: wait
    switch (s.st) {
      case St::kGreeting:
        if (code != 220) return ReplyError(s, code, now);
        s.st = St::kUser;
        return Send(s, "USER " + o_.user, now);
      case St::kUser:
        if (code == 230) return LoggedIn(s, now);
        if (code != 331) return ReplyError(s, code, now);
        s.st = St::kPass;
        return Send(s, "PASS " + o_.pass, now);
      case St::kPass:
        if (code != 230 && code != 202) return ReplyError(s, code, now);
        return LoggedIn(s, now);
      case St::kType:
        if (code != 200) return ReplyError(s, code, now);
        return StartOp(s, now);
      case St::kPasvReq: {
        if (code != 227 && code != 229) return ReplyError(s, code, now);
        int port = code == 229 ? ParseEpsv(line) : ParsePasv(line);
        if (port <= 0) return Error(s, "bad_pasv_reply", now);
        sockaddr_storage target = s.peer;
        SetPort(&target, port);
        int fd = OpenConnect(s, target);
        if (fd < 0) return Errno(s, "data_connect", -fd, now);
        s.data = fd;
        s.data_gen++;
        s.st = St::kDataConnect;
        s.wait_since = now;
        Watch(s, kData, fd, s.data_gen, EPOLLOUT, true);
        return;
      }
      case St::kPortReq:
        if (code != 200) return ReplyError(s, code, now);
        return SendXferCmd(s, now);
      case St::kXferCmd:
        if (code == 150 || code == 125) {
          s.st = St::kXfer;
          s.wait_since = now;
          if (s.upload && s.data != -1 && s.data_connected) {
            Watch(s, kData, s.data, s.data_gen, EPOLLOUT, false);
          }
          return;
        }
        if (code >= 100 && code < 200) return;
        if (code == 226 || code == 250) {  // no 150 at all (seen with tiny files)
          s.st = St::kXfer;
          s.reply_done = true;
          return MaybeOpDone(s, now);
        }
        return ReplyError(s, code, now);
      case St::kXfer:
        if (code == 226 || code == 250) {
          s.reply_done = true;
          return MaybeOpDone(s, now);
        }
        return ReplyError(s, code, now);
      case St::kFlood: {
        if (code != 200) return ReplyError(s, code, now);
        if (s.inflight == 0) return ReplyError(s, code, now);  // a reply to nothing
        hist.Add(now - s.ring[s.ring_head]);
        s.ring_head = (s.ring_head + 1) % static_cast<uint32_t>(s.ring.size());
        s.inflight--;
        flood_ops_++;
        sh_.ops.fetch_add(1, std::memory_order_relaxed);
        s.wait_since = now;
        TopUp(s, now);  // queued; OnCtl sends once per read
        if (s.inflight == 0) return Quit(s, now);
        return;
      }
      case St::kNoop:
        if (code != 200) return ReplyError(s, code, now);
        hist.Add(now - s.op_start);
        ops_by_kind["noop"]++;
        sh_.ops.fetch_add(1, std::memory_order_relaxed);
        s.st = St::kHold;
        s.next_at = now + NoopDelay();
        return;
      case St::kQuit:
        if (code == 221) {
          s.st = St::kQuitEof;
          s.wait_since = now;
          return;
        }
        return ReplyError(s, code, now);
      default:
        // Unsolicited reply (e.g. 421 while holding): the server is dropping us.
        return ReplyError(s, code, now);
    }
  }

  uint64_t NoopDelay() {
    uint64_t base = static_cast<uint64_t>(o_.noop_interval_s * 1e6);
    if (base == 0) base = 1000000;
    return base / 2 + rng_() % (base + 1);  // jitter: 0.5x .. 1.5x
  }

  static int ParseEpsv(const std::string& line) {
    // 229 Entering Extended Passive Mode (|||port|)
    size_t p = line.find('(');
    if (p == std::string::npos || p + 4 >= line.size()) return -1;
    char d = line[p + 1];
    if (line[p + 2] != d || line[p + 3] != d) return -1;
    int port = std::atoi(line.c_str() + p + 4);
    return port > 0 && port < 65536 ? port : -1;
  }

  static int ParsePasv(const std::string& line) {
    // 227 Entering Passive Mode (h1,h2,h3,h4,p1,p2); the parentheses are optional.
    for (size_t i = 4; i < line.size(); i++) {
      if (!isdigit(static_cast<unsigned char>(line[i]))) continue;
      int v[6];
      int k = 0;
      size_t j = i;
      while (k < 6) {
        if (j >= line.size() || !isdigit(static_cast<unsigned char>(line[j]))) break;
        int x = 0;
        while (j < line.size() && isdigit(static_cast<unsigned char>(line[j]))) x = x * 10 + (line[j++] - '0');
        if (x > 255) break;
        v[k++] = x;
        if (k < 6) {
          if (j >= line.size() || line[j] != ',') break;
          j++;
        }
      }
      if (k == 6) return v[4] * 256 + v[5];
    }
    return -1;
  }

  void LoggedIn(Session& s, uint64_t now) {
    s.logged_in = true;
    connecting_--;
    login_hist.Add(now - s.session_start);
    socklen_t len = sizeof s.peer;
    getpeername(s.ctl, reinterpret_cast<sockaddr*>(&s.peer), &len);
    len = sizeof s.local;
    getsockname(s.ctl, reinterpret_cast<sockaddr*>(&s.local), &len);
    s.counted_est = true;
    uint64_t est = sh_.established.fetch_add(1, std::memory_order_relaxed) + 1;
    if (est > max_established) max_established = est;
    switch (s.kind) {
      case Kind::kLogin:
        return Quit(s, now);
      case Kind::kIdle:
        s.st = St::kHold;
        s.next_at = now + NoopDelay();
        return;
      case Kind::kNoop:
        s.st = St::kFlood;
        s.ring.assign(static_cast<size_t>(o_.pipeline), 0);
        s.ring_head = 0;
        s.inflight = 0;
        TopUp(s, now);
        if (s.inflight == 0) return Quit(s, now);
        return FlushCtl(s, now);
      default:
        s.st = St::kType;
        return Send(s, "TYPE I", now);
    }
  }

  // noop: queue NOOPs until --pipeline are in flight (or --count is reached).
  void TopUp(Session& s, uint64_t now) {
    const uint32_t cap = static_cast<uint32_t>(s.ring.size());
    while (s.inflight < cap && ClaimOp()) {
      s.ring[(s.ring_head + s.inflight) % cap] = now;
      s.inflight++;
      s.out += "NOOP\r\n";
    }
  }

  void Quit(Session& s, uint64_t now) {
    s.st = St::kQuit;
    Send(s, "QUIT", now);
  }

  void StartOp(Session& s, uint64_t now) {
    if (!PerSessionOp(s.kind)) {
      if (!ClaimOp()) return Quit(s, now);
      s.op_start = now;
    }
    s.upload = s.kind == Kind::kUpload;
    s.file = s.kind == Kind::kLarge ? &o_.large : &o_.small;
    s.xfer_bytes = 0;
    s.crc = 0;
    s.data_done = s.reply_done = s.data_connected = false;
    s.wait_since = now;
    if (o_.mode == DataMode::kEpsv || o_.mode == DataMode::kPasv) {
      s.st = St::kPasvReq;
      return Send(s, o_.mode == DataMode::kEpsv ? "EPSV" : "PASV", now);
    }
    // Active mode: listen on the control connection's local address.
    sockaddr_storage a = s.local;
    SetPort(&a, 0);
    int fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) return Errno(s, "listen", errno, now);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), AddrLen(a)) == -1 || listen(fd, 1) == -1) {
      int e = errno;
      close(fd);
      return Errno(s, "listen", e, now);
    }
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    s.lst = fd;
    s.lst_gen++;
    Watch(s, kLst, fd, s.lst_gen, EPOLLIN, true);
    int port = GetPort(a);
    std::string ip = AddrText(a);
    s.st = St::kPortReq;
    if (o_.mode == DataMode::kPort) {
      if (a.ss_family != AF_INET) return Error(s, "port_needs_ipv4", now, false);
      for (auto& c : ip) if (c == '.') c = ',';
      return Send(s, "PORT " + ip + "," + std::to_string(port / 256) + "," + std::to_string(port % 256), now);
    }
    return Send(s, "EPRT |" + std::string(a.ss_family == AF_INET6 ? "2" : "1") + "|" + ip + "|" +
                       std::to_string(port) + "|", now);
  }

  void SendXferCmd(Session& s, uint64_t now) {
    s.st = St::kXferCmd;
    if (s.upload) {
      // A new name per upload: some servers refuse to let anonymous users
      // overwrite (pure-ftpd), so no run depends on it. The caller cleans up.
      return Send(s, "STOR " + o_.upload_prefix + "-" + std::to_string(getpid()) + "-" +
                         std::to_string(id_) + "-" + std::to_string(s.slot) + "-" +
                         std::to_string(s.upload_seq++) + ".bin", now);
    }
    Send(s, "RETR " + s.file->remote, now);
  }

  void OnListen(Session& s, uint64_t now) {
    int fd = accept4(s.lst, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd == -1) {
      if (errno == EAGAIN || errno == EINTR) return;
      return Errno(s, "data_accept", errno, now);
    }
    CloseFd(s.lst);
    s.data = fd;
    s.data_gen++;
    s.data_connected = true;
    bool write_now = s.upload && s.st == St::kXfer;
    Watch(s, kData, fd, s.data_gen, s.upload ? (write_now ? EPOLLOUT : 0u) : EPOLLIN, true);
  }

  void OnData(Session& s, uint32_t ev, uint64_t now) {
    if (s.st == St::kDataConnect) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s.data, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) return Errno(s, "data_connect", err, now);
      s.data_connected = true;
      Watch(s, kData, s.data, s.data_gen, s.upload ? 0u : EPOLLIN, false);
      if (s.kind == Kind::kPassive) {
        // Hold the data connection until every session has one (Scan releases).
        s.st = St::kDataHold;
        uint64_t h = sh_.held.fetch_add(1, std::memory_order_relaxed) + 1;
        if (h > max_data_held) max_data_held = h;
        Settle(s);
        return;
      }
      return SendXferCmd(s, now);
    }
    if (s.upload) {
      if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || s.st != St::kXfer) return;
      uint64_t left = o_.upload_size - s.xfer_bytes;
      while (left > 0) {
        size_t chunk = left < upload_buf_.size() ? static_cast<size_t>(left) : upload_buf_.size();
        ssize_t n = send(s.data, upload_buf_.data(), chunk, MSG_NOSIGNAL);
        if (n == -1) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN) return;
          return Errno(s, "data_send", errno, now);
        }
        s.xfer_bytes += static_cast<uint64_t>(n);
        sh_.bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        left -= static_cast<uint64_t>(n);
        s.wait_since = now;
        break;  // one block per event: every session moves every loop
      }
      if (s.xfer_bytes >= o_.upload_size) {
        CloseData(s);  // FIN ends the upload (stream mode)
        s.data_done = true;
        MaybeOpDone(s, now);
      }
      return;
    }
    // Download. Without --checksum the kernel discards the bytes (MSG_TRUNC
    // on TCP), so the client spends no copy on them.
    ssize_t n;
    for (;;) {
      if (o_.checksum) {
        n = recv(s.data, buf_.data(), buf_.size(), 0);
      } else {
        n = recv(s.data, nullptr, 1 << 22, MSG_TRUNC | MSG_DONTWAIT);
      }
      if (n == -1 && errno == EINTR) continue;
      break;
    }
    if (n == -1) {
      if (errno == EAGAIN) return;
      return Errno(s, "data_recv", errno, now);
    }
    if (n == 0) {
      if (s.st == St::kDataHold) return Error(s, "closed_in_data_hold", now);
      CloseData(s);
      s.data_done = true;
      return MaybeOpDone(s, now);
    }
    if (o_.checksum) s.crc = Crc32Update(s.crc, reinterpret_cast<unsigned char*>(buf_.data()), static_cast<size_t>(n));
    s.xfer_bytes += static_cast<uint64_t>(n);
    s.wait_since = now;
    sh_.bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  }

  void MaybeOpDone(Session& s, uint64_t now) {
    if (!s.data_done || !s.reply_done) return;
    if (!s.upload) {
      if (s.file->size >= 0) {
        if (static_cast<int64_t>(s.xfer_bytes) != s.file->size) return Error(s, "size_mismatch", now);
        verified_size++;
      }
      if (o_.checksum && s.file->have_crc) {
        if (s.crc != s.file->crc) return Error(s, "checksum_mismatch", now);
        verified_crc++;
      }
    }
    if (!PerSessionOp(s.kind)) {
      hist.Add(now - s.op_start);
      ops_by_kind[KindName(s.kind)]++;
      sh_.ops.fetch_add(1, std::memory_order_relaxed);
    }
    s.files_done++;
    switch (s.kind) {
      case Kind::kSmall:
      case Kind::kPassive:
        return Quit(s, now);
      case Kind::kPersistent: {
        uint64_t fps = o_.files_per_session;
        if (fps == 0 && o_.mix.size() > 1) fps = 10;
        if (fps && s.files_done >= fps) return Quit(s, now);
        return StartOp(s, now);
      }
      default:
        return StartOp(s, now);
    }
  }

  // QUIT answered and the server closed (or 221 and a short wait): the session is done.
  void Finish(Session& s, uint64_t now) {
    sessions_ok++;
    if (PerSessionOp(s.kind) && s.claimed_op) {
      hist.Add(now - s.session_start);
      ops_by_kind[KindName(s.kind)]++;
      sh_.ops.fetch_add(1, std::memory_order_relaxed);
    }
    EndSession(s, now, 0);
  }

  void Scan(uint64_t now) {
    // passive: every session of this process holds its data connection (or failed).
    const bool release = OneShot() && sh_.settled.load(std::memory_order_relaxed) >=
                                           static_cast<uint64_t>(o_.concurrency);
    for (auto& s : sessions_) {
      switch (s.st) {
        case St::kFree:
          break;
        case St::kDataHold:
          // Not a wait for the server: no timeout while held.
          if (release) {
            sh_.held.fetch_sub(1, std::memory_order_relaxed);
            s.op_start = now;
            SendXferCmd(s, now);
          }
          break;
        case St::kHold:
          if (now >= s.next_at) {
            s.op_start = now;
            s.st = St::kNoop;
            Send(s, "NOOP", now);
          }
          break;
        case St::kQuitEof:
          // 221 arrived; a server that keeps the socket open does not make it an error.
          if (now - s.wait_since > 1000000) Finish(s, now);
          break;
        default:
          if (now - s.wait_since > timeout_us_) Error(s, std::string("timeout_") + StName(s.st), now);
      }
    }
  }

  // End of the run: count who is still alive, then close everything. In-flight
  // operations are aborted, not counted as errors (they are reported apart).
  void StopAll(uint64_t now) {
    stopping_ = true;
    for (auto& s : sessions_) {
      if (s.st == St::kFree) continue;
      if (s.st == St::kHold || s.st == St::kNoop || s.st == St::kFlood) {
        alive_at_end++;
      } else {
        aborted++;
        aborted_by_state[StName(s.st)]++;
      }
      EndSession(s, now, 0);
    }
    pending_.clear();
  }

  int id_;
  const Options& o_;
  Shared& sh_;
  int first_slot_;
  int ep_ = -1;
  std::vector<Session> sessions_;
  std::deque<uint32_t> pending_;
  std::mt19937 rng_;
  int total_weight_ = 0;
  int connecting_ = 0;
  int64_t active_ = 0;
  bool stopping_ = false;
  uint64_t rr_ = 0;
  uint64_t timeout_us_ = 0;
  uint64_t flood_ops_ = 0;
  std::vector<char> buf_, upload_buf_;
};

void RaiseFdLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::atomic<bool> g_signalled{false};
void OnSignal(int) { g_signalled.store(true); }

int Main(int argc, char** argv) {
  InitCrc();
  Options o = ParseArgs(argc, argv);
  RaiseFdLimit();
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);

  Shared sh;
  sh.start_us = NowUs();
  sh.deadline_us = sh.start_us + static_cast<uint64_t>(o.duration_s * 1e6);
  std::vector<std::unique_ptr<Worker>> workers;
  int per = o.concurrency / o.threads, extra = o.concurrency % o.threads, first = 0;
  for (int t = 0; t < o.threads; t++) {
    int n = per + (t < extra ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(t, o, sh, first, n));
    first += n;
  }
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (auto& w : workers) {
    threads.emplace_back([&w, &done] {
      w->Run();
      done.fetch_add(1);
    });
  }
  uint64_t next_progress = sh.start_us + static_cast<uint64_t>(o.progress_ms) * 1000;
  uint64_t end_us = 0;
  while (done.load() < static_cast<int>(workers.size())) {
    usleep(5000);
    uint64_t now = NowUs();
    if (g_signalled.load()) sh.stop.store(true);
    if (!end_us && (now >= sh.deadline_us || sh.stop.load())) end_us = now;
    if (now >= next_progress) {
      next_progress += static_cast<uint64_t>(o.progress_ms) * 1000;
      std::printf("{\"type\":\"progress\",\"t\":%.3f,\"open\":%" PRIu64 ",\"established\":%" PRIu64
                  ",\"ops\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64 "}\n",
                  (now - sh.start_us) / 1e6, sh.open.load(), sh.established.load(), sh.ops.load(),
                  sh.bytes.load(), sh.errors.load());
      std::fflush(stdout);
    }
  }
  for (auto& t : threads) t.join();
  // The measured window ends when the last worker stopped: at the deadline
  // (within one 20 ms loop turn) or when --count operations were done.
  (void)end_us;
  uint64_t stop_us = sh.start_us;
  for (auto& w : workers) stop_us = std::max(stop_us, w->stopped_us);
  end_us = stop_us;

  Histogram hist, login;
  std::map<std::string, uint64_t> errors, by_kind, cut;
  uint64_t aborted = 0, alive = 0, max_est = 0, vsize = 0, vcrc = 0, sok = 0, max_held = 0;
  for (auto& w : workers) {
    hist.Merge(w->hist);
    login.Merge(w->login_hist);
    for (auto& [k, v] : w->errors) errors[k] += v;
    for (auto& [k, v] : w->ops_by_kind) by_kind[k] += v;
    for (auto& [k, v] : w->aborted_by_state) cut[k] += v;
    aborted += w->aborted;
    alive += w->alive_at_end;
    max_est = std::max(max_est, w->max_established);  // each is a global count
    max_held = std::max(max_held, w->max_data_held);
    vsize += w->verified_size;
    vcrc += w->verified_crc;
    sok += w->sessions_ok;
  }
  std::string err_json = "{";
  for (auto& [k, v] : errors) {
    if (err_json.size() > 1) err_json += ',';
    err_json += "\"" + JsonEscape(k) + "\":" + std::to_string(v);
  }
  err_json += "}";
  std::string kind_json = "{";
  for (auto& [k, v] : by_kind) {
    if (kind_json.size() > 1) kind_json += ',';
    kind_json += "\"" + JsonEscape(k) + "\":" + std::to_string(v);
  }
  kind_json += "}";
  std::string cut_json = "{";
  for (auto& [k, v] : cut) {
    if (cut_json.size() > 1) cut_json += ',';
    cut_json += "\"" + JsonEscape(k) + "\":" + std::to_string(v);
  }
  cut_json += "}";
  static const char* modes[] = {"epsv", "pasv", "port", "eprt"};
  std::printf(
      "{\"type\":\"summary\",\"tag\":\"%s\",\"scenario\":\"%s\",\"mode\":\"%s\",\"host\":\"%s\","
      "\"port\":%d,\"threads\":%d,\"concurrency\":%d,\"duration_s\":%.3f,\"count\":%" PRIu64
      ",\"elapsed_s\":%.6f,\"ops\":%" PRIu64 ",\"ops_by_kind\":%s,\"bytes\":%" PRIu64
      ",\"sessions_started\":%" PRIu64 ",\"sessions_ok\":%" PRIu64 ",\"errors\":%s"
      ",\"aborted_at_end\":%" PRIu64 ",\"aborted_by_state\":%s,\"alive_at_end\":%" PRIu64 ",\"max_established\":%" PRIu64
      ",\"verified_size\":%" PRIu64 ",\"verified_checksum\":%" PRIu64 ",\"fd_limit\":%" PRIu64
      ",\"max_data_held\":%" PRIu64 ",\"pipeline\":%d,\"latency\":%s,\"login_latency\":%s}\n",
      JsonEscape(o.tag).c_str(), JsonEscape(o.scenario).c_str(), modes[static_cast<int>(o.mode)],
      JsonEscape(o.host).c_str(), o.port, o.threads, o.concurrency, o.duration_s, o.count,
      (end_us - sh.start_us) / 1e6, sh.ops.load(), kind_json.c_str(), sh.bytes.load(),
      sh.sessions_started.load(), sok, err_json.c_str(), aborted, cut_json.c_str(), alive, max_est, vsize, vcrc,
      static_cast<uint64_t>(r.rlim_cur), max_held, o.pipeline, hist.Json().c_str(), login.Json().c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace ftpload

int main(int argc, char** argv) { return ftpload::Main(argc, argv); }
