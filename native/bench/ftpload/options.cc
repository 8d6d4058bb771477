#include "options.h"

#include <fcntl.h>
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "addresses.h"
#include "crc32.h"
#include "fatal.h"

namespace muxftpd::ftpload {

namespace {

const std::pair<const char*, Kind> kKinds[] = {
    {"login", Kind::kLogin}, {"small", Kind::kSmall}, {"persistent", Kind::kPersistent},
    {"large", Kind::kLarge}, {"upload", Kind::kUpload}, {"idle", Kind::kIdle},
    {"noop", Kind::kNoop},   {"passive", Kind::kPassive}};

const std::pair<const char*, DataMode> kModes[] = {{"epsv", DataMode::kEpsv},
                                                   {"pasv", DataMode::kPasv},
                                                   {"port", DataMode::kPort},
                                                   {"eprt", DataMode::kEprt}};

bool ParseKind(const std::string& s, Kind* k) {
  for (const auto& [name, kind] : kKinds) {
    if (s == name) {
      *k = kind;
      return true;
    }
  }
  return false;
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
      "usage: ftpload --host H --port P\n"
      "  --scenario login|small|persistent|large|upload|idle|noop|passive|mixed\n"
      "  [--mode epsv|pasv|port|eprt] [--concurrency N] [--threads N] [--duration S] [--count N]\n"
      "  [--user U] [--pass P] [--file REMOTE] [--file-size N] [--file-local PATH]\n"
      "  [--large-file REMOTE] [--large-size N] [--large-local PATH] [--checksum]\n"
      "  [--upload-size N] [--upload-prefix P] [--files-per-session N]\n"
      "  [--noop-interval S] [--pipeline N] [--timeout S] [--ramp N] [--source A-B|A,B]\n"
      "  [--max-data-setups N]\n"
      "  [--progress-ms N] [--stream-ms N] [--stream-max N]\n"
      "  [--mix login=1,small=4,...] [--tag T] [--expect-pasv-address A]\n"
      "  [--tls explicit|implicit] [--tls-version 1.2|1.3]\n"
      "--tls explicit: AUTH TLS after the 220, then USER/PASS, and PBSZ 0 + PROT P before a\n"
      "  session's first transfer; implicit: TLS before the 220 (e.g. port 990). Every data\n"
      "  connection is a TLS client resuming the FTP session's TLS session. The server's\n"
      "  certificate is NOT verified (a stress client). --tls-version pins 1.2 or 1.3 (default\n"
      "  1.3); key exchange P-256 first, then X25519.%s\n",
      TlsAvailable() ? "" : "\n  This build has no TLS: install the Debian package libssl-dev and rebuild.");
  std::exit(2);
}

// A number >= 0, or the run ends naming the flag.
double Number(const char* flag, const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || d < 0) Die("bad value for %s: '%s'", flag, v.c_str());
  return d;
}

// The size of a local file and, with `checksum`, its CRC: what a download of
// it must match.
void LoadLocal(const std::string& path, FileSpec* f, bool checksum) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.Valid()) Die("cannot open %s: %s", path.c_str(), strerror(errno));
  uint64_t size = 0;
  bool regular = false;
  if (int r = sys::FileSize(fd.Get(), &size, &regular); r < 0) {
    Die("cannot stat %s: %s", path.c_str(), strerror(-r));
  }
  f->size = static_cast<int64_t>(size);
  if (!checksum) return;
  std::vector<unsigned char> buf(1 << 20);
  uint32_t crc = 0;
  for (;;) {
    ssize_t n = sys::Read(fd.Get(), buf.data(), buf.size());
    if (n < 0) Die("cannot read %s: %s", path.c_str(), strerror(static_cast<int>(-n)));
    if (n == 0) break;
    crc = Crc32Update(crc, buf.data(), static_cast<size_t>(n));
  }
  f->crc = crc;
  f->have_crc = true;
}

// "login=1,small=4,..." into o->mix; login, small, persistent, large and upload only.
void ParseMix(const std::string& mix, Options* o) {
  size_t start = 0;
  while (start < mix.size()) {
    size_t comma = mix.find(',', start);
    std::string part =
        mix.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = part.find('=');
    Kind k;
    if (eq == std::string::npos || !ParseKind(part.substr(0, eq), &k) || k == Kind::kIdle ||
        k == Kind::kNoop || k == Kind::kPassive) {
      Die("bad --mix entry '%s'", part.c_str());
    }
    int w = static_cast<int>(Number("--mix", part.substr(eq + 1)));
    if (w > 0) o->mix.emplace_back(k, w);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (o->mix.empty()) Die("--mix has no positive weight");
}

// Limits clamped, the scenario's needs checked, expected files read.
void Complete(Options* o, std::string mix, const std::string& file_local,
              const std::string& large_local) {
  if (o->port <= 0 || o->port > 65535) Die("bad --port");
  if (!ParseHost(o->host, static_cast<uint16_t>(o->port), &o->target)) {
    Die("bad --host '%s' (give an IP address)", o->host.c_str());
  }
  if (o->expect_pasv.empty()) o->expect_pasv = o->target.HostString();
  if (o->concurrency < 1) Die("--concurrency must be at least 1");
  if (o->threads < 1) o->threads = 1;
  if (o->threads > o->concurrency) o->threads = o->concurrency;
  if (o->ramp < 1) o->ramp = 1;
  if (o->pipeline < 1) o->pipeline = 1;
  if (o->pipeline > 4096) o->pipeline = 4096;
  if (o->progress_ms < 50) o->progress_ms = 50;
  if (o->stream_ms > 0 && o->stream_ms < 10) o->stream_ms = 10;
  if (o->stream_max < 1) Die("--stream-max must be at least 1");
  if (o->scenario == "mixed") {
    ParseMix(mix.empty() ? "login=1,small=4,persistent=4,large=1" : mix, o);
  } else {
    Kind k;
    if (!ParseKind(o->scenario, &k)) Die("unknown --scenario '%s'", o->scenario.c_str());
    o->mix.emplace_back(k, 1);
  }
  if (o->checksum && file_local.empty() && large_local.empty()) {
    Die("--checksum needs --file-local or --large-local (the expected content)");
  }
  if (o->tls != TlsMode::kOff && !TlsAvailable()) Die("%s", kTlsUnavailable);
  if (!file_local.empty()) LoadLocal(file_local, &o->small, o->checksum);
  if (!large_local.empty()) LoadLocal(large_local, &o->large, o->checksum);
  for (const auto& [k, w] : o->mix) {
    (void)w;
    if ((k == Kind::kSmall || k == Kind::kPersistent || k == Kind::kPassive) &&
        o->small.remote.empty()) {
      Die("scenario %s needs --file", KindName(k));
    }
    if (k == Kind::kLarge && o->large.remote.empty()) {
      if (o->small.remote.empty()) Die("scenario large needs --large-file (or --file)");
      o->large = o->small;
    }
    if (k == Kind::kPassive && o->mode != DataMode::kEpsv && o->mode != DataMode::kPasv) {
      Die("scenario passive needs --mode epsv or pasv");
    }
  }
}

enum Flag : int {
  kHost = 256, kPort, kScenario, kMode, kConcurrency, kThreads, kDuration, kCount, kUser,
  kPass, kFile, kFileSize, kFileLocal, kLargeFile, kLargeSize, kLargeLocal, kChecksum,
  kUploadSize, kUploadPrefix, kFilesPerSession, kNoopInterval, kTimeout, kRamp, kPipeline,
  kSource, kMaxDataSetups, kProgressMs, kStreamMs, kStreamMax, kMix, kTag, kExpectPasv, kTls, kTlsVersion, kHelp,
};

const option kLongOptions[] = {
    {"host", required_argument, nullptr, kHost},
    {"port", required_argument, nullptr, kPort},
    {"scenario", required_argument, nullptr, kScenario},
    {"mode", required_argument, nullptr, kMode},
    {"concurrency", required_argument, nullptr, kConcurrency},
    {"threads", required_argument, nullptr, kThreads},
    {"duration", required_argument, nullptr, kDuration},
    {"count", required_argument, nullptr, kCount},
    {"user", required_argument, nullptr, kUser},
    {"pass", required_argument, nullptr, kPass},
    {"file", required_argument, nullptr, kFile},
    {"file-size", required_argument, nullptr, kFileSize},
    {"file-local", required_argument, nullptr, kFileLocal},
    {"large-file", required_argument, nullptr, kLargeFile},
    {"large-size", required_argument, nullptr, kLargeSize},
    {"large-local", required_argument, nullptr, kLargeLocal},
    {"checksum", no_argument, nullptr, kChecksum},
    {"upload-size", required_argument, nullptr, kUploadSize},
    {"upload-prefix", required_argument, nullptr, kUploadPrefix},
    {"files-per-session", required_argument, nullptr, kFilesPerSession},
    {"noop-interval", required_argument, nullptr, kNoopInterval},
    {"timeout", required_argument, nullptr, kTimeout},
    {"ramp", required_argument, nullptr, kRamp},
    {"pipeline", required_argument, nullptr, kPipeline},
    {"source", required_argument, nullptr, kSource},
    {"max-data-setups", required_argument, nullptr, kMaxDataSetups},
    {"progress-ms", required_argument, nullptr, kProgressMs},
    {"stream-ms", required_argument, nullptr, kStreamMs},
    {"stream-max", required_argument, nullptr, kStreamMax},
    {"mix", required_argument, nullptr, kMix},
    {"tag", required_argument, nullptr, kTag},
    {"expect-pasv-address", required_argument, nullptr, kExpectPasv},
    {"tls", required_argument, nullptr, kTls},
    {"tls-version", required_argument, nullptr, kTlsVersion},
    {"help", no_argument, nullptr, kHelp},
    {nullptr, 0, nullptr, 0},
};

}  // namespace

const char* KindName(Kind k) {
  for (const auto& [name, kind] : kKinds) {
    if (kind == k) return name;
  }
  return "?";
}

const char* DataModeName(DataMode m) {
  for (const auto& [name, mode] : kModes) {
    if (mode == m) return name;
  }
  return "?";
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  std::string file_local, large_local, mix;
  opterr = 0;  // our messages, not getopt's
  int index = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", kLongOptions, &index);
    if (c == -1) break;
    const char* flag = optind > 0 ? argv[optind - 1] : "";
    std::string v = optarg ? optarg : "";
    // The flag as the user spelled it in full (getopt_long also takes a unique prefix).
    std::string dashed = std::string("--") + (c >= kHost ? kLongOptions[index].name : "");
    auto num = [&] { return Number(dashed.c_str(), v); };
    switch (c) {
      case kHost: o.host = v; break;
      case kPort: o.port = static_cast<int>(num()); break;
      case kScenario: o.scenario = v; break;
      case kMode: {
        bool known = false;
        for (const auto& [n, m] : kModes) {
          if (v == n) {
            o.mode = m;
            known = true;
          }
        }
        if (!known) Die("bad --mode '%s'", v.c_str());
        break;
      }
      case kConcurrency: o.concurrency = static_cast<int>(num()); break;
      case kThreads: o.threads = static_cast<int>(num()); break;
      case kDuration: o.duration_s = num(); break;
      case kCount: o.count = static_cast<uint64_t>(num()); break;
      case kUser: o.user = v; break;
      case kPass: o.pass = v; break;
      case kFile: o.small.remote = v; break;
      case kFileSize: o.small.size = static_cast<int64_t>(num()); break;
      case kFileLocal: file_local = v; break;
      case kLargeFile: o.large.remote = v; break;
      case kLargeSize: o.large.size = static_cast<int64_t>(num()); break;
      case kLargeLocal: large_local = v; break;
      case kChecksum: o.checksum = true; break;
      case kUploadSize: o.upload_size = static_cast<uint64_t>(num()); break;
      case kUploadPrefix: o.upload_prefix = v; break;
      case kFilesPerSession: o.files_per_session = static_cast<uint64_t>(num()); break;
      case kNoopInterval: o.noop_interval_s = num(); break;
      case kTimeout: o.timeout_s = num(); break;
      case kRamp: o.ramp = static_cast<int>(num()); break;
      case kPipeline: o.pipeline = static_cast<int>(num()); break;
      case kMaxDataSetups: o.max_data_setups = static_cast<uint64_t>(num()); break;
      case kSource: {
        std::string bad;
        if (!ParseSources(v, &o.sources, &bad)) {
          Die("bad --source %s '%s'", bad.find('-') != std::string::npos ? "range" : "address",
              bad.c_str());
        }
        break;
      }
      case kProgressMs: o.progress_ms = static_cast<int>(num()); break;
      case kStreamMs: o.stream_ms = static_cast<int>(num()); break;
      case kStreamMax: o.stream_max = static_cast<int>(num()); break;
      case kMix: mix = v; break;
      case kTag: o.tag = v; break;
      case kExpectPasv: {
        SockAddr a;
        if (!ParseHost(v, 0, &a)) Die("bad --expect-pasv-address '%s'", v.c_str());
        o.expect_pasv = a.HostString();
        break;
      }
      case kTls:
        if (v == "explicit") o.tls = TlsMode::kExplicit;
        else if (v == "implicit") o.tls = TlsMode::kImplicit;
        else Die("bad --tls '%s' (explicit or implicit)", v.c_str());
        break;
      case kTlsVersion:
        if (v == "1.2") o.tls_version = 12;
        else if (v == "1.3") o.tls_version = 13;
        else Die("bad --tls-version '%s' (1.2 or 1.3)", v.c_str());
        break;
      case kHelp:
      case 'h': Usage();
      case ':': Die("%s needs a value", flag);
      default: Die("unknown option '%s' (see --help)", flag);
    }
  }
  if (optind < argc) Die("unknown option '%s' (see --help)", argv[optind]);
  Complete(&o, mix, file_local, large_local);
  return o;
}

}  // namespace muxftpd::ftpload
