#include "summary.h"

#include <algorithm>

#include "json_writer.h"

namespace muxftpd::ftpload {

void Tally::Merge(const Tally& o) {
  stopped_us = std::max(stopped_us, o.stopped_us);
  hist.Merge(o.hist);
  login_hist.Merge(o.login_hist);
  phases.Merge(o.phases);
  for (const auto& [k, v] : o.errors) errors[k] += v;
  for (const auto& [k, v] : o.ops_by_kind) ops_by_kind[k] += v;
  for (const auto& [k, v] : o.aborted_by_state) aborted_by_state[k] += v;
  aborted += o.aborted;
  alive_at_end += o.alive_at_end;
  verified_size += o.verified_size;
  verified_crc += o.verified_crc;
  sessions_ok += o.sessions_ok;
  pasv_as_expected += o.pasv_as_expected;
  pasv_unexpected += o.pasv_unexpected;
  active_as_seen += o.active_as_seen;
  active_from_elsewhere += o.active_from_elsewhere;
  active_refused += o.active_refused;
  // Each worker's maximum is of a process-wide count: the largest is the process's.
  max_established = std::max(max_established, o.max_established);
  max_data_held = std::max(max_data_held, o.max_data_held);
  max_data_setups = std::max(max_data_setups, o.max_data_setups);
  tls_ctl_handshakes += o.tls_ctl_handshakes;
  tls_data_handshakes += o.tls_data_handshakes;
  tls_data_resumed += o.tls_data_resumed;
  tls_sessions_issued += o.tls_sessions_issued;
}

std::string ProgressLine(const Counters& c, uint64_t now_us) {
  return JsonObject()
      .String("type", "progress")
      .Fixed("t", static_cast<double>(now_us - c.start_us) / 1e6, 3)
      .Number("open", c.open.load())
      .Number("established", c.established.load())
      .Number("ops", c.ops.load())
      .Number("bytes", c.bytes.load())
      .Number("errors", c.errors.load())
      .Text();
}

namespace {

// "tls": null without --tls; else what was negotiated and counted.
std::string TlsJson(const Options& o, const Tally& t) {
  if (o.tls == TlsMode::kOff) return "null";
  return JsonObject()
      .String("mode", TlsModeName(o.tls))
      .String("version", o.tls_version == 12 ? "1.2" : "1.3")
      .String("library", TlsLibraryVersion())
      .Number("ctl_handshakes", t.tls_ctl_handshakes)
      .Number("data_handshakes", t.tls_data_handshakes)
      .Number("data_resumed", t.tls_data_resumed)
      .Number("sessions_issued", t.tls_sessions_issued)
      .Text();
}

}  // namespace

std::string SummaryLine(const Options& o, const Counters& c, const Tally& t, uint64_t end_us,
                        uint64_t fd_limit) {
  return JsonObject()
      .String("type", "summary")
      .String("tag", o.tag)
      .String("scenario", o.scenario)
      .String("mode", DataModeName(o.mode))
      .String("host", o.host)
      .Number("port", o.port)
      .Number("threads", o.threads)
      .Number("concurrency", o.concurrency)
      .Fixed("duration_s", o.duration_s, 3)
      .Number("count", o.count)
      .Fixed("elapsed_s", static_cast<double>(end_us - c.start_us) / 1e6, 6)
      .Number("ops", c.ops.load())
      .Counts("ops_by_kind", t.ops_by_kind)
      .Number("bytes", c.bytes.load())
      .Number("sessions_started", c.sessions_started.load())
      .Number("sessions_ok", t.sessions_ok)
      .Counts("errors", t.errors)
      .Number("aborted_at_end", t.aborted)
      .Counts("aborted_by_state", t.aborted_by_state)
      .Number("alive_at_end", t.alive_at_end)
      .Number("max_established", t.max_established)
      .Number("verified_size", t.verified_size)
      .Number("verified_checksum", t.verified_crc)
      .Number("fd_limit", fd_limit)
      .Number("max_data_held", t.max_data_held)
      .Number("max_data_setups", t.max_data_setups)
      .Number("pipeline", o.pipeline)
      .String("expect_pasv_address", o.expect_pasv)
      .Raw("address_truth", JsonObject()
                                .Number("pasvAsExpected", t.pasv_as_expected)
                                .Number("pasvUnexpected", t.pasv_unexpected)
                                .Number("activeAsSeen", t.active_as_seen)
                                .Number("activeFromElsewhere", t.active_from_elsewhere)
                                .Number("activeRefused", t.active_refused)
                                .Text())
      .Raw("latency", t.hist.Json())
      .Raw("login_latency", t.login_hist.Json())
      .Raw("phases", t.phases.Json())
      .Raw("tls", TlsJson(o, t))
      .Text();
}

}  // namespace muxftpd::ftpload
