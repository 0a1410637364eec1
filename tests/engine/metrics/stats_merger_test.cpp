#include <QtTest>

#include <thread>

#include "metrics/stats_merger.h"

using namespace archway::metrics;

namespace {
RequestSample sample(int status, std::uint64_t totalUs, std::uint64_t upstreamUs = 0) {
  return RequestSample{status, totalUs, upstreamUs, 100, 200, upstreamUs > 0};
}
}  // namespace

class StatsMergerTest : public QObject {
  Q_OBJECT
 private slots:
  void mergesShardsOfAllWorkers() {
    WorkerStats a, b;
    StatsMerger merger({&a, &b}, 0.25);
    auto table = std::make_shared<EntityTable>();
    table->routes.push_back({0, "r0", "route-0", "s0", "svc"});
    table->routes.push_back({1, "r1", "route-1", "s0", "svc"});
    merger.setEntities(table);
    for (int i = 0; i < 30; ++i) {
      a.route(0)->record(sample(200, 1000, 800));
      a.global().record(sample(200, 1000, 800));
    }
    for (int i = 0; i < 10; ++i) {
      b.route(0)->record(sample(503, 3000, 2500));
      b.global().record(sample(503, 3000, 2500));
    }
    b.route(1)->record(sample(404, 50));
    b.global().record(sample(404, 50));

    auto f = merger.merge(1000);
    QCOMPARE(f->total.requests, std::uint64_t{41});
    QCOMPARE(f->routes.size(), std::size_t{2});
    const auto& r0 = f->routes[0];
    QCOMPARE(r0.name, std::string("route-0"));
    QCOMPARE(r0.requests, std::uint64_t{40});
    QCOMPARE(r0.status2xx, std::uint64_t{30});
    QCOMPARE(r0.status5xx, std::uint64_t{10});
    QCOMPARE(r0.bytesIn, std::uint64_t{4000});
    QVERIFY(std::abs(r0.latency1s.p50 - 1.0) < 0.02);
    QVERIFY(std::abs(r0.latency1s.p99 - 3.0) < 0.04);
    QVERIFY(std::abs(r0.upstreamLatency1s.p50 - 0.8) < 0.02);
    QCOMPARE(f->routes[1].status4xx, std::uint64_t{1});
    QCOMPARE(f->services.size(), std::size_t{1});
    QCOMPARE(f->services[0].requests, std::uint64_t{41});
    QCOMPARE(f->services[0].name, std::string("svc"));
    // One interval of 0.25 s holds 41 requests: 164 per second.
    QVERIFY(std::abs(f->total.rps - 164.0) < 0.001);
  }

  void countersAccumulateAndWindowsSlide() {
    WorkerStats w;
    StatsMerger merger({&w}, 0.25);
    for (int i = 0; i < 8; ++i) w.global().record(sample(200, 100));
    auto f1 = merger.merge(1);
    QCOMPARE(f1->total.requests, std::uint64_t{8});
    // Five quiet intervals: the one-second window is empty, the total stays.
    std::shared_ptr<const StatsFrame> f;
    for (int i = 0; i < 5; ++i) f = merger.merge(2 + i);
    QCOMPARE(f->total.requests, std::uint64_t{8});
    QCOMPARE(f->total.rps, 0.0);
    QCOMPARE(f->total.latency1s.count, std::uint64_t{0});
    QCOMPARE(f->total.latency10s.count, std::uint64_t{8});
    QVERIFY(f->sequence > f1->sequence);
  }

  void workerWritesWhileMergingLoseNothing() {
    WorkerStats w;
    StatsMerger merger({&w}, 0.25);
    std::atomic<bool> done{false};
    std::thread writer([&] {
      for (int i = 0; i < 200000; ++i)
        w.global().record(sample(200, static_cast<std::uint64_t>(i % 5000)));
      done = true;
    });
    std::uint64_t lastTotal = 0;
    while (!done) lastTotal = merger.merge(0)->total.requests;
    writer.join();
    auto f = merger.merge(0);
    QVERIFY(f->total.requests >= lastTotal);
    QCOMPARE(f->total.requests, std::uint64_t{200000});
    QCOMPARE(f->total.status2xx, std::uint64_t{200000});
  }
};

QTEST_GUILESS_MAIN(StatsMergerTest)
#include "stats_merger_test.moc"
