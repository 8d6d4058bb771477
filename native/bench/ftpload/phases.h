// Phase latency: where a session's time goes, one histogram per phase, so
// that a run through a middlebox shows which step it slows (issue 24). Each
// phase is measured on the worker loop's clock (NowUs), from the event that
// starts it to the one that ends it:
//   connect     connect() called → the control connection established
//   banner      established → 220 received (implicit TLS: the handshake included)
//   login       USER sent → 230 (or 202); explicit TLS: AUTH TLS and the handshake
//               come between banner and login, in no phase
//   data_setup  passive: 227/229 received → data connection established;
//               active: PORT/EPRT sent → the server's connection accepted (a
//               server that connects on RETR/STOR, as most do, puts the 200 and
//               that command's trip inside it)
//   first_byte  RETR/STOR sent → the first data byte received (RETR) or sent (STOR)
//   xfer_done   RETR/STOR sent → 226/250
//   quit        QUIT sent → 221, or the server's close when no 221 came first
// The names are the keys of the summary's "phases" object, read by
// bench/client/phases.ts (phaseNames: the same list, in the same order).
#ifndef MUXFTPD_BENCH_FTPLOAD_PHASES_H_
#define MUXFTPD_BENCH_FTPLOAD_PHASES_H_

#include <array>
#include <cstdint>
#include <string>

#include "histogram.h"

namespace muxftpd::ftpload {

enum class Phase { kConnect, kBanner, kLogin, kDataSetup, kFirstByte, kXferDone, kQuit };
constexpr size_t kPhases = 7;

const char* PhaseName(Phase p);

class PhaseHistograms {
 public:
  // A phase that took `us` (Tally::PhaseDone measures it).
  void Add(Phase p, uint64_t us) { at(p).Add(us); }
  void Merge(const PhaseHistograms& other);
  // {"connect": histogram, "banner": ..., ...} (Histogram::Json each).
  std::string Json() const;

 private:
  Histogram& at(Phase p) { return h_[static_cast<size_t>(p)]; }
  std::array<Histogram, kPhases> h_;
};

}  // namespace muxftpd::ftpload

#endif  // MUXFTPD_BENCH_FTPLOAD_PHASES_H_
