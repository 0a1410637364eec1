#pragma once
// Kong's Admin API (kong-reference §2): request handling, independent of the transport so it
// can be tested directly. Reads and writes services, routes, upstreams and targets in Kong's
// shapes, and GET/POST /config; everything else answers Kong's 404/405 bodies.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/entities.h"
#include "core/result.h"
#include "metrics/exposition.h"
#include "metrics/stats_frame.h"

namespace archway::trace {
class TraceStore;
class Sampler;
}
namespace archway::plugins {
class Persistent;
}

namespace archway::admin {

// One line the access log keeps, for GET /archway/logs/access.
struct AccessLine {
  std::uint64_t seq = 0;  // 1, 2, ... in log order (restarts with the engine)
  int status = 0;
  std::string_view route;  // the route's name, else its id, as in the line
  std::string_view line;   // the JSON line, without its newline
};
struct AccessLogRead {
  bool produced = false;     // whether entries were produced before this read (else it started)
  std::uint64_t newest = 0;  // the newest kept line's seq; 0: none yet
  int leaseSeconds = 0;      // how long after a read entries are still produced without a file
};
// Notes a reader (so entries are produced for a while) and visits the kept lines whose seq is
// above `since`, newest first, until `visit` returns false.
using AccessLogReader = std::function<AccessLogRead(
    std::uint64_t since, const std::function<bool(const AccessLine&)>& visit)>;

struct AdminContext {
  std::function<std::shared_ptr<const core::Config>()> config;
  std::function<std::shared_ptr<const metrics::StatsFrame>()> stats;
  // Health of one target for GET /upstreams/{u}/health: HEALTHY, UNHEALTHY, HEALTHCHECKS_OFF,
  // DNS_ERROR. Absent: every target reports HEALTHCHECKS_OFF.
  std::function<std::string(const std::string& upstreamId, const std::string& target)> health;
  // POST /upstreams/{u}/targets/{t}/healthy|unhealthy: sets the target's health on every worker;
  // false when there is no such target in the balancers.
  std::function<bool(const std::string& upstreamId, const std::string& target, bool healthy)>
      setTargetHealth;
  // Applies a whole new configuration (validate, persist, swap). Write endpoints build the new
  // config from config() and call this; on error nothing changed.
  std::function<core::Status(core::Config)> apply;
  // Every target's health, for kong_upstream_target_health.
  std::function<std::vector<metrics::TargetHealthRow>()> targetHealth;
  // GET /upstreams/{u}/health?balancer_health=1: the upstream's balancer as the workers see it
  // (weights of usable targets against the healthchecks.threshold). nullopt: no balancer.
  struct BalancerHealth {
    bool healthy = false;
    long long total = 0, available = 0, unavailable = 0;  // target weights
  };
  std::function<std::optional<BalancerHealth>(const std::string& upstreamId)> balancerHealth;
  // GET /upstreams/{u}/health: one target's health, weights and addresses (an IP target: itself;
  // a hostname target: each address its name resolves to, with its own health; none when it
  // does not resolve). nullopt: unknown target. Absent: `health`, and IP targets list themselves.
  struct AddressHealth {
    std::string ip;
    int port = 0;
    std::string health;
    long long weight = 0;
  };
  struct TargetHealthDetail {
    std::string health;
    long long total = 0, available = 0;  // weights
    std::vector<AddressHealth> addresses;
  };
  std::function<std::optional<TargetHealthDetail>(const std::string& upstreamId,
                                                  const std::string& target)>
      targetHealthDetail;
  // POST /upstreams/{u}/targets/{t}/{address}/healthy|unhealthy: one address of the target.
  // Errors: no health checks (Kong's message, 400), the target does not resolve to it (404).
  struct AddressHealthResult {
    int status = 204;
    std::string message;
  };
  std::function<AddressHealthResult(const std::string& upstreamId, const std::string& target,
                                    const std::string& address, bool healthy)>
      setAddressHealth;
  std::string version = "0.1.0";
  std::chrono::milliseconds streamInterval{250};  // one stats event per merge
  std::string nodeId;
  std::string hostname;
  // Required as Kong-Admin-Token on every request when non-empty (compared in constant time;
  // missing or wrong: 401 {"message":"Unauthorized"}).
  std::string token;
  int workers = 0;
  std::string proxyListen;
  std::string adminListen;
  std::string database = "off";  // "off" (declarative), "sqlite", "postgres"
  // Whether the config store answers (GET /status database.reachable, /status/ready,
  // kong_datastore_reachable). Absent: always reachable. Must not block.
  std::function<bool()> databaseReachable;
  // Recent traces for GET /archway/traces (null: tracing off, the list is empty).
  const trace::TraceStore* traces = nullptr;
  // The workers' sampler for GET/PATCH /archway/tracing (null: those answer 404).
  trace::Sampler* sampler = nullptr;
  // The access log's kept lines for GET /archway/logs/access (absent: it answers 404).
  AccessLogReader accessLog;
  // Plugin state shared by the workers (proxy-cache's caches for DELETE /proxy-cache).
  plugins::Persistent* pluginState = nullptr;
  // POST /status/ready status=draining: readiness answers 503 "draining" from then on (shared by
  // the copies of this context).
  std::shared_ptr<std::atomic<bool>> draining = std::make_shared<std::atomic<bool>>(false);
};

struct AdminRequest {
  std::string_view method;
  std::string_view target;  // path and query
  std::string_view token;   // Kong-Admin-Token header
  std::string_view body;
  std::string_view contentType;  // Content-Type header
};

struct AdminResponse {
  int status = 200;
  std::string body;  // JSON unless contentType says otherwise
  std::string contentType = "application/json; charset=utf-8";
  // GET /archway/stats/stream: the server keeps the connection and sends server-sent events
  // (one stats frame per interval) instead of `body`.
  bool eventStream = false;
};

class AdminApi {
 public:
  explicit AdminApi(AdminContext context);
  AdminResponse handle(const AdminRequest& request) const;
  // The latest stats frame as JSON (GET /archway/stats, and each event of the stream).
  std::string statsJson() const;
  std::chrono::milliseconds streamInterval() const { return ctx_.streamInterval; }

 private:
  AdminContext ctx_;
};

}  // namespace archway::admin
