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

void ShardHistogram::drainInto(SparseHistogram& out) {
  std::uint64_t total = total_.load(std::memory_order_relaxed);
  if (total == prevTotal_) return;
  std::uint64_t counted = 0;
  for (int i = 0; i < kBuckets; ++i) {
    std::uint32_t now = counts_[i].load(std::memory_order_relaxed);
    std::uint32_t delta = now - prev_[i];
    if (delta) {
      out.buckets.emplace_back(static_cast<std::uint16_t>(i), delta);
      counted += delta;
      prev_[i] = now;
    }
  }
  std::uint64_t sum = sum_.load(std::memory_order_relaxed);
  out.count += counted;
  out.sum += sum - prevSum_;
  out.max = std::max(out.max, max_.exchange(0, std::memory_order_relaxed));
  prevTotal_ = total;
  prevSum_ = sum;
}

void SparseHistogram::add(const SparseHistogram& other) {
  buckets.insert(buckets.end(), other.buckets.begin(), other.buckets.end());
  count += other.count;
  sum += other.sum;
  max = std::max(max, other.max);
}

void sparsePercentiles(const SparseHistogram* const* parts, std::size_t n, const double* qs,
                       std::size_t nq, double* out, std::uint64_t& count, std::uint64_t& sum,
                       std::uint64_t& max) {
  // The entries are added into a dense scratch array (only the touched span is walked and
  // zeroed afterwards): linear in the entries, where sorting them cost n log n per window on
  // every merge.
  thread_local std::array<std::uint64_t, kBuckets> dense{};
  count = sum = max = 0;
  std::size_t lo = kBuckets, hi = 0;
  for (std::size_t p = 0; p < n; ++p) {
    for (const auto& [i, c] : parts[p]->buckets) {
      dense[i] += c;
      count += c;
      lo = std::min<std::size_t>(lo, i);
      hi = std::max<std::size_t>(hi, i);
    }
    sum += parts[p]->sum;
    max = std::max(max, parts[p]->max);
  }
  for (std::size_t k = 0; k < nq; ++k) out[k] = 0;
  if (count == 0) {
    if (lo <= hi) std::fill(dense.begin() + lo, dense.begin() + hi + 1, 0);
    return;
  }
  std::size_t k = 0;
  std::uint64_t seen = 0;
  for (std::size_t i = lo; i <= hi && k < nq; ++i) {
    if (!dense[i]) continue;
    seen += dense[i];
    while (k < nq) {
      auto rank = static_cast<std::uint64_t>(
          std::ceil(std::clamp(qs[k], 0.0, 1.0) * static_cast<double>(count)));
      if (rank == 0) rank = 1;
      if (seen < rank) break;
      auto r = bucketRange(static_cast<int>(i));
      double mid = static_cast<double>(r.low) + static_cast<double>(r.width - 1) / 2.0;
      out[k++] = std::min(mid, static_cast<double>(max));
    }
  }
  for (; k < nq; ++k) out[k] = static_cast<double>(max);
  std::fill(dense.begin() + lo, dense.begin() + hi + 1, 0);
}

}  // namespace archway::metrics
