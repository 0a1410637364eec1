#include "trace/sampler.h"

#include <cmath>

namespace archway::trace {
namespace {
constexpr std::uint64_t kRange = std::uint64_t{1} << 56;

std::uint64_t low56(const TraceId& id) {
  std::uint64_t v = 0;
  for (std::size_t i = 9; i < 16; ++i) v = v << 8 | id[i];
  return v;
}
}  // namespace

std::uint64_t Sampler::threshold(double rate) {
  if (!(rate > 0)) return 0;  // also NaN
  if (rate >= 1) return kRange;
  return static_cast<std::uint64_t>(std::ldexp(rate, 56));
}

bool Sampler::ratioSampled(const TraceId& id, double rate) {
  return low56(id) < threshold(rate);
}

void Sampler::set(const SamplingPolicy& p) {
  enabled_.store(p.enabled, std::memory_order_relaxed);
  rate_.store(p.rate, std::memory_order_relaxed);
  threshold_.store(threshold(p.rate), std::memory_order_relaxed);
  keepServerErrors_.store(p.keepServerErrors, std::memory_order_relaxed);
  keepClientErrors_.store(p.keepClientErrors, std::memory_order_relaxed);
  slowMs_.store(p.slowMs, std::memory_order_relaxed);
  respectParent_.store(p.respectParentSampled, std::memory_order_relaxed);
}

SamplingPolicy Sampler::get() const {
  SamplingPolicy p;
  p.enabled = enabled_.load(std::memory_order_relaxed);
  p.rate = rate_.load(std::memory_order_relaxed);
  p.keepServerErrors = keepServerErrors_.load(std::memory_order_relaxed);
  p.keepClientErrors = keepClientErrors_.load(std::memory_order_relaxed);
  p.slowMs = slowMs_.load(std::memory_order_relaxed);
  p.respectParentSampled = respectParent_.load(std::memory_order_relaxed);
  return p;
}

bool Sampler::headSampled(const TraceId& id, std::optional<bool> parentSampled) const {
  if (parentSampled && respectParent_.load(std::memory_order_relaxed)) return *parentSampled;
  return low56(id) < threshold_.load(std::memory_order_relaxed);
}

bool Sampler::keep(bool head, int status, std::uint64_t totalUs) const {
  if (head) return true;
  if (status >= 500 && keepServerErrors_.load(std::memory_order_relaxed)) return true;
  if (status >= 400 && status < 500 && keepClientErrors_.load(std::memory_order_relaxed)) {
    return true;
  }
  const std::uint32_t slow = slowMs_.load(std::memory_order_relaxed);
  return slow != 0 && totalUs >= std::uint64_t{slow} * 1000;
}

}  // namespace archway::trace
