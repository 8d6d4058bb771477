#include "phases.h"

#include "json_writer.h"

namespace muxftpd::ftpload {

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kConnect: return "connect";
    case Phase::kBanner: return "banner";
    case Phase::kLogin: return "login";
    case Phase::kDataSetup: return "data_setup";
    case Phase::kFirstByte: return "first_byte";
    case Phase::kXferDone: return "xfer_done";
    case Phase::kQuit: return "quit";
  }
  return "?";
}

void PhaseHistograms::Merge(const PhaseHistograms& other) {
  for (size_t i = 0; i < kPhases; i++) h_[i].Merge(other.h_[i]);
}

std::string PhaseHistograms::Json() const {
  JsonObject o;
  for (size_t i = 0; i < kPhases; i++) o.Raw(PhaseName(static_cast<Phase>(i)), h_[i].Json());
  return o.Text();
}

}  // namespace muxftpd::ftpload
