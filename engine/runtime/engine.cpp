#include "runtime/engine.h"

#include <pthread.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "admin/admin_server.h"
#include "admin/admin_tls.h"
#include "balancer/active_checker.h"
#include "balancer/health_state.h"
#include "balancer/upstream_balancer.h"
#include "config/declarative.h"
#include "core/background_cpu.h"
#include "core/config_delta.h"
#include "core/log.h"
#include "core/uuid.h"
#include "net/endpoint.h"
#include "net/worker_pool.h"
#include "plugins/chain.h"
#include "plugins/log/queue.h"
#include "plugins/prometheus/prometheus.h"
#include "plugins/rate_limiting/cluster_counters.h"
#include "proxy/access_log.h"
#include "proxy/proxy_worker.h"
#include "runtime/cluster_sync.h"
#include "runtime/retired_snapshots.h"
#include "runtime/stats_slots.h"
#include "runtime/thread_priority.h"
#include "store/store.h"

namespace archway::runtime {

namespace asio = boost::asio;

namespace {

class LoadTest final : public LoadTestHandle {
 public:
  LoadTest(int id, loadgen::Plan plan, std::unique_ptr<loadgen::Run> run,
           std::function<void(std::shared_ptr<const LoadTestResult>)> onDone)
      : id_(id), plan_(std::move(plan)), run_(std::move(run)) {
    // One waiter thread per test turns the finished run into a kept result.
    waiter_ = std::thread([this, onDone = std::move(onDone)] {
      auto result = std::make_shared<LoadTestResult>();
      result->id = id_;
      result->plan = plan_;
      result->report = run_->wait();
      result->finishedAt = std::chrono::system_clock::now();
      // Kept before wait() returns, so a caller that waited sees it in loadTestResults().
      if (onDone) onDone(result);
      {
        std::lock_guard lock(mutex_);
        result_ = result;
      }
      cv_.notify_all();
    });
  }
  ~LoadTest() override {
    run_->cancel();
    if (waiter_.joinable()) waiter_.join();
  }
  int id() const override { return id_; }
  void cancel() override { run_->cancel(); }
  bool done() const override {
    std::lock_guard lock(mutex_);
    return result_ != nullptr;
  }
  std::shared_ptr<const LoadTestResult> wait() override {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return result_ != nullptr; });
    return result_;
  }

 private:
  int id_;
  loadgen::Plan plan_;
  std::unique_ptr<loadgen::Run> run_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::shared_ptr<const LoadTestResult> result_;
  std::thread waiter_;
};

}  // namespace

class EngineImpl {
 public:
  EngineOptions options;
  // Declared first: the admin server, the stats thread and the store's watcher use it.
  std::unique_ptr<core::BackgroundCpu> background;
  proxy::SnapshotSource source;
  // Replaced snapshots, freed off the workers once unused (destroyed with `source`'s, after
  // everything declared below).
  RetiredSnapshots retired;
  std::unique_ptr<net::WorkerPool> pool;
  std::shared_ptr<net::DnsResolver> dns;  // the workers' resolver threads
  std::vector<std::unique_ptr<proxy::ProxyWorker>> workers;
  std::unique_ptr<net::WorkerPool> control;  // one thread: Admin API
  std::unique_ptr<admin::AdminServer> admin;
  std::unique_ptr<metrics::StatsMerger> merger;
  std::thread statsThread;
  std::mutex statsMutex;
  std::condition_variable statsWake;
  bool statsStop = false;

  std::mutex applyMutex;  // serialises snapshot builds
  std::atomic<std::shared_ptr<const core::Config>> config;
  StatsSlots slots;  // under applyMutex
  // Plugin state that outlives snapshots (rate-limit counters, log queues, caches).
  plugins::Persistent pluginPersistent;
  trace::Sampler sampler;
  std::unique_ptr<proxy::AccessLog> accessLog;
  std::unique_ptr<trace::TraceStore> traces = std::make_unique<trace::TraceStore>(1024);
  int workerCountHint = 1;
  std::uint64_t generation = 0;

  std::mutex subMutex;
  int nextToken = 1;
  std::map<int, Engine::StatsCallback> statsSubs;
  std::map<int, Engine::EventCallback> eventSubs;
  // Access log subscribers, called on the log thread under accessSubMutex.
  std::mutex accessSubMutex;
  std::map<int, Engine::AccessLogCallback> accessSubs;
  std::map<int, int> errorLogSubs;  // engine token -> core::log token (under subMutex)
  void updateAccessSink() {  // caller holds accessSubMutex
    if (!accessLog) return;
    if (accessSubs.empty()) {
      accessLog->setSink({});
      return;
    }
    accessLog->setSink([this](std::string_view line) {
      std::lock_guard lock(accessSubMutex);
      for (auto& [t, cb] : accessSubs) cb(line);
    });
  }
  std::atomic<std::shared_ptr<const metrics::StatsFrame>> latest;

  // Target health outlives snapshots; active checks run on the control thread.
  std::unique_ptr<balancer::HealthRegistry> health;
  std::unique_ptr<balancer::ActiveCheckers> checkers;
  std::unique_ptr<store::Store> store;  // persisted config, under applyMutex
  // The rate-limiting cluster policy's counters in the store's database (with a store only).
  std::unique_ptr<ClusterSync> clusterSync;
  // What the store holds, as far as this engine knows (null: unknown, the next write rewrites
  // it whole); writes store only the difference from it. Under applyMutex.
  std::shared_ptr<const core::Config> stored;

  mutable std::mutex loadMutex;
  int nextLoadId = 1;
  std::vector<std::weak_ptr<LoadTestHandle>> loadTests;  // running or finished
  std::deque<std::shared_ptr<const LoadTestResult>> loadResults;

  std::uint16_t proxyPort = 0;
  std::vector<std::uint16_t> adminPorts;
  bool running = false;
  std::string nodeId = core::uuid4();

  void emit(EngineEvent::Kind kind, std::string message) {
    std::vector<Engine::EventCallback> subs;
    {
      std::lock_guard lock(subMutex);
      for (auto& [t, cb] : eventSubs) subs.push_back(cb);
    }
    EngineEvent e{kind, std::move(message)};
    for (auto& cb : subs) cb(e);
  }

  // Builds a snapshot off the workers. Caller holds applyMutex.
  core::Result<std::shared_ptr<const proxy::Snapshot>> build(core::Config cfg) {
    // Against the snapshot in force (validated when it was built), a write of a few entities
    // is checked, and gets its consumers' stats slots, from what it changed (core/config_delta.h).
    const auto prev = source.load();
    std::optional<core::ConfigDelta> delta;
    if (prev) delta = core::deltaOf(*prev->config, cfg);
    if (auto v = delta ? config::validateChange(*prev->config, cfg, *delta) : config::validate(cfg);
        !v) {
      return v.errors();
    }
    auto snap = std::make_shared<proxy::Snapshot>();
    snap->config = std::make_shared<const core::Config>(std::move(cfg));
    std::vector<std::uint32_t> routeSlots;
    auto table = std::make_shared<metrics::EntityTable>();
    std::unordered_map<std::string_view, const core::Service*> servicesById;
    for (const auto& s : snap->config->services) servicesById.emplace(s.id, &s);
    for (const auto& r : snap->config->routes) {
      const std::uint32_t slot = slots.route(r.id);
      routeSlots.push_back(slot);
      const core::Service* s = nullptr;  // validate() made every reference an existing id
      if (r.serviceId)
        if (auto found = servicesById.find(*r.serviceId); found != servicesById.end())
          s = found->second;
      table->routes.push_back(
          {slot, r.id, r.name.value_or(""), s ? s->id : "", s ? s->name.value_or("") : ""});
    }
    snap->consumerStatsSlots =
        slots.consumers(snap->config->consumers, prev ? &prev->consumerStatsSlots : nullptr,
                        delta ? &delta->consumers : nullptr);
    table->consumers.reserve(snap->config->consumers.size());
    for (std::size_t i = 0; i < snap->config->consumers.size(); ++i) {
      const auto& c = snap->config->consumers[i];
      table->consumers.push_back({snap->consumerStatsSlots[i], c.id,
                                  c.username ? *c.username : c.customId.value_or(""),
                                  c.username.value_or("")});
    }
    if (auto groups = plugins::prometheusGroups(*snap->config))
      table->perConsumer = groups->perConsumer;  // the workers count per consumer only then
    auto router = router::Router::build(*snap->config, routeSlots);
    if (!router) return router.errors();
    snap->router = std::move(router.value());
    // Indexes over entities the change left alone (key-auth's credentials) are handed on.
    plugins::SharedHandover::Scope handover(
        *pluginPersistent.get<plugins::SharedHandover>(plugins::SharedHandover::kKey),
        prev ? prev->sharedIndexes : nullptr, prev ? prev->config.get() : nullptr,
        delta ? &*delta : nullptr);
    auto compiled =
        plugins::CompiledPlugins::build(*snap->config, pluginPersistent, workerCountHint);
    if (!compiled) return compiled.errors();
    snap->sharedIndexes = handover.built();
    if (compiled.value()->any()) {
      snap->plugins = compiled.value();
      std::unordered_map<std::string_view, std::string_view> routeNames;
      for (const auto& r : snap->config->routes)
        routeNames.emplace(r.id, r.name ? std::string_view(*r.name) : std::string_view());
      for (const auto& ts : snap->plugins->timingSlots()) {
        const std::uint32_t slot = slots.plugin(ts.routeId + ":" + ts.plugin);
        snap->pluginStatsSlots.push_back(slot);
        const auto name = routeNames.find(ts.routeId);
        table->plugins.push_back({slot, ts.routeId,
                                  std::string(name == routeNames.end() ? "" : name->second),
                                  ts.plugin});
      }
    }
    if (!snap->config->upstreams.empty()) {
      health->sync(*snap->config);
      std::unordered_map<std::string, proxy::Snapshot::ServiceBalancer> byName;
      for (std::size_t i = 0; i < snap->config->upstreams.size(); ++i) {
        const auto& u = snap->config->upstreams[i];
        auto targets = balancer::targetsOf(*snap->config, u.id);
        auto b = balancer::UpstreamBalancer::build(u, targets, health->find(u.id));
        if (!b) {
          core::Errors errors;
          for (const auto& err : b.errors()) {
            errors.push_back({"upstreams[" + std::to_string(i) + "]." + err.path, err.message});
          }
          return errors;
        }
        proxy::Snapshot::ServiceBalancer sb{b.value(), {}};
        for (int t = 0; t < sb.balancer->size(); ++t) {
          const std::string& key = sb.balancer->target(t).key;
          const std::uint32_t slot = slots.target(u.id + ":" + key);
          sb.targetStatsSlots.push_back(slot);
          table->targets.push_back({slot, u.id, u.name, key});
        }
        byName[u.name] = std::move(sb);
      }
      for (const auto& svc : snap->config->services) {
        if (auto it = byName.find(svc.host); it != byName.end())
          snap->serviceBalancers[&svc] = it->second;
      }
    } else {
      health->sync(*snap->config);
    }
    snap->entities = std::move(table);
    snap->generation = ++generation;
    return std::shared_ptr<const proxy::Snapshot>(std::move(snap));
  }

  // Swaps a built snapshot in. Caller holds applyMutex.
  void publish(const std::shared_ptr<const proxy::Snapshot>& snap) {
    auto old = source.load();
    source.publish(snap);
    retired.retire(std::move(old));  // freed off the workers once they let go of it
    config.store(snap->config);
    if (merger) merger->setEntities(snap->entities);
    if (checkers) checkers->sync(*health);
  }

  // Another node changed the shared store (PostgreSQL NOTIFY; called on the store's watcher
  // thread). The config is loaded and swapped in WITHOUT writing it back: applyConfig() would
  // store it again, bump the version and notify every node, which would reload and
  // notify in turn, forever. Load and swap happen under applyMutex so a local Admin API write
  // cannot interleave and be overwritten by an older config loaded just before it.
  void reloadFromStore(const std::string& change) {
    auto yielding = background->enter();
    std::shared_ptr<const proxy::Snapshot> snap;
    {
      std::lock_guard lock(applyMutex);
      auto loaded = store->load();
      if (!loaded) {
        // Keep serving the config in force; the watcher calls again on the next change or
        // reconnect.
        core::log::warn("config reload from the store failed", {{"error", loaded.errorText()}});
        emit(EngineEvent::Kind::error,
             "config reload from the store failed: " + loaded.errorText());
        return;
      }
      if (auto cur = config.load(); cur && *cur == *loaded) {  // e.g. our own write
        stored = cur;
        return;
      }
      auto built = build(std::move(loaded.value()));
      if (!built) {
        stored.reset();  // the store holds a config this node does not serve
        emit(EngineEvent::Kind::configRejected, "from the store: " + built.errorText());
        return;
      }
      snap = built.value();
      stored = snap->config;
      publish(snap);
    }
    core::log::info("config reloaded from the store", {{"change", change}});
    std::string what = std::to_string(snap->config->services.size()) + " services, " +
                       std::to_string(snap->config->routes.size()) + " routes";
    emit(EngineEvent::Kind::configApplied, what + " (from the store: " + change + ")");
  }

  void statsLoop() {
    pthread_setname_np(pthread_self(), "aw-stats");
    // A late frame costs nothing; a worker waiting behind a merge costs its clients latency.
    lowerThisThreadsPriority(5);
    std::unique_lock lock(statsMutex);
    auto next = std::chrono::steady_clock::now() + options.statsInterval;
    while (!statsStop) {
      statsWake.wait_until(lock, next, [&] { return statsStop; });
      if (statsStop) break;
      next += options.statsInterval;
      lock.unlock();
      auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      decltype(merger->merge(now)) frame;
      {
        auto yielding = background->enter();
        frame = merger->merge(now);
      }
      latest.store(frame);
      std::vector<Engine::StatsCallback> subs;
      {
        std::lock_guard sl(subMutex);
        for (auto& [t, cb] : statsSubs) subs.push_back(cb);
      }
      for (auto& cb : subs) cb(frame);
      lock.lock();
    }
  }
};

Engine::Engine() : impl_(std::make_unique<EngineImpl>()) {}
Engine::~Engine() {
  stop();
  for (auto& [token, logToken] : impl_->errorLogSubs) core::log::unsubscribe(logToken);
  // Before the subscriber list it may still call into is destroyed.
  impl_->accessLog.reset();
}

core::Status Engine::start(const EngineOptions& options, core::Config initial) {
  auto& d = *impl_;
  if (d.running) return core::Error{"", "engine already running"};
  d.options = options;
  {
    core::BackgroundCpu::Options bo;
    bo.enabled = options.idleBackground;
    d.background = std::make_unique<core::BackgroundCpu>(bo);
  }
  if (d.options.statsInterval.count() <= 0)
    d.options.statsInterval = std::chrono::milliseconds(250);

  auto proxyAddrs = net::parseListenList(options.proxyListen);
  if (!proxyAddrs) return core::Error{"proxy-listen", proxyAddrs.errors().front().message};
  if (auto ns = net::checkNameservers(options.dns.nameservers); !ns) return ns.errors().front();
  for (const auto& a : *proxyAddrs) {
    if (a.ssl)
      return core::Error{"proxy-listen", "ssl listeners are not built yet in this version"};
  }
  std::vector<net::ListenAddress> adminAddrs;
  std::shared_ptr<asio::ssl::context> adminTls;
  if (options.adminListen != "off" && !options.adminListen.empty()) {
    auto a = net::parseListenList(options.adminListen);
    if (!a) return core::Error{"admin-listen", a.errors().front().message};
    adminAddrs = std::move(*a);
    for (const auto& addr : adminAddrs) {
      if (!net::isLoopback(addr.endpoint.address()) && options.adminToken.empty()) {
        return core::Error{"admin-listen", addr.endpoint.address().to_string() +
                                               " is not a loopback address: set --admin-token "
                                               "(clients send it as Kong-Admin-Token)"};
      }
      if (addr.ssl && !adminTls) {
        if (options.adminSslCert.empty() || options.adminSslCertKey.empty()) {
          return core::Error{"admin-listen",
                             "an ssl listener needs --admin-ssl-cert and --admin-ssl-cert-key"};
        }
        auto tls = admin::makeServerTlsContext(options.adminSslCert, options.adminSslCertKey);
        if (!tls) return tls.errors();
        adminTls = std::move(*tls);
      }
    }
    for (const auto& addr : adminAddrs) {
      if (!addr.ssl && !net::isLoopback(addr.endpoint.address())) {
        core::log::warn(
            "the Admin API listens off loopback without TLS: the admin token crosses the network "
            "in clear text (use an ssl listener)",
            {{"listen", addr.endpoint.address().to_string() + ":" +
                            std::to_string(addr.endpoint.port())}});
      }
    }
  }

  if (!options.store.empty()) {
    auto opened = store::open(options.store);
    if (!opened) return core::Error{"db", opened.errors().front().message};
    d.store = std::move(opened.value());
    // Attached before the first config is compiled: the cluster policy needs it.
    d.clusterSync.reset();
    d.clusterSync = std::make_unique<ClusterSync>(
        plugins::ratelimit::clusterCounters(d.pluginPersistent), options.rateLimitSyncInterval);
    if (auto s = d.clusterSync->start(options.store); !s)
      return core::Error{"db", s.errors().front().message};
  }
  d.health = std::make_unique<balancer::HealthRegistry>(
      [&d](const std::string& upstreamId, const std::string& target, bool healthy) {
        d.emit(EngineEvent::Kind::healthChanged, "upstream " + upstreamId + " target " + target +
                                                     (healthy ? " is healthy" : " is unhealthy"));
      });
  d.workerCountHint = options.workers > 0
                          ? options.workers
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::shared_ptr<const proxy::Snapshot> snap;
  {
    std::lock_guard lock(d.applyMutex);
    auto built = d.build(std::move(initial));
    if (!built) return built.errors();
    snap = built.value();
  }
  d.source.publish(snap);
  d.config.store(snap->config);
  d.stored = d.store && options.initialFromStore ? snap->config : nullptr;

  {
    trace::SamplingPolicy policy;
    policy.enabled = options.tracing;
    policy.rate = options.tracingSampleRate;
    policy.slowMs = options.tracingSlowMs;
    d.sampler.set(policy);
    d.traces = std::make_unique<trace::TraceStore>(std::max<std::size_t>(1, options.traceBuffer));
  }
  {
    // The old log's destructor drains into the sink, which takes accessSubMutex: not under it.
    std::unique_ptr<proxy::AccessLog> old;
    {
      std::lock_guard lock(d.accessSubMutex);
      old = std::move(d.accessLog);
    }
    old.reset();
    std::lock_guard lock(d.accessSubMutex);
    // Always there (GET /archway/logs/access may ask for lines); the workers produce entries
    // only while a file, a subscriber or an Admin API reader wants them.
    d.accessLog = std::make_unique<proxy::AccessLog>(d.workerCountHint, options.accessLog);
    if (!d.accessLog->ok())
      return core::Error{"access-log", "cannot open " + options.accessLog + " for appending"};
    d.updateAccessSink();
  }
  proxy::ProxyLimits limits;
  d.dns = std::make_shared<net::DnsResolver>(options.dns);
  limits.dns = d.dns;
  limits.accessLog = d.accessLog.get();
  limits.stats = options.stats;
  limits.sampler = &d.sampler;
  limits.traces = d.traces.get();
  limits.maxHeaderBytes = options.maxHeaderBytes;
  limits.maxBodyBytes = options.maxBodyBytes;
  limits.clientTimeout = options.clientTimeout;
  auto pool = std::make_unique<net::WorkerPool>(options.workers);
  std::vector<std::unique_ptr<proxy::ProxyWorker>> workers;
  for (int i = 0; i < pool->size(); ++i) {
    limits.workerIndex = i;
    limits.workerCount = pool->size();
    workers.push_back(std::make_unique<proxy::ProxyWorker>(pool->context(i), d.source, limits));
    workers.back()->stats().setMaxConsumers(options.statsMaxConsumers);
  }
  // Every worker gets its own SO_REUSEPORT listener on each address. With port 0 the first
  // worker's bind picks the port and the others join it.
  std::uint16_t firstPort = 0;
  for (std::size_t a = 0; a < proxyAddrs->size(); ++a) {
    auto ep = (*proxyAddrs)[a].endpoint;
    for (int i = 0; i < pool->size(); ++i) {
      auto acc = net::listen(pool->context(i), ep, true);
      if (!acc) return core::Error{"proxy-listen", acc.errors().front().message};
      if (ep.port() == 0) ep.port(acc->local_endpoint().port());
      workers[i]->addListener(std::move(*acc));
    }
    if (a == 0) firstPort = ep.port();
  }

  auto control = std::make_unique<net::WorkerPool>(1);
  std::vector<std::uint16_t> adminPorts;
  if (!adminAddrs.empty()) {
    std::vector<asio::ip::tcp::acceptor> acceptors;
    for (const auto& addr : adminAddrs) {
      auto acc = net::listen(control->context(0), addr.endpoint, false);
      if (!acc) return core::Error{"admin-listen", acc.errors().front().message};
      adminPorts.push_back(acc->local_endpoint().port());
      acceptors.push_back(std::move(*acc));
    }
    admin::AdminContext ctx;
    ctx.config = [&d] { return d.config.load(); };
    ctx.stats = [&d] { return d.latest.load(); };
    ctx.nodeId = d.nodeId;
    ctx.traces = d.traces.get();
    ctx.sampler = &d.sampler;
    ctx.accessLog = [&d](std::uint64_t since,
                         const std::function<bool(const admin::AccessLine&)>& visit) {
      std::lock_guard lock(d.accessSubMutex);  // start() replaces the log under it
      admin::AccessLogRead read;
      if (!d.accessLog) return read;
      read.produced = d.accessLog->noteReader();
      read.leaseSeconds = static_cast<int>(proxy::AccessLog::kReaderLease.count());
      read.newest = d.accessLog->visitKept(since, [&](const proxy::AccessLog::Kept& k) {
        return visit(admin::AccessLine{k.seq, k.status, k.route, k.line});
      });
      return read;
    };
    ctx.pluginState = &d.pluginPersistent;
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    ctx.hostname = host;
    ctx.token = options.adminToken;
    ctx.workers = pool->size();
    ctx.proxyListen = options.proxyListen;
    ctx.adminListen = options.adminListen;
    ctx.database = !d.store                                  ? "off"
                   : options.store.rfind("postgres", 0) == 0 ? "postgres"
                                                             : "sqlite";
    ctx.databaseReachable = [&d] { return !d.store || d.store->reachable(); };
    ctx.apply = [this](core::Config c) { return applyConfig(std::move(c)); };
    ctx.streamInterval = d.options.statsInterval;
    ctx.targetHealth = [&d] {
      auto lower = [](balancer::TargetStatus status) {
        std::string s(balancer::toString(status));
        for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return s;
      };
      std::vector<metrics::TargetHealthRow> rows;
      for (const auto& state : d.health->all()) {
        std::string name = state->upstreamName();
        for (const auto& t : state->targets()) {
          // Kong's exporter: a row per address; a name without addresses is a dns_error. What
          // the balancers know, without resolving: a scrape never waits for DNS.
          auto desc = balancer::describe(*state, t.key, nullptr);
          if (!desc || desc->addresses.empty()) {
            rows.push_back({name, t.key, "", "dns_error"});
            continue;
          }
          for (const auto& a : desc->addresses)
            rows.push_back({name, t.key, a.ip + ":" + std::to_string(a.port), lower(a.status)});
        }
      }
      return rows;
    };
    ctx.health = [&d](const std::string& upstreamId, const std::string& target) -> std::string {
      auto state = d.health->find(upstreamId);
      auto status = state ? state->status(target) : std::nullopt;
      return std::string(
          balancer::toString(status.value_or(balancer::TargetStatus::healthchecksOff)));
    };
    ctx.balancerHealth =
        [&d](const std::string& upstreamId) -> std::optional<admin::AdminContext::BalancerHealth> {
      auto snap = d.source.load();
      std::shared_ptr<const balancer::UpstreamBalancer> b;
      for (const auto& [service, sb] : snap->serviceBalancers) {
        if (sb.balancer->upstreamId() == upstreamId) b = sb.balancer;
      }
      if (!b) {
        // No service routes to it: the balancer it would get, over the shared target health.
        const core::Upstream* u = snap->config->findUpstream(upstreamId);
        if (!u) return std::nullopt;
        auto built = balancer::UpstreamBalancer::build(
            *u, balancer::targetsOf(*snap->config, u->id), d.health->find(u->id));
        if (!built) return std::nullopt;
        b = built.value();
      }
      if (auto state = d.health->find(upstreamId); state && d.dns) {  // addresses' weights
        for (const auto& t : state->targets()) balancer::resolveIfNeeded(*state, t.key, *d.dns);
      }
      const auto h = b->health();
      return admin::AdminContext::BalancerHealth{h.healthy, h.total, h.available, h.unavailable};
    };
    ctx.setTargetHealth = [&d](const std::string& upstreamId, const std::string& target,
                               bool healthy) {
      auto state = d.health->find(upstreamId);
      if (!state) return false;
      if (d.dns) balancer::resolveIfNeeded(*state, target, *d.dns);
      return state->force(target, healthy);  // the target and every address of it
    };
    ctx.targetHealthDetail =
        [&d](const std::string& upstreamId,
             const std::string& target) -> std::optional<admin::AdminContext::TargetHealthDetail> {
      auto state = d.health->find(upstreamId);
      auto desc = state ? balancer::describe(*state, target, d.dns.get()) : std::nullopt;
      if (!desc) return std::nullopt;
      admin::AdminContext::TargetHealthDetail out{std::string(balancer::toString(desc->status)),
                                                  desc->weights.total,
                                                  desc->weights.available,
                                                  {}};
      for (const auto& a : desc->addresses) {
        out.addresses.push_back(
            {a.ip, a.port, std::string(balancer::toString(a.status)), a.weight});
      }
      return out;
    };
    ctx.setAddressHealth = [&d](const std::string& upstreamId, const std::string& target,
                                const std::string& address,
                                bool healthy) -> admin::AdminContext::AddressHealthResult {
      auto state = d.health->find(upstreamId);
      if (!state) return {404, "Not found"};
      if (d.dns) balancer::resolveIfNeeded(*state, target, *d.dns);
      auto set = state->setAddressHealthy(target, address, healthy);
      if (set) return {};
      const auto& message = set.errors().front().message;
      if (message.rfind("no healthchecker", 0) == 0) return {400, message};  // Kong's 400
      return {404, "Not found"};
    };
    d.admin = std::make_unique<admin::AdminServer>(
        control->context(0), std::make_shared<const admin::AdminApi>(std::move(ctx)),
        d.background.get());
    for (std::size_t i = 0; i < acceptors.size(); ++i)
      d.admin->start(std::move(acceptors[i]), adminAddrs[i].ssl ? adminTls : nullptr);
  }

  std::vector<metrics::WorkerStats*> shards;
  for (auto& w : workers) shards.push_back(&w->stats());
  metrics::StatsMerger::Options mergerOptions;
  mergerOptions.topConsumers = options.statsTopConsumers;
  d.merger = std::make_unique<metrics::StatsMerger>(
      shards, std::chrono::duration<double>(d.options.statsInterval).count(), mergerOptions);
  d.merger->setEntities(snap->entities);
  d.latest.store(std::make_shared<const metrics::StatsFrame>());

  d.pool = std::move(pool);
  d.workers = std::move(workers);
  d.control = std::move(control);
  d.proxyPort = firstPort;
  d.adminPorts = adminPorts;
  d.checkers = std::make_unique<balancer::ActiveCheckers>(d.control->context(0), d.dns);
  d.checkers->sync(*d.health);
  d.pool->start("aw-worker");
  d.control->start("aw-control");
  // Snapshot builds, Admin API answers and probes yield the CPU to the workers when both want it
  // (on two cores a 10k-route build would otherwise delay requests by its whole duration).
  asio::post(d.control->context(0), [] { lowerThisThreadsPriority(5); });
  d.statsStop = false;
  d.statsThread = std::thread([&d] { d.statsLoop(); });
  d.running = true;
  // Nodes sharing a PostgreSQL store follow each other's changes (a no-op for SQLite). Started
  // last: a reload touches everything set up above. stop() unwatches first, for the same reason.
  if (d.store) d.store->watch([&d](const std::string& change) { d.reloadFromStore(change); });
  core::log::info("engine started", {{"proxy_port", std::to_string(firstPort)},
                                     {"admin_port", std::to_string(adminPort())},
                                     {"workers", std::to_string(d.pool->size())}});
  d.emit(EngineEvent::Kind::started, "proxy on port " + std::to_string(firstPort));
  return core::Ok{};
}

void Engine::stop(std::chrono::milliseconds drain) {
  auto& d = *impl_;
  // Running load tests are cancelled and waited for: their completion touches this engine.
  std::vector<std::shared_ptr<LoadTestHandle>> tests;
  {
    std::lock_guard lock(d.loadMutex);
    for (auto& w : d.loadTests) {
      if (auto t = w.lock()) tests.push_back(std::move(t));
    }
  }
  for (auto& t : tests) {
    t->cancel();
    t->wait();
  }
  if (!d.running) return;
  d.running = false;
  if (d.store) d.store->unwatch();  // no reload may run while the engine is torn down
  if (d.admin) asio::post(d.control->context(0), [&d] { d.admin->close(); });
  for (int i = 0; i < d.pool->size(); ++i) {
    asio::post(d.pool->context(i), [w = d.workers[i].get()] { w->drain(); });
  }
  // Graceful drain: workers whose connections have all finished run out of work and return.
  // Past the deadline, whatever is still open is cancelled.
  std::thread joiner([&d] { d.pool->releaseAndJoin(); });
  struct FlushLogs {  // once the workers are gone: log plugins' queues written out
    ~FlushLogs() { plugins::log::shutdownQueues(); }
  } flushLogs;
  auto deadline = std::chrono::steady_clock::now() + drain;
  bool forced = false;
  for (;;) {
    bool allStopped = true;
    for (int i = 0; i < d.pool->size(); ++i)
      allStopped = allStopped && d.pool->context(i).stopped();
    if (allStopped) break;
    if (!forced && std::chrono::steady_clock::now() > deadline) {
      forced = true;
      for (int i = 0; i < d.pool->size(); ++i) {
        asio::post(d.pool->context(i), [w = d.workers[i].get()] { w->forceClose(); });
      }
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    } else if (forced && std::chrono::steady_clock::now() > deadline) {
      d.pool->stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  joiner.join();
  // No answer may be posted to the workers' io_contexts once they are gone.
  if (d.dns) d.dns->stop();
  // The workers' last counts go to the database.
  if (d.clusterSync) d.clusterSync->stop();
  if (d.checkers) d.checkers->stop();
  d.control->stop();
  {
    std::lock_guard lock(d.statsMutex);
    d.statsStop = true;
  }
  d.statsWake.notify_all();
  if (d.statsThread.joinable()) d.statsThread.join();
  // Sockets owned by the workers go before their io_contexts.
  d.admin.reset();
  d.checkers.reset();
  d.clusterSync.reset();
  d.store.reset();
  d.workers.clear();
  d.dns.reset();
  d.merger.reset();
  d.pool.reset();
  d.control.reset();
  d.emit(EngineEvent::Kind::stopped, "engine stopped");
  core::log::flush();  // what the engine logged is in the error log when stop() returns
}

bool Engine::running() const {
  return impl_->running;
}

core::Status Engine::applyConfig(core::Config config) {
  auto& d = *impl_;
  std::shared_ptr<const proxy::Snapshot> snap;
  {
    std::lock_guard lock(d.applyMutex);
    auto built = d.build(std::move(config));
    if (!built) {
      d.emit(EngineEvent::Kind::configRejected, built.errorText());
      return built.errors();
    }
    snap = built.value();
    if (d.store) {
      auto s = d.stored ? d.store->apply(*d.stored, *snap->config) : d.store->replace(*snap->config);
      if (!s) {
        d.emit(EngineEvent::Kind::configRejected, s.errorText());
        return s.errors();
      }
      d.stored = snap->config;
    }
    d.publish(snap);
  }
  d.emit(EngineEvent::Kind::configApplied,
         std::to_string(snap->config->services.size()) + " services, " +
             std::to_string(snap->config->routes.size()) + " routes");
  return core::Ok{};
}

core::Status Engine::syncRateLimitCounters() {
  auto& d = *impl_;
  if (!d.clusterSync) return core::Error{"db", "no database: the cluster policy is not available"};
  return d.clusterSync->sync();
}

std::shared_ptr<const core::Config> Engine::config() const {
  return impl_->config.load();
}
std::uint16_t Engine::proxyPort() const {
  return impl_->proxyPort;
}
std::uint16_t Engine::adminPort() const {
  return impl_->adminPorts.empty() ? 0 : impl_->adminPorts.front();
}
std::vector<std::uint16_t> Engine::adminPorts() const {
  return impl_->adminPorts;
}
int Engine::workerCount() const {
  return impl_->pool ? impl_->pool->size() : 0;
}

int Engine::subscribeStats(StatsCallback callback) {
  std::lock_guard lock(impl_->subMutex);
  int t = impl_->nextToken++;
  impl_->statsSubs[t] = std::move(callback);
  return t;
}

int Engine::subscribeEvents(EventCallback callback) {
  std::lock_guard lock(impl_->subMutex);
  int t = impl_->nextToken++;
  impl_->eventSubs[t] = std::move(callback);
  return t;
}

int Engine::subscribeAccessLog(AccessLogCallback callback) {
  int t;
  {
    std::lock_guard lock(impl_->subMutex);
    t = impl_->nextToken++;
  }
  std::lock_guard lock(impl_->accessSubMutex);
  impl_->accessSubs[t] = std::move(callback);
  impl_->updateAccessSink();
  return t;
}

int Engine::subscribeErrorLog(ErrorLogCallback callback) {
  std::lock_guard lock(impl_->subMutex);
  int t = impl_->nextToken++;
  impl_->errorLogSubs[t] = core::log::subscribe(std::move(callback));
  return t;
}

core::log::Level Engine::logLevel() const { return core::log::level(); }

void Engine::setLogLevel(core::log::Level level) {
  // Noted under whichever of the two levels shows info records, so raising it is seen too.
  const core::log::Level old = core::log::level();
  auto note = [&] {
    core::log::info("log level changed", {{"level", std::string(core::log::levelName(level))},
                                          {"previous", std::string(core::log::levelName(old))}});
  };
  if (old <= core::log::Level::info) note();
  core::log::setLevel(level);
  if (old > core::log::Level::info) note();
}

void Engine::unsubscribe(int token) {
  int logToken = -1;
  {
    std::lock_guard lock(impl_->subMutex);
    impl_->statsSubs.erase(token);
    impl_->eventSubs.erase(token);
    if (auto it = impl_->errorLogSubs.find(token); it != impl_->errorLogSubs.end()) {
      logToken = it->second;
      impl_->errorLogSubs.erase(it);
    }
  }
  // Outside subMutex: this waits for a callback the log thread may be running.
  if (logToken >= 0) core::log::unsubscribe(logToken);
  std::lock_guard lock(impl_->accessSubMutex);
  if (impl_->accessSubs.erase(token)) impl_->updateAccessSink();
}

std::shared_ptr<LoadTestHandle> Engine::runLoadTest(
    loadgen::Plan plan, std::function<void(const loadgen::Progress&)> progress) {
  auto& d = *impl_;
  int id;
  {
    std::lock_guard lock(d.loadMutex);
    id = d.nextLoadId++;
  }
  auto run = loadgen::start(plan, std::move(progress));
  auto test = std::make_shared<LoadTest>(id, std::move(plan), std::move(run),
                                         [&d](std::shared_ptr<const LoadTestResult> r) {
                                           std::lock_guard lock(d.loadMutex);
                                           d.loadResults.push_back(std::move(r));
                                           while (d.loadResults.size() > 50)
                                             d.loadResults.pop_front();
                                         });
  std::lock_guard lock(d.loadMutex);
  std::erase_if(d.loadTests, [](const auto& w) { return w.expired(); });
  d.loadTests.push_back(test);
  return test;
}

std::vector<std::shared_ptr<const LoadTestResult>> Engine::loadTestResults() const {
  std::lock_guard lock(impl_->loadMutex);
  return {impl_->loadResults.begin(), impl_->loadResults.end()};
}

std::shared_ptr<const metrics::StatsFrame> Engine::latestStats() const {
  auto f = impl_->latest.load();
  return f ? f : std::make_shared<const metrics::StatsFrame>();
}

std::vector<trace::FinishedTrace> Engine::recentTraces(const trace::TraceQuery& query) const {
  return impl_->traces->recent(query);
}

void Engine::setTracing(const trace::SamplingPolicy& policy) { impl_->sampler.set(policy); }

trace::SamplingPolicy Engine::tracing() const { return impl_->sampler.get(); }

}  // namespace archway::runtime
