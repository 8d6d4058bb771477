#include "stream.h"

#include "json_writer.h"

namespace muxftpd::ftpload {

void SampleStream::Push(size_t channel, uint64_t us) {
  std::lock_guard<std::mutex> lock(mu_);
  if (samples_[channel].size() < max_) {
    samples_[channel].push_back(us);
  } else {
    dropped_[channel]++;
  }
}

void SampleStream::Error(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_[kind]++;
}

std::string SampleStream::TakeLine(double t_s) {
  std::array<std::vector<uint64_t>, 1 + kPhases> samples;
  std::array<uint64_t, 1 + kPhases> dropped{};
  std::map<std::string, uint64_t> errors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    samples.swap(samples_);
    dropped.swap(dropped_);
    errors.swap(errors_);
  }
  auto channel_name = [](size_t c) { return c == 0 ? "op" : PhaseName(static_cast<Phase>(c - 1)); };
  std::map<std::string, uint64_t> dropped_by_name;
  for (size_t c = 0; c < dropped.size(); c++) {
    if (dropped[c] > 0) dropped_by_name[channel_name(c)] = dropped[c];
  }
  bool any = !errors.empty() || !dropped_by_name.empty();
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
    o.Raw(channel_name(c), list);
  }
  if (!dropped_by_name.empty()) o.Counts("dropped", dropped_by_name);
  if (!errors.empty()) o.Counts("errors", errors);
  return any ? o.Text() : std::string();
}

}  // namespace muxftpd::ftpload
