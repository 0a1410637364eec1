#pragma once
// The Engine facade: the only API the console (and archwayd's main) uses.
//
// Threads: start() spawns the worker threads (one io_context each), a control thread (snapshot
// builds, Admin API) and a stats thread. Callbacks passed to subscribe*() run on engine threads
// (stats: the stats thread; events: whichever engine thread raised them) and must not block;
// the console re-emits them as queued Qt signals.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/entities.h"
#include "core/log.h"
#include "core/result.h"
#include "loadgen/load_generator.h"
#include "metrics/stats_frame.h"
#include "net/dns_resolver.h"
#include "trace/sampler.h"
#include "trace/trace_store.h"

namespace archway::runtime {

struct EngineOptions {
  // ADDR:PORT, comma-separated for several; port 0 picks a free port (see proxyPort()).
  std::string proxyListen = "0.0.0.0:8000";
  // ADDR:PORT[ ssl], comma-separated for several (Kong's admin_listen: "127.0.0.1:8001,
  // 127.0.0.1:8444 ssl"), or "off". A non-loopback address is refused without adminToken, and
  // allowed with a warning when it is not TLS. `ssl` listeners need adminSslCert and
  // adminSslCertKey (PEM file paths, or PEM text) and speak TLS 1.2+.
  std::string adminListen = "127.0.0.1:8001";
  // Required from clients as the Kong-Admin-Token header on every Admin API request.
  std::string adminToken;
  std::string adminSslCert;
  std::string adminSslCertKey;
  // Where applied configurations are persisted ("sqlite:PATH" or a path). Empty: in memory
  // only (declarative mode: the Admin API still writes, the file is not touched).
  std::string store;
  // The initial config passed to start() is what `store` holds (it was just loaded from it, as
  // archwayd --db does): Admin API writes are then stored incrementally from the first one on.
  // Otherwise the first write rewrites the store whole, and the following ones are incremental.
  bool initialFromStore = false;
  int workers = 0;  // 0: hardware threads
  // Admin API requests, store reloads and stats merges run under SCHED_IDLE (a worker that
  // wakes preempts them at once), back to normal after 50 ms of waiting for a CPU
  // (core/background_cpu.h). Needs CAP_SYS_NICE or RLIMIT_NICE; without, they run at nice 5.
  bool idleBackground = true;
  std::chrono::milliseconds statsInterval{250};
  std::size_t maxHeaderBytes = 64 * 1024;
  std::size_t maxBodyBytes = 128 * 1024 * 1024;
  std::chrono::seconds clientTimeout{60};  // header/body/keep-alive, Kong's default
  // Request tracing: head sampling rate, plus every 5xx and every request slower than
  // tracingSlowMs kept (0 turns the slow rule off). `tracing = false` records nothing.
  bool tracing = true;
  // Per-request stats. Off only to measure what stats and tracing cost (bench/).
  bool stats = true;
  double tracingSampleRate = 0.01;
  std::uint32_t tracingSlowMs = 1000;
  std::size_t traceBuffer = 1024;  // traces kept in the ring buffer
  // Access log (Kong's proxy_access_log): "" off, "-" stdout, else a file appended to. One
  // JSON line per request, written by a log thread, never by a worker.
  std::string accessLog;
  // How often the rate-limiting `cluster` policy's counters are synced with the database
  // (only with a `store`). <= 0: never in the background (syncRateLimitCounters() does it).
  std::chrono::milliseconds rateLimitSyncInterval{100};
  // Consumers with their own stats shard, per worker (a shard is ~40 KB); the requests of
  // consumers past the cap are counted together in the "(other)" consumer entry.
  std::uint32_t statsMaxConsumers = 1000;
  // Consumers a stats frame carries at most (those with the most requests since start).
  std::size_t statsTopConsumers = 100;
  // Name resolution of service hosts and upstream targets (Kong's dns_* settings): the
  // records' TTLs, stale answers, nameservers, record order.
  net::DnsOptions dns;
};

struct EngineEvent {
  enum class Kind { started, configApplied, configRejected, healthChanged, error, stopped };
  Kind kind;
  std::string message;
};

class EngineImpl;

// A load test the engine ran, kept so runs can be compared.
struct LoadTestResult {
  int id = 0;
  loadgen::Plan plan;
  loadgen::Report report;
  std::chrono::system_clock::time_point finishedAt;
};

// A running load test. cancel() from any thread; wait() blocks until the report exists.
class LoadTestHandle {
 public:
  virtual ~LoadTestHandle() = default;
  virtual int id() const = 0;
  virtual void cancel() = 0;
  virtual bool done() const = 0;
  virtual std::shared_ptr<const LoadTestResult> wait() = 0;
};

class Engine {
 public:
  Engine();
  ~Engine();  // stops if running
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Binds the listeners and starts the threads with `initial` as the first config. Errors name
  // the option ("proxy-listen: ..."), the process is not left half started.
  core::Status start(const EngineOptions& options, core::Config initial);
  // Stops accepting, lets in-flight requests finish (up to `drain`), joins every thread.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(5));
  bool running() const;

  // Validates, builds a new snapshot off the workers, persists it to the store (when there is
  // one) and swaps it in atomically. On any error the previous config stays in force.
  core::Status applyConfig(core::Config config);
  // The config in force (immutable).
  std::shared_ptr<const core::Config> config() const;

  std::uint16_t proxyPort() const;  // first proxy listener's bound port
  std::uint16_t adminPort() const;  // first Admin API listener's port; 0 when it is off
  std::vector<std::uint16_t> adminPorts() const;  // every Admin API listener, in option order
  int workerCount() const;

  using StatsCallback = std::function<void(std::shared_ptr<const metrics::StatsFrame>)>;
  using EventCallback = std::function<void(const EngineEvent&)>;
  // One access log line (JSON with its newline, as written to --access-log), on the log thread.
  // It must not block nor call unsubscribe().
  using AccessLogCallback = std::function<void(std::string_view line)>;
  // Returns a token for unsubscribe(). Safe from any thread.
  int subscribeStats(StatsCallback callback);
  int subscribeEvents(EventCallback callback);
  // Every access log line while subscribed. Lines reach the callback within ~100 ms of the
  // request's end.
  int subscribeAccessLog(AccessLogCallback callback);
  // Every error log record (core::log: the same records the error log sink gets) while
  // subscribed, on the log thread; it must not block nor call unsubscribe(). The error log is
  // the process's, so records of other engines in the process arrive too, and subscribing works
  // whether or not this engine runs.
  using ErrorLogCallback = std::function<void(const core::log::Record& record)>;
  int subscribeErrorLog(ErrorLogCallback callback);
  void unsubscribe(int token);
  // The error log's run-time level (process-wide, as PUT /debug/node/log-level sets it).
  core::log::Level logLevel() const;
  void setLogLevel(core::log::Level level);
  // The newest stats frame (never null once started).
  std::shared_ptr<const metrics::StatsFrame> latestStats() const;

  // Recent kept traces, newest first (GET /archway/traces shows the same). Any thread.
  // One sync of the rate-limiting `cluster` policy's counters with the database now
  // (blocking; any thread): this node's counts go in, the cluster-wide totals come back.
  // The engine does it every options.rateLimitSyncInterval; tests call it to be exact.
  core::Status syncRateLimitCounters();

  std::vector<trace::FinishedTrace> recentTraces(const trace::TraceQuery& query) const;
  // Changes the sampling policy at run time (any thread).
  void setTracing(const trace::SamplingPolicy& policy);
  trace::SamplingPolicy tracing() const;

  // Runs a load test on its own threads (not the workers'). `progress` is called every 250 ms
  // from a load generator thread and must not block. The finished (or cancelled) result is
  // kept: loadTestResults() lists the last 50, oldest first. Works whether or not the engine
  // is running (the plan's URL may point anywhere on loopback). stop() cancels running tests.
  std::shared_ptr<LoadTestHandle> runLoadTest(
      loadgen::Plan plan, std::function<void(const loadgen::Progress&)> progress = {});
  std::vector<std::shared_ptr<const LoadTestResult>> loadTestResults() const;

 private:
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace archway::runtime
