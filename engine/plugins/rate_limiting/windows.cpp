#include "plugins/rate_limiting/windows.h"

#include <chrono>
#include <limits>

namespace archway::plugins::ratelimit {

std::array<Window, kPeriods> windowsAt(std::int64_t nowSec) {
  using namespace std::chrono;
  auto floorTo = [](std::int64_t v, std::int64_t unit) {
    std::int64_t r = v % unit;
    return r < 0 ? v - r - unit : v - r;
  };
  std::array<Window, kPeriods> w{};
  w[0] = {nowSec, nowSec + 1};
  w[1].start = floorTo(nowSec, 60);
  w[1].end = w[1].start + 60;
  w[2].start = floorTo(nowSec, 3600);
  w[2].end = w[2].start + 3600;
  w[3].start = floorTo(nowSec, 86400);
  w[3].end = w[3].start + 86400;

  const sys_days day{days{w[3].start / 86400}};
  const year_month_day ymd{day};
  const sys_days monthStart{ymd.year() / ymd.month() / 1};
  const sys_days nextMonth{(ymd.year() / ymd.month() / 1) + months{1}};
  const sys_days yearStart{ymd.year() / January / 1};
  const sys_days nextYear{(ymd.year() + years{1}) / January / 1};
  auto secs = [](sys_days d) { return duration_cast<seconds>(d.time_since_epoch()).count(); };
  w[4] = {secs(monthStart), secs(nextMonth)};
  w[5] = {secs(yearStart), secs(nextYear)};
  return w;
}

const std::array<Window, kPeriods>& windowsOf(std::int64_t nowSec) {
  thread_local std::int64_t at = std::numeric_limits<std::int64_t>::min();
  thread_local std::array<Window, kPeriods> windows{};
  if (nowSec != at) {
    windows = windowsAt(nowSec);
    at = nowSec;
  }
  return windows;
}

}  // namespace archway::plugins::ratelimit
