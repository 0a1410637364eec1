#pragma once
// Time source for the balancer's time-dependent state (latency EWMA decay), so tests can drive
// time by hand. Probe scheduling uses Asio steady timers directly; nothing here sleeps.
#include <chrono>

namespace archway::balancer {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // Any thread; must be cheap (called on the request path by the latency algorithm).
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// The process-wide steady clock; lives forever.
const Clock& steadyClock();

// Tests: time moves only when advance() is called. Not thread-safe.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::steady_clock::duration d) { now_ += d; }

 private:
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace archway::balancer
