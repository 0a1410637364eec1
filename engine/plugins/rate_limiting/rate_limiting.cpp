#include "plugins/rate_limiting/rate_limiting.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <unordered_map>

#include "core/log.h"
#include "plugins/rate_limiting/cluster_counters.h"
#include "plugins/rate_limiting/counter_table.h"
#include "plugins/rate_limiting/redis_client.h"
#include "plugins/rate_limiting/windows.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using namespace ratelimit;

constexpr std::string_view kEmptyUuid = "00000000-0000-0000-0000-000000000000";
constexpr std::string_view kUnexpected = "An unexpected error occurred";
const std::string kTableKey = "rate-limiting:local-counters";

enum class LimitBy { consumer, credential, ip, service, header, path };
enum class Policy { local, cluster, redis };

std::int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// A header value for a Lua number as Kong prints it: integers without a fraction.
std::string_view formatNumber(char (&buf)[40], double v) {
  std::to_chars_result r;
  if (std::fabs(v) < 1e15 && static_cast<double>(static_cast<long long>(v)) == v)
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  else
    r = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, static_cast<std::size_t>(r.ptr - buf)};
}

// ------------------------------------------------------------------ schema helpers (Kong's)

std::string checkHeaderName(const json::value& v) {
  std::string_view s = v.as_string();
  if (s.empty()) return "no header name provided";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return "bad header name '" + std::string(s) +
             "', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
    }
  }
  return {};
}

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// typedefs.path: starts with "/", no empty segment, RFC 3986 characters, valid percent-escapes.
std::string checkPath(const json::value& v) {
  std::string_view s = v.as_string();
  if (s.empty() || s.front() != '/') return "should start with: /";
  if (s.find("//") != std::string_view::npos) return "must not have empty segments";
  static constexpr std::string_view kAllowed = "._-~/%:@!$&'()*+,;=";
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kAllowed.find(c) == std::string_view::npos) {
      return "invalid path: '" + std::string(s) +
             "' (characters outside of the reserved list of RFC 3986 found)";
    }
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 < s.size() && isHex(s[i + 1]) && isHex(s[i + 2])) {
      i += 2;
      continue;
    }
    return "invalid url-encoded value: '" + std::string(s.substr(i, 3)) + "'";
  }
  return {};
}

const json::value* member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

std::string stringOr(const json::object& o, std::string_view key, std::string fallback = {}) {
  const json::value* v = member(o, key);
  return v && v->is_string() ? std::string(v->as_string()) : std::move(fallback);
}

// The effective Redis settings: Kong 3.x's deprecated flat fields (redis_host, ...) are
// shorthands that override the nested record.
const json::value* redisField(const json::object& c, std::string_view name) {
  std::string flat = "redis_" + std::string(name);
  if (const json::value* v = member(c, flat)) return v;
  if (const json::value* r = member(c, "redis"); r && r->is_object())
    return member(r->as_object(), name);
  return nullptr;
}

// ------------------------------------------------------------------------- the instance

struct Settings {
  std::array<double, kPeriods> limits{};  // 0: not limited in that period
  LimitBy limitBy = LimitBy::consumer;
  std::string headerName, path;
  Policy policy = Policy::local;
  bool faultTolerant = true;
  bool hideHeaders = false;
  int errorCode = 429;
  std::string errorBody;  // {"message":"..."} precomputed
  double syncRate = -1;
  redis::Options redis;
  std::string poolKey;     // WorkerEnv key of the Redis pool
  std::string syncKey;     // WorkerEnv key of this plugin's sync_rate state
  std::string keyPrefix;   // "ratelimit:<route_id>:<service_id>:"
  // The plugin's own route and service (Kong's conf.route_id / service_id; the empty UUID
  // when unset): part of the cluster policy's counter keys.
  std::string routeId, serviceId;
  std::uint64_t seed = 0;  // hash of the plugin id
};

struct Usage {
  std::array<double, kPeriods> used{};
  int stop = -1;  // the period whose limit is reached, -1 when the request fits
};

// Per worker, per plugin (sync_rate > 0): Kong's cur_usage / cur_delta tables. Only the
// owning worker touches it.
struct SyncState {
  struct Entry {
    double usage = 0;
    std::int64_t delta = 0;
    std::int64_t ttl = 0;
  };
  std::unordered_map<std::string, Entry> entries;
  bool pending = false;  // a flush is scheduled
  bool running = false;  // a flush is talking to Redis
};

// The local policy's counter keys of the identifier this thread counted last for a plugin
// (its seed): consecutive requests of one consumer (or address) do not hash it again.
struct KeyCache {
  bool valid = false;
  std::uint64_t seed = 0;
  std::string id;  // keeps its capacity: no allocation once it fits the identifiers seen
  std::array<std::uint64_t, kPeriods> keys{};
};

const std::array<std::uint64_t, kPeriods>& localKeys(std::uint64_t seed, std::string_view id) {
  thread_local KeyCache cache;
  if (cache.valid && cache.seed == seed && cache.id == id) return cache.keys;
  const std::uint64_t idHash = hashBytes(seed, id.data(), id.size());
  for (std::size_t p = 0; p < kPeriods; ++p) {
    const auto tag = static_cast<unsigned char>(p);
    cache.keys[p] = hashBytes(idHash, &tag, 1);
  }
  cache.valid = true;
  cache.seed = seed;
  cache.id.assign(id);
  return cache.keys;
}

template <class T, class... Args>
std::shared_ptr<T> workerObject(WorkerEnv& w, const std::string& key, Args&&... args) {
  w.get<T>(key, std::forward<Args>(args)...);
  return std::static_pointer_cast<T>(w.objects[key]);
}

class RateLimiting final : public Instance {
 public:
  RateLimiting(Settings s, std::function<std::int64_t()> clock, std::shared_ptr<CounterTable> table,
               std::shared_ptr<ClusterCounters> cluster)
      : s_(std::move(s)),
        clock_(std::move(clock)),
        table_(std::move(table)),
        cluster_(std::move(cluster)) {
    char buf[40];
    for (std::size_t p = 0; p < kPeriods; ++p) {
      ttl_[p] = std::to_string(kExpiration[p]);
      limitText_[p] = formatNumber(buf, s_.limits[p]);
    }
  }

  std::uint8_t phases() const override { return kAccess; }
  bool asyncAccess() const override { return s_.policy == Policy::redis; }

  void access(Context& ctx) const override {
    if (s_.policy == Policy::cluster) {
      accessCluster(ctx);
      return;
    }
    const std::int64_t now = floorDiv(clock_(), 1000);
    const auto& windows = windowsOf(now);
    const auto& keys = localKeys(s_.seed, identify(ctx));
    std::array<bool, kPeriods> taken{};
    Usage u;
    for (std::size_t p = 0; p < kPeriods; ++p) {
      if (s_.limits[p] <= 0) continue;
      if (u.stop >= 0) {
        u.used[p] = static_cast<double>(table_->peek(keys[p], windows[p].start));
        continue;
      }
      auto t = table_->take(keys[p], windows[p].start, windows[p].end, s_.limits[p], now);
      if (t.full) {
        // Every slot near this key is live: count nothing rather than refuse (fail open).
        if (warnFull_.test_and_set(std::memory_order_relaxed) == false)
          core::log::warn("rate-limiting: local counter table full; requests are not counted");
        continue;
      }
      u.used[p] = static_cast<double>(t.prior);
      if (t.taken) {
        taken[p] = true;
      } else {
        u.stop = static_cast<int>(p);
        for (std::size_t q = 0; q < p; ++q) {
          if (taken[q]) table_->untake(keys[q], windows[q].start);
        }
      }
    }
    finish(ctx, u, windows, now);
  }

  asio::awaitable<void> accessAsync(Context& ctx) const override {
    if (s_.policy != Policy::redis) {
      access(ctx);
      co_return;
    }
    if (!ctx.worker || !ctx.worker->io) {
      fail(ctx, nullptr, "no worker io_context for Redis");
      co_return;
    }
    const std::int64_t now = floorDiv(clock_(), 1000);
    const auto windows = windowsOf(now);  // a copy: kept across the Redis round trip
    const std::string_view id = identify(ctx);
    auto pool = workerObject<redis::Pool>(*ctx.worker, s_.poolKey, *ctx.worker->io, s_.redis);

    std::array<std::string, kPeriods> keys;
    for (std::size_t p = 0; p < kPeriods; ++p) {
      if (s_.limits[p] <= 0) continue;
      keys[p] = s_.keyPrefix;
      keys[p].append(id).append(":");
      keys[p].append(std::to_string(windows[p].start * 1000)).append(":");
      keys[p].append(kPeriodNames[p]);
    }

    std::shared_ptr<SyncState> sync;
    if (s_.syncRate > 0) sync = workerObject<SyncState>(*ctx.worker, s_.syncKey);

    // What Redis must be asked: every limited period (sync_rate -1), or only those this
    // worker has no cached usage for yet. Kong's usage() INCRs, so the counts include this
    // request and the one before it is `reply - 1`. Cached usage is read before any wait: a
    // flush may empty the cache meanwhile.
    Usage u;
    std::string request;
    std::array<int, kPeriods> replyIndex;
    replyIndex.fill(-1);
    std::size_t asked = 0;
    for (std::size_t p = 0; p < kPeriods; ++p) {
      if (s_.limits[p] <= 0) continue;
      if (sync) {
        if (auto it = sync->entries.find(keys[p]); it != sync->entries.end()) {
          u.used[p] = it->second.usage + static_cast<double>(it->second.delta);
          continue;
        }
      }
      redis::appendCommand(request, {"INCRBY", keys[p], "1"});
      redis::appendCommand(request, {"EXPIRE", keys[p], ttl_[p]});
      replyIndex[p] = static_cast<int>(2 * asked++);
    }
    if (asked > 0) {
      auto r = co_await pool->exec(request, 2 * asked);
      if (!r) {
        fail(ctx, pool.get(), r.errorText());
        co_return;
      }
      for (std::size_t p = 0; p < kPeriods; ++p) {
        if (replyIndex[p] < 0) continue;
        const redis::Reply& reply = (*r)[static_cast<std::size_t>(replyIndex[p])];
        if (reply.type != redis::Reply::Type::integer) {
          fail(ctx, pool.get(), "unexpected Redis reply: " + reply.text);
          co_return;
        }
        u.used[p] = static_cast<double>(reply.integer - 1);
        if (!sync) continue;
        // As Kong: cached with delta -1, because the INCR counted this request already and an
        // accepted request adds 1 locally (a refused one keeps -1, giving its INCR back at
        // the flush). Unlike Kong the cached usage includes this request (Kong caches
        // reply - 1 and so sees one request fewer than there were until the next flush).
        // Another request of this worker may have read the same key meanwhile: merge.
        const auto total = static_cast<double>(reply.integer);
        auto [it, fresh] = sync->entries.try_emplace(keys[p], SyncState::Entry{total, -1, 0});
        if (!fresh) {
          it->second.usage = std::max(it->second.usage, total);
          it->second.delta -= 1;
        }
        it->second.ttl = kExpiration[p];
      }
    }
    for (std::size_t p = 0; p < kPeriods; ++p) {
      if (s_.limits[p] > 0 && u.stop < 0 && s_.limits[p] - u.used[p] <= 0)
        u.stop = static_cast<int>(p);
    }
    finish(ctx, u, windows, now);
    if (sync && u.stop < 0) {
      for (std::size_t p = 0; p < kPeriods; ++p) {
        if (s_.limits[p] <= 0) continue;
        // A cached entry a flush took meanwhile starts again from what this request saw.
        auto [it, fresh] =
            sync->entries.try_emplace(keys[p], SyncState::Entry{u.used[p], 0, kExpiration[p]});
        (void)fresh;
        it->second.delta += 1;
      }
      if (!sync->pending) {
        sync->pending = true;
        asio::co_spawn(*ctx.worker->io, flushLater(sync, pool, s_.syncRate), asio::detached);
      }
    }
  }

 private:
  // The cluster policy: counted in the node-wide table against the cluster-wide totals its
  // sync thread reads from the database (cluster_counters.h); never waits for the database.
  void accessCluster(Context& ctx) const {
    const std::int64_t now = floorDiv(clock_(), 1000);
    const auto& windows = windowsOf(now);
    const std::string_view id = identify(ctx);
    std::array<ClusterCounters::Key, kPeriods> keys{};
    std::array<bool, kPeriods> taken{};
    Usage u;
    auto giveBack = [&](std::size_t upTo) {
      for (std::size_t q = 0; q < upTo; ++q) {
        if (taken[q]) cluster_->untake(keys[q]);
      }
    };
    for (std::size_t p = 0; p < kPeriods; ++p) {
      if (s_.limits[p] <= 0) continue;
      keys[p] = {id,
                 s_.serviceId,
                 s_.routeId,
                 static_cast<std::uint8_t>(p),
                 windows[p].start,
                 windows[p].end};
      if (u.stop >= 0) {
        u.used[p] = static_cast<double>(cluster_->peek(keys[p]));
        continue;
      }
      auto t = cluster_->take(keys[p], s_.limits[p], now);
      if (!t.available) {
        giveBack(p);
        failCluster(ctx);
        return;
      }
      if (t.full) {
        if (warnFull_.test_and_set(std::memory_order_relaxed) == false)
          core::log::warn("rate-limiting: cluster counter table full; requests are not counted");
        continue;
      }
      u.used[p] = static_cast<double>(t.prior);
      if (t.taken) {
        taken[p] = true;
      } else {
        u.stop = static_cast<int>(p);
        giveBack(p);
      }
    }
    finish(ctx, u, windows, now);
  }

  // The database is unreachable (the last sync failed or none succeeded for a while). Kong's
  // fault_tolerant: through without rate-limit headers, or 500. Logged at most once a second.
  void failCluster(Context& ctx) const {
    const auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    auto last = lastFailLog_.load(std::memory_order_relaxed);
    if (nowMs - last >= 1000 &&
        lastFailLog_.compare_exchange_strong(last, nowMs, std::memory_order_relaxed)) {
      core::log::error("rate-limiting: failed to get usage",
                       {{"error", "the cluster counters' database is unreachable"}});
    }
    if (!s_.faultTolerant) ctx.exitMessage(500, kUnexpected);
  }

  std::string_view identify(const Context& ctx) const {
    switch (s_.limitBy) {
      case LimitBy::service:
        if (ctx.service && !ctx.service->id.empty()) return ctx.service->id;
        break;
      case LimitBy::consumer:
        if (ctx.consumer && !ctx.consumer->id.empty()) return ctx.consumer->id;
        if (!ctx.credentialId.empty()) return ctx.credentialId;
        break;
      case LimitBy::credential:
        if (!ctx.credentialId.empty()) return ctx.credentialId;
        break;
      case LimitBy::header:
        if (ctx.hasHeader(s_.headerName)) return ctx.header(s_.headerName);
        break;
      case LimitBy::path:
        if (ctx.path == s_.path) return ctx.path;
        break;
      case LimitBy::ip:
        break;
    }
    return ctx.clientIp;
  }

  // Kong's header and exit logic (rate-limiting/handler.lua access()).
  void finish(Context& ctx, const Usage& u, const std::array<Window, kPeriods>& windows,
              std::int64_t now) const {
    if (!s_.hideHeaders) {
      int best = -1;
      double bestRemaining = 0;
      std::int64_t reset = 1;
      char buf[40];
      for (std::size_t p = 0; p < kPeriods; ++p) {
        const double limit = s_.limits[p];
        if (limit <= 0) continue;
        double remaining = limit - u.used[p];
        if (u.stop < 0 || u.stop == static_cast<int>(p)) remaining -= 1;
        remaining = std::max(0.0, remaining);
        if (best < 0 || remaining < bestRemaining ||
            (remaining == bestRemaining &&
             kExpiration[p] > kExpiration[static_cast<std::size_t>(best)])) {
          best = static_cast<int>(p);
          bestRemaining = remaining;
          reset = std::max<std::int64_t>(1, kExpiration[p] - (now - windows[p].start));
        }
        // Constant names and numbers: nothing for the proxy to check.
        ctx.setTrustedResponseHeader(kLimitHeaders[p], limitText_[p]);
        ctx.setTrustedResponseHeader(kRemainingHeaders[p], formatNumber(buf, remaining));
      }
      if (best >= 0) {
        ctx.setTrustedResponseHeader("RateLimit-Limit", limitText_[static_cast<std::size_t>(best)]);
        ctx.setTrustedResponseHeader("RateLimit-Remaining", formatNumber(buf, bestRemaining));
        ctx.setTrustedResponseHeader("RateLimit-Reset",
                                     formatNumber(buf, static_cast<double>(reset)));
        if (u.stop >= 0)
          ctx.setTrustedResponseHeader("Retry-After", formatNumber(buf, static_cast<double>(reset)));
      }
    }
    if (u.stop >= 0) ctx.exit(s_.errorCode, s_.errorBody);
  }

  void fail(Context& ctx, redis::Pool* pool, const std::string& error) const {
    if (!pool || pool->shouldLog(std::chrono::steady_clock::now()))
      core::log::error("rate-limiting: failed to get usage", {{"error", error}});
    if (!s_.faultTolerant) ctx.exitMessage(500, kUnexpected);
  }

  // Kong's rate_limited_sync: one flush per sync_rate interval per worker and plugin. It owns
  // what it needs (not the instance, which a reload may free meanwhile).
  static asio::awaitable<void> flushLater(std::shared_ptr<SyncState> sync,
                                          std::shared_ptr<redis::Pool> pool, double syncRate) {
    auto exec = co_await asio::this_coro::executor;
    asio::steady_timer timer(exec);
    timer.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(syncRate * 1e6)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    while (sync->running) {
      timer.expires_after(pool->options().timeout / 2);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    sync->running = true;
    sync->pending = false;
    // Taken out before the round trip: increments arriving meanwhile start a fresh table
    // (Kong clears after the commit and loses them).
    std::unordered_map<std::string, SyncState::Entry> batch;
    batch.swap(sync->entries);
    std::string request;
    std::size_t commands = 0;
    for (const auto& [key, e] : batch) {
      if (e.delta == 0) continue;
      redis::appendCommand(request, {"INCRBY", key, std::to_string(e.delta)});
      redis::appendCommand(request, {"EXPIRE", key, std::to_string(e.ttl)});
      commands += 2;
    }
    if (commands > 0) {
      auto r = co_await pool->exec(request, commands);
      if (!r && pool->shouldLog(std::chrono::steady_clock::now()))
        core::log::error("rate-limiting: failed to sync counters to Redis",
                         {{"error", r.errorText()}});
    }
    sync->running = false;
  }

  Settings s_;
  std::function<std::int64_t()> clock_;
  std::shared_ptr<CounterTable> table_;
  std::shared_ptr<ClusterCounters> cluster_;
  mutable std::atomic<std::int64_t> lastFailLog_{std::numeric_limits<std::int64_t>::min() / 2};
  std::array<std::string, kPeriods> ttl_;
  std::array<std::string, kPeriods> limitText_;  // the limits as the headers print them
  mutable std::atomic_flag warnFull_;  // the table-full warning is logged once
};

// ------------------------------------------------------------------------- the factory

class RateLimitingFactory final : public Factory {
 public:
  explicit RateLimitingFactory(RateLimitingOptions options) : options_(std::move(options)) {
    if (!options_.nowMs) options_.nowMs = systemNowMs;
    using namespace schema;
    schema_.name = "rate-limiting";
    schema_.protocols = {"grpc", "grpcs", "http", "https"};
    auto limit = [](const char* period) {
      return number(period).greater(0).describe(
          std::string("The number of HTTP requests that can be made per ") + period + ".");
    };
    schema_.fields = {
        limit("second"),
        limit("minute"),
        limit("hour"),
        limit("day"),
        limit("month"),
        limit("year"),
        str("limit_by")
            .def("consumer")
            .one({"consumer", "credential", "ip", "service", "header", "path"})
            .describe("The entity that is used when aggregating the limits."),
        str("header_name")
            .validate(checkHeaderName)
            .describe("A string representing an HTTP header name."),
        str("path").validate(checkPath).describe("A string representing a URL path."),
        str("policy")
            .def("local")
            .minLen(0)
            .one({"local", "cluster", "redis"})
            .describe("The rate-limiting policies to use for retrieving and incrementing the "
                      "limits."),
        boolean("fault_tolerant")
            .req()
            .def(true)
            .describe("A boolean value that determines if the requests should be proxied even if "
                      "Kong has troubles connecting a third-party data store."),
        record(
            "redis",
            {
                str("host").describe("A string representing a host name, such as example.com."),
                integer("port").def(6379).between(0, 65535).describe(
                    "An integer representing a port number between 0 and 65535, inclusive."),
                integer("timeout")
                    .def(2000)
                    .between(0, 2147483646)
                    .describe("An integer representing a timeout in milliseconds."),
                str("username").describe("Username to use for Redis connections."),
                str("password").minLen(0).describe("Password to use for Redis connections."),
                integer("database")
                    .def(0)
                    .describe("Database to use for the Redis connection when using the `redis` "
                              "strategy"),
                boolean("ssl").def(false).describe("If set to true, uses SSL to connect to Redis."),
                boolean("ssl_verify")
                    .def(false)
                    .describe(
                        "If set to true, verifies the validity of the server SSL certificate."),
                str("server_name")
                    .describe(
                        "A string representing an SNI (server name indication) value for TLS."),
            })
            .describe("Redis configuration"),
        boolean("hide_client_headers")
            .req()
            .def(false)
            .describe("Optionally hide informative response headers."),
        number("error_code")
            .def(429)
            .greater(0)
            .describe("Set a custom error code to return when the rate limit is exceeded."),
        str("error_message")
            .def("API rate limit exceeded")
            .describe("Set a custom error message to return when the rate limit is exceeded."),
        number("sync_rate")
            .req()
            .def(-1)
            .describe("How often to sync counter data to the central data store. A value of -1 "
                      "results in "
                      "synchronous behavior."),
        // Kong 3.x's deprecated shorthands for redis.* (kept for older configs).
        str("redis_host").describe("Deprecated: use config.redis.host."),
        integer("redis_port").between(0, 65535).describe("Deprecated: use config.redis.port."),
        str("redis_password").minLen(0).describe("Deprecated: use config.redis.password."),
        str("redis_username").describe("Deprecated: use config.redis.username."),
        boolean("redis_ssl").describe("Deprecated: use config.redis.ssl."),
        boolean("redis_ssl_verify").describe("Deprecated: use config.redis.ssl_verify."),
        str("redis_server_name").describe("Deprecated: use config.redis.server_name."),
        integer("redis_timeout")
            .between(0, 2147483646)
            .describe("Deprecated: use config.redis.timeout."),
        integer("redis_database").describe("Deprecated: use config.redis.database."),
    };
    schema_.entityCheck = [](const json::object& c, core::Errors& errors) {
      bool any = false;
      for (auto name : kPeriodNames) any = any || member(c, name);
      if (!any) {
        errors.push_back({"",
                          "at least one of these fields must be non-empty: 'config.second', "
                          "'config.minute', 'config.hour', 'config.day', 'config.month', "
                          "'config.year'"});
      }
      const std::string policy = stringOr(c, "policy", "local");
      if (policy == "redis") {
        if (!redisField(c, "host")) errors.push_back({"redis.host", "required field missing"});
        if (!redisField(c, "port")) errors.push_back({"redis.port", "required field missing"});
        if (!redisField(c, "timeout"))
          errors.push_back({"redis.timeout", "required field missing"});
      }
      const std::string limitBy = stringOr(c, "limit_by", "consumer");
      if (limitBy == "header" && !member(c, "header_name"))
        errors.push_back({"header_name", "required field missing"});
      if (limitBy == "path" && !member(c, "path"))
        errors.push_back({"path", "required field missing"});

      // Kong's custom_validator on the config record (errors on `config` itself).
      for (std::size_t i = 0; i < kPeriods; ++i) {
        const json::value* lower = member(c, kPeriodNames[i]);
        if (!lower || !lower->is_number()) continue;
        const double v1 = lower->to_number<double>();
        for (std::size_t j = i + 1; j < kPeriods; ++j) {
          const json::value* upper = member(c, kPeriodNames[j]);
          if (!upper || !upper->is_number()) continue;
          const double v2 = upper->to_number<double>();
          if (v2 < v1) {
            char msg[256];
            std::snprintf(msg, sizeof msg,
                          "The limit for %s(%.1f) cannot be lower than the limit for %s(%.1f)",
                          std::string(kPeriodNames[j]).c_str(), v2,
                          std::string(kPeriodNames[i]).c_str(), v1);
            errors.push_back({"", msg});
            return;
          }
        }
      }
      const json::value* sr = member(c, "sync_rate");
      const double syncRate = sr && sr->is_number() ? sr->to_number<double>() : -1;
      if (policy != "redis" && syncRate != -1) {
        errors.push_back({"", "sync_rate can only be used with the redis policy"});
      } else if (policy == "redis" && syncRate != -1 && syncRate < 0.02) {
        errors.push_back({"", "sync_rate must be greater than 0.02, or -1 to disable"});
      }
    };
  }

  std::string_view name() const override { return "rate-limiting"; }
  int priority() const override { return 910; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin& entity,
                                                        const json::object& c,
                                                        CompileEnv& env) const override {
    Settings s;
    for (std::size_t p = 0; p < kPeriods; ++p) {
      if (const json::value* v = member(c, kPeriodNames[p])) s.limits[p] = v->to_number<double>();
    }
    const std::string limitBy = stringOr(c, "limit_by", "consumer");
    s.limitBy = limitBy == "credential" ? LimitBy::credential
                : limitBy == "ip"       ? LimitBy::ip
                : limitBy == "service"  ? LimitBy::service
                : limitBy == "header"   ? LimitBy::header
                : limitBy == "path"     ? LimitBy::path
                                        : LimitBy::consumer;
    s.headerName = stringOr(c, "header_name");
    s.path = stringOr(c, "path");
    const std::string policy = stringOr(c, "policy", "local");
    s.policy = policy == "redis"     ? Policy::redis
               : policy == "cluster" ? Policy::cluster
                                     : Policy::local;
    s.routeId = entity.routeId ? *entity.routeId : std::string(kEmptyUuid);
    s.serviceId = entity.serviceId ? *entity.serviceId : std::string(kEmptyUuid);
    std::shared_ptr<ClusterCounters> cluster;
    if (s.policy == Policy::cluster) {
      cluster = clusterCounters(env.persistent());
      if (!cluster->attached()) {
        return core::Error{"config.policy",
                           "the 'cluster' policy keeps its counters in the database; it needs a "
                           "node with a database (--db), not declarative mode"};
      }
    }
    s.faultTolerant = c.at("fault_tolerant").as_bool();
    s.hideHeaders = c.at("hide_client_headers").as_bool();
    if (const json::value* v = member(c, "error_code")) s.errorCode = v->to_number<int>();
    const std::string message = stringOr(c, "error_message", "API rate limit exceeded");
    s.errorBody = "{\"message\":\"";
    appendJsonEscaped(s.errorBody, message);
    s.errorBody += "\"}";
    if (const json::value* v = member(c, "sync_rate")) s.syncRate = v->to_number<double>();
    s.seed = hashBytes(0x5eed, entity.id.data(), entity.id.size());

    if (s.policy == Policy::redis) {
      auto str = [&](std::string_view n) {
        const json::value* v = redisField(c, n);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
      };
      auto num = [&](std::string_view n, std::int64_t d) {
        const json::value* v = redisField(c, n);
        return v && v->is_number() ? v->to_number<std::int64_t>() : d;
      };
      s.redis.host = str("host");
      s.redis.port = static_cast<std::uint16_t>(num("port", 6379));
      s.redis.username = str("username");
      s.redis.password = str("password");
      s.redis.database = static_cast<int>(num("database", 0));
      s.redis.timeout = std::chrono::milliseconds(num("timeout", 2000));
      auto flag = [&](std::string_view n) {
        const json::value* v = redisField(c, n);
        return v && v->is_bool() && v->as_bool();
      };
      s.redis.ssl = flag("ssl");
      s.redis.sslVerify = flag("ssl_verify");
      s.redis.serverName = str("server_name");
      s.poolKey = "redis:" + s.redis.host + ":" + std::to_string(s.redis.port) + "/" +
                  std::to_string(s.redis.database) + "/" + s.redis.username + "/" +
                  std::to_string(hashBytes(0, s.redis.password.data(), s.redis.password.size())) +
                  "/" + std::to_string(s.redis.timeout.count()) +
                  (s.redis.ssl ? "/tls:" + s.redis.serverName + (s.redis.sslVerify ? ":verify" : "")
                               : std::string());
      s.syncKey = "rate-limiting:sync:" + entity.id + ":" + s.poolKey;
      // Kong's key names the plugin's own route and service (conf.route_id / service_id).
      s.keyPrefix = "ratelimit:";
      s.keyPrefix.append(entity.routeId ? std::string_view(*entity.routeId) : kEmptyUuid);
      s.keyPrefix += ':';
      s.keyPrefix.append(entity.serviceId ? std::string_view(*entity.serviceId) : kEmptyUuid);
      s.keyPrefix += ':';
    }
    std::shared_ptr<CounterTable> table;
    if (s.policy == Policy::local) {
      const std::size_t slots =
          options_.localSlots ? options_.localSlots : CounterTable::kDefaultSlots;
      table = env.persistent().get<CounterTable>(kTableKey, slots);
    }
    return std::shared_ptr<const Instance>(std::make_shared<RateLimiting>(
        std::move(s), options_.nowMs, std::move(table), std::move(cluster)));
  }

 private:
  RateLimitingOptions options_;
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeRateLimitingPlugin() {
  return std::make_unique<RateLimitingFactory>(RateLimitingOptions{});
}

std::unique_ptr<Factory> makeRateLimitingPlugin(RateLimitingOptions options) {
  return std::make_unique<RateLimitingFactory>(std::move(options));
}

}  // namespace archway::plugins
