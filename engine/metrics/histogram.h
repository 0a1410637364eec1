#pragma once
// Log-linear latency histogram in microseconds: values below 128 us are exact, above that each
// power of two is split into 64 linear buckets, so a reported percentile (bucket midpoint) is
// within 0.8% of the recorded value from 1 us to 134 s (larger values land in the last bucket;
// the exact maximum is kept separately).
//
// Two flavours share the bucket layout:
//  - Histogram: plain counts, for one owner (load generator threads, tests).
//  - ShardHistogram: written by one worker thread, read concurrently by the stats thread. Counts
//    are relaxed atomics updated with load+store (single writer, no locked instruction); the
//    stats thread takes deltas against the previous read it keeps in the same object.
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

namespace archway::metrics {

inline constexpr int kSubBucketBits = 7;
inline constexpr int kSubBuckets = 1 << kSubBucketBits;  // 128
inline constexpr int kMagnitudes = 21;
inline constexpr std::uint64_t kMaxTrackableUs =
    (std::uint64_t{1} << (kMagnitudes + kSubBucketBits - 1)) - 1;  // 2^27 - 1 us

constexpr int bucketIndex(std::uint64_t us) {
  if (us > kMaxTrackableUs) us = kMaxTrackableUs;
  if (us < kSubBuckets) return static_cast<int>(us);
  int msb = 63 - __builtin_clzll(us);  // >= kSubBucketBits
  int shift = msb - (kSubBucketBits - 1);
  int sub = static_cast<int>(us >> shift) - kSubBuckets / 2;  // 0..63 of the upper half
  return kSubBuckets + (shift - 1) * (kSubBuckets / 2) + sub;
}

struct BucketRange {
  std::uint64_t low;
  std::uint64_t width;
};
constexpr BucketRange bucketRange(int index) {
  if (index < kSubBuckets) return {static_cast<std::uint64_t>(index), 1};
  int rel = index - kSubBuckets;
  int shift = rel / (kSubBuckets / 2) + 1;
  int sub = rel % (kSubBuckets / 2) + kSubBuckets / 2;
  return {static_cast<std::uint64_t>(sub) << shift, std::uint64_t{1} << shift};
}

inline constexpr int kBuckets = bucketIndex(kMaxTrackableUs) + 1;

// Only the buckets that moved: what the stats thread keeps per interval for its windows. An
// index may appear more than once (one entry per worker); readers sum them.
struct SparseHistogram {
  std::vector<std::pair<std::uint16_t, std::uint32_t>> buckets;
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
  std::uint64_t max = 0;

  void add(const SparseHistogram& other);
};

// Percentiles (in microseconds) over several sparse histograms without a dense scratch array:
// the entries are gathered, sorted by bucket and walked once. `qs` ascending; results in `out`.
void sparsePercentiles(const SparseHistogram* const* parts, std::size_t n, const double* qs,
                       std::size_t nq, double* out, std::uint64_t& count, std::uint64_t& sum,
                       std::uint64_t& max);

class Histogram {
 public:
  void record(std::uint64_t us, std::uint64_t n = 1) {
    counts_[bucketIndex(us)] += n;
    total_ += n;
    sum_ += us * n;
    if (us > max_) max_ = us;
  }
  void add(const Histogram& other);
  void add(const SparseHistogram& other);
  SparseHistogram sparse() const;
  void clear() { *this = Histogram{}; }

  std::uint64_t count() const { return total_; }
  std::uint64_t maxUs() const { return max_; }
  std::uint64_t sumUs() const { return sum_; }
  std::uint64_t bucket(int i) const { return counts_[static_cast<std::size_t>(i)]; }
  double meanUs() const {
    return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0;
  }
  // q in [0, 1]; 0 when empty. The bucket midpoint, capped at the recorded maximum.
  double percentileUs(double q) const;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

class ShardHistogram {
 public:
  // Worker thread only.
  void record(std::uint64_t us) {
    bump32(counts_[bucketIndex(us)]);
    bump(total_, 1);
    bump(sum_, us);
    if (us > max_.load(std::memory_order_relaxed)) max_.store(us, std::memory_order_relaxed);
  }
  // Stats thread only: adds what was recorded since its previous call into `out`, and resets
  // the window maximum. Counts are 32-bit and subtracted with wrap-around, so a shard may take
  // up to 2^32 samples per bucket between two reads.
  void drainInto(SparseHistogram& out);

 private:
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void bump32(std::atomic<std::uint32_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::array<std::atomic<std::uint32_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};  // reset by the reader with exchange each window
  // Reader-owned state.
  std::array<std::uint32_t, kBuckets> prev_{};
  std::uint64_t prevTotal_ = 0;
  std::uint64_t prevSum_ = 0;
};

}  // namespace archway::metrics
