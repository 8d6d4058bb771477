// What one worker counted, read once it has stopped: its share of the
// summary. main.cc merges the workers' tallies.
#ifndef MUXFTPD_BENCH_FTPLOAD_TALLY_H_
#define MUXFTPD_BENCH_FTPLOAD_TALLY_H_

#include <cstdint>
#include <map>
#include <string>

#include "histogram.h"
#include "phases.h"
#include "stream.h"

namespace muxftpd::ftpload {

struct Tally {
  uint64_t stopped_us = 0;
  Histogram hist;        // per op
  Histogram login_hist;  // connect to 230
  PhaseHistograms phases;  // phases.h
  std::map<std::string, uint64_t> errors;
  std::map<std::string, uint64_t> ops_by_kind;
  std::map<std::string, uint64_t> aborted_by_state;  // cut at the end, by the state they were in
  uint64_t aborted = 0, alive_at_end = 0, verified_size = 0, verified_crc = 0, sessions_ok = 0;
  // The address truth as the client sees it (docs/middlebox.md): 227s with
  // the address expected or another (229s carry none: as expected), active
  // data connections from the server or from elsewhere, PORT/EPRT refused.
  uint64_t pasv_as_expected = 0, pasv_unexpected = 0;
  uint64_t active_as_seen = 0, active_from_elsewhere = 0, active_refused = 0;
  // Read from the shared counters, so each worker's is a process-wide figure.
  uint64_t max_established = 0, max_data_held = 0, max_data_setups = 0;
  // --tls: handshakes finished (a control connection's is always a full one),
  // data connections that resumed a session, sessions (tickets) the servers issued.
  uint64_t tls_ctl_handshakes = 0, tls_data_handshakes = 0, tls_data_resumed = 0;
  uint64_t tls_sessions_issued = 0;

  // --stream-ms: where each sample and error also goes (stream.h); null = not streamed.
  SampleStream* stream = nullptr;

  // An operation done, a phase ended, an error: counted, and streamed when asked.
  void Op(uint64_t us) {
    hist.Add(us);
    if (stream) stream->Op(us);
  }
  void PhaseDone(Phase p, uint64_t since, uint64_t now) {
    uint64_t us = now >= since ? now - since : 0;
    phases.Add(p, us);
    if (stream) stream->PhaseDone(p, us);
  }
  void Error(const std::string& kind) {
    errors[kind]++;
    if (stream) stream->Error(kind);
  }

  void Merge(const Tally& other);
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_TALLY_H_
