#include "metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace archway::metrics {

void Histogram::add(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

void Histogram::add(const SparseHistogram& other) {
  for (const auto& [i, n] : other.buckets) counts_[i] += n;
  total_ += other.count;
  sum_ += other.sum;
  max_ = std::max(max_, other.max);
}

SparseHistogram Histogram::sparse() const {
  SparseHistogram s;
  for (int i = 0; i < kBuckets; ++i) {
    if (counts_[i]) {
      s.buckets.emplace_back(static_cast<std::uint16_t>(i), static_cast<std::uint32_t>(counts_[i]));
    }
  }
  s.count = total_;
  s.sum = sum_;
  s.max = max_;
  return s;
}

double Histogram::percentileUs(double q) const {
  if (total_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      auto r = bucketRange(i);
      double mid = static_cast<double>(r.low) + static_cast<double>(r.width - 1) / 2.0;
      return std::min(mid, static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

void ShardHistogram::drainInto(Histogram& out) {
  std::uint64_t total = total_.load(std::memory_order_relaxed);
  if (total == prevTotal_) return;
  // The count is the sum of bucket deltas (not total_), so counts and total always agree even
  // when a sample is being recorded while we read.
  std::uint64_t counted = 0;
  for (int i = 0; i < kBuckets; ++i) {
    std::uint32_t now = counts_[i].load(std::memory_order_relaxed);
    std::uint32_t delta = now - prev_[i];
    if (delta) {
      out.counts_[i] += delta;
      counted += delta;
      prev_[i] = now;
    }
  }
  std::uint64_t sum = sum_.load(std::memory_order_relaxed);
  out.total_ += counted;
  out.sum_ += sum - prevSum_;
  out.max_ = std::max(out.max_, max_.exchange(0, std::memory_order_relaxed));
  prevTotal_ = total;
  prevSum_ = sum;
}

}  // namespace archway::metrics
