#include "histogram.h"

#include "json_writer.h"

namespace muxftpd::ftpload {

int Histogram::Index(uint64_t v) {
  if (v < 2 * kSub) return static_cast<int>(v);
  int e = 63 - __builtin_clzll(v);  // >= kSubBits + 1
  int m = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
  int idx = 2 * kSub + (e - kSubBits - 1) * kSub + m;
  return idx < kBuckets ? idx : kBuckets - 1;
}

uint64_t Histogram::Lower(int idx) {
  if (idx < 2 * kSub) return static_cast<uint64_t>(idx);
  int e = (idx - 2 * kSub) / kSub + kSubBits + 1;
  uint64_t m = static_cast<uint64_t>((idx - 2 * kSub) % kSub);
  return (kSub + m) << (e - kSubBits);
}

uint64_t Histogram::Upper(int idx) {
  if (idx < 2 * kSub) return static_cast<uint64_t>(idx) + 1;
  int e = (idx - 2 * kSub) / kSub + kSubBits + 1;
  return Lower(idx) + (uint64_t{1} << (e - kSubBits));
}

void Histogram::Add(uint64_t us) {
  counts_[static_cast<size_t>(Index(us))]++;
  n_++;
  sum_ += us;
  if (us > max_) max_ = us;
  if (us < min_) min_ = us;
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < counts_.size(); i++) counts_[i] += other.counts_[i];
  n_ += other.n_;
  sum_ += other.sum_;
  if (other.max_ > max_) max_ = other.max_;
  if (other.min_ < min_) min_ = other.min_;
}

std::string Histogram::Json() const {
  std::string buckets = "[";
  for (int i = 0; i < kBuckets; i++) {
    uint64_t c = counts_[static_cast<size_t>(i)];
    if (!c) continue;
    if (buckets.size() > 1) buckets += ',';
    buckets += "[" + std::to_string(Lower(i)) + "," + std::to_string(Upper(i)) + "," +
               std::to_string(c) + "]";
  }
  return JsonObject()
      .Number("count", n_)
      .Number("sum_us", sum_)
      .Number("min_us", n_ ? min_ : 0)
      .Number("max_us", max_)
      .Raw("buckets", buckets + "]")
      .Text();
}

}  // namespace muxftpd::ftpload
