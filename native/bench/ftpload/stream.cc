#include "stream.h"

#include "json_writer.h"

namespace muxftpd::ftpload {

void SampleStream::Push(size_t channel, uint64_t us) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_[channel].push_back(us);
}

void SampleStream::Error(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_[kind]++;
}

std::string SampleStream::TakeLine(double t_s) {
  std::array<std::vector<uint64_t>, 1 + kPhases> samples;
  std::map<std::string, uint64_t> errors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    samples.swap(samples_);
    errors.swap(errors_);
  }
  bool any = !errors.empty();
  JsonObject o;
  o.String("type", "samples").Fixed("t", t_s, 3);
  for (size_t c = 0; c < samples.size(); c++) {
    if (samples[c].empty()) continue;
    any = true;
    std::string list = "[";
    for (uint64_t us : samples[c]) {
      if (list.size() > 1) list += ',';
      list += std::to_string(us);
    }
    list += ']';
    o.Raw(c == 0 ? "op" : PhaseName(static_cast<Phase>(c - 1)), list);
  }
  if (!errors.empty()) o.Counts("errors", errors);
  return any ? o.Text() : std::string();
}

}  // namespace muxftpd::ftpload
