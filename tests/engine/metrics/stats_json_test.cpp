// parseStatsJson reads back what renderStatsJson writes (the stats stream of a remote node).
#include <QtTest>

#include "metrics/exposition.h"
#include "metrics/stats_json.h"

using namespace archway::metrics;

namespace {

EntityStats sample(const std::string& id, const std::string& name, double scale) {
  EntityStats e;
  e.id = id;
  e.name = name;
  e.requests = static_cast<std::uint64_t>(1000 * scale);
  e.rps = 12.5 * scale;
  e.status1xx = 1;
  e.status2xx = 900;
  e.status3xx = 3;
  e.status4xx = 40;
  e.status5xx = 56;
  e.bytesIn = 12345;
  e.bytesOut = 678910;
  e.latency1s = {.p50 = 1.5,
                 .p90 = 2.5,
                 .p95 = 3.5,
                 .p99 = 9.25,
                 .p999 = 12,
                 .max = 20,
                 .mean = 2,
                 .count = 50};
  e.latency10s = {.p50 = 1.25, .p99 = 8, .count = 500};
  e.latency60s = {.p50 = 1, .p99 = 7, .count = 3000};
  e.upstreamLatency1s = {.p50 = 1.0, .p99 = 6, .count = 50};
  e.gatewayLatency60s = {.p50 = 0.25, .p99 = 0.75, .count = 3000};
  return e;
}

void compareLatency(const LatencySummary& a, const LatencySummary& b) {
  QCOMPARE(a.p50, b.p50);
  QCOMPARE(a.p90, b.p90);
  QCOMPARE(a.p95, b.p95);
  QCOMPARE(a.p99, b.p99);
  QCOMPARE(a.p999, b.p999);
  QCOMPARE(a.max, b.max);
  QCOMPARE(a.mean, b.mean);
  QCOMPARE(a.count, b.count);
}

void compareEntity(const EntityStats& a, const EntityStats& b) {
  QCOMPARE(a.id, b.id);
  QCOMPARE(a.name, b.name);
  QCOMPARE(a.service, b.service);
  QCOMPARE(a.upstream, b.upstream);
  QCOMPARE(a.requests, b.requests);
  QCOMPARE(a.rps, b.rps);
  QCOMPARE(a.status1xx, b.status1xx);
  QCOMPARE(a.status2xx, b.status2xx);
  QCOMPARE(a.status3xx, b.status3xx);
  QCOMPARE(a.status4xx, b.status4xx);
  QCOMPARE(a.status5xx, b.status5xx);
  QCOMPARE(a.bytesIn, b.bytesIn);
  QCOMPARE(a.bytesOut, b.bytesOut);
  compareLatency(a.latency1s, b.latency1s);
  compareLatency(a.latency10s, b.latency10s);
  compareLatency(a.latency60s, b.latency60s);
  compareLatency(a.upstreamLatency1s, b.upstreamLatency1s);
  compareLatency(a.gatewayLatency60s, b.gatewayLatency60s);
}

}  // namespace

class StatsJsonTest : public QObject {
  Q_OBJECT
 private slots:
  void readsBackWhatRenderStatsJsonWrites() {
    StatsFrame f;
    f.sequence = 42;
    f.timestampMs = 1700000000123;
    f.intervalS = 0.25;
    f.workers = 3;
    f.activeConnections = 7;
    f.totalConnections = 99;
    f.total = sample("", "", 3);
    auto cart = sample("r1", "cart", 1);
    cart.service = "shop";
    f.routes = {cart, sample("r2", "r2", 2)};
    f.services = {sample("s1", "shop", 1)};
    f.consumers = {sample("c1", "alice", 0.5)};
    f.consumersActive = 4;
    auto target = sample("t1", "127.0.0.1:9080", 1);
    target.upstream = "demo.upstream";
    f.targets = {target};
    f.plugins = {PluginStats{.routeId = "r1",
                             .route = "cart",
                             .plugin = "key-auth",
                             .requests = 77,
                             .meanUs = 12.5,
                             .p99Us = 40,
                             .maxUs = 90}};

    auto parsed = parseStatsJson(renderStatsJson(f));
    QVERIFY2(parsed.ok(), parsed.errorText().c_str());
    const StatsFrame& g = *parsed;
    QCOMPARE(g.sequence, f.sequence);
    QCOMPARE(g.timestampMs, f.timestampMs);
    QCOMPARE(g.intervalS, f.intervalS);
    QCOMPARE(g.workers, f.workers);
    QCOMPARE(g.activeConnections, f.activeConnections);
    QCOMPARE(g.totalConnections, f.totalConnections);
    compareEntity(g.total, f.total);
    QCOMPARE(g.routes.size(), f.routes.size());
    for (std::size_t i = 0; i < f.routes.size(); ++i) compareEntity(g.routes[i], f.routes[i]);
    QCOMPARE(g.services.size(), std::size_t(1));
    compareEntity(g.services[0], f.services[0]);
    QCOMPARE(g.consumers.size(), std::size_t(1));
    compareEntity(g.consumers[0], f.consumers[0]);
    QCOMPARE(g.consumersActive, f.consumersActive);
    QCOMPARE(g.targets.size(), std::size_t(1));
    compareEntity(g.targets[0], f.targets[0]);
    QCOMPARE(g.plugins.size(), std::size_t(1));
    QCOMPARE(g.plugins[0].plugin, std::string("key-auth"));
    QCOMPARE(g.plugins[0].route, std::string("cart"));
    QCOMPARE(g.plugins[0].routeId, std::string("r1"));
    QCOMPARE(g.plugins[0].requests, std::uint64_t(77));
    QCOMPARE(g.plugins[0].meanUs, 12.5);
    QCOMPARE(g.plugins[0].p99Us, 40.0);
    QCOMPARE(g.plugins[0].maxUs, 90.0);
  }

  void notAnObjectIsAnErrorAndMissingMembersReadAsZero() {
    QVERIFY(!parseStatsJson("").ok());
    QVERIFY(!parseStatsJson("[1, 2]").ok());
    QVERIFY(!parseStatsJson("{\"sequence\": ").ok());
    auto sparse = parseStatsJson(
        "{\"sequence\": 5, \"routes\": [{\"name\": \"a\"}, 7], "
        "\"total\": {\"rps\": \"fast\"}}");
    QVERIFY2(sparse.ok(), sparse.errorText().c_str());
    QCOMPARE(sparse->sequence, std::uint64_t(5));
    QCOMPARE(sparse->routes.size(), std::size_t(1));
    QCOMPARE(sparse->routes[0].name, std::string("a"));
    QCOMPARE(sparse->total.rps, 0.0);
    QVERIFY(sparse->plugins.empty());
  }
};

QTEST_GUILESS_MAIN(StatsJsonTest)
#include "stats_json_test.moc"
