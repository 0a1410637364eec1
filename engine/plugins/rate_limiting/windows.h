#pragma once
// Kong's fixed rate-limiting windows: second, minute, hour and day aligned on the Unix epoch,
// month and year on the UTC calendar (kong/tools/timestamp.lua get_timestamps), and Kong's
// nominal period lengths (rate-limiting/expiration.lua: a month is 30 days, a year 365) that
// its Reset header and Redis key TTLs use.
#include <array>
#include <cstdint>
#include <string_view>

namespace archway::plugins::ratelimit {

enum class Period : std::uint8_t { second, minute, hour, day, month, year };
inline constexpr std::size_t kPeriods = 6;

inline constexpr std::array<std::string_view, kPeriods> kPeriodNames = {"second", "minute", "hour",
                                                                        "day",    "month",  "year"};
// X-RateLimit-Limit-<Period> / X-RateLimit-Remaining-<Period>.
inline constexpr std::array<std::string_view, kPeriods> kLimitHeaders = {
    "X-RateLimit-Limit-Second", "X-RateLimit-Limit-Minute", "X-RateLimit-Limit-Hour",
    "X-RateLimit-Limit-Day",    "X-RateLimit-Limit-Month",  "X-RateLimit-Limit-Year"};
inline constexpr std::array<std::string_view, kPeriods> kRemainingHeaders = {
    "X-RateLimit-Remaining-Second", "X-RateLimit-Remaining-Minute", "X-RateLimit-Remaining-Hour",
    "X-RateLimit-Remaining-Day",    "X-RateLimit-Remaining-Month",  "X-RateLimit-Remaining-Year"};
// Kong's EXPIRATION table, seconds.
inline constexpr std::array<std::int64_t, kPeriods> kExpiration = {1,     60,      3600,
                                                                   86400, 2592000, 31536000};

struct Window {
  std::int64_t start = 0;  // seconds since the epoch
  std::int64_t end = 0;    // first second of the next window (calendar-true for month/year)
};

// The window of every period containing `nowSec`.
std::array<Window, kPeriods> windowsAt(std::int64_t nowSec);
// windowsAt, computed once per second per thread (the month and year calendar arithmetic is
// not free per request). Valid until the thread's next call.
const std::array<Window, kPeriods>& windowsOf(std::int64_t nowSec);

}  // namespace archway::plugins::ratelimit
