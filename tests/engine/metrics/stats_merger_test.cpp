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

  // A merge recomputes only routes with traffic in the last 60 s; idle ones keep their values
  // (counters since start, empty windows) and a route first seen later gets a one-second rate.
  void idleRoutesKeepTheirValuesAndTouchedOnesUpdate() {
    WorkerStats w;
    StatsMerger merger({&w}, 0.25);
    auto table = std::make_shared<EntityTable>();
    table->routes.push_back({0, "r0", "route-0", "s0", "svc"});
    table->routes.push_back({1, "r1", "route-1", "s0", "svc"});
    table->routes.push_back({2, "r2", "route-2", "s1", ""});
    merger.setEntities(table);
    for (int i = 0; i < 4; ++i) w.route(0)->record(sample(201, 2000));
    auto f = merger.merge(1);
    QCOMPARE(f->routes[0].requests, std::uint64_t{4});
    QCOMPARE(f->routes[0].latency1s.count, std::uint64_t{4});
    QCOMPARE(f->routes[2].requests, std::uint64_t{0});
    QCOMPARE(f->services.size(), std::size_t{2});
    // 300 merges (75 s): r1 busy throughout, r0 idle after the first, r2 only in the last.
    for (int i = 0; i < 300; ++i) {
      w.route(1)->record(sample(200, 1000));
      if (i == 299)
        for (int k = 0; k < 8; ++k) w.route(2)->record(sample(404, 500));
      f = merger.merge(2 + i);
      if (i == 3) {  // 1.25 s after r0's requests: out of the 1 s window, in the 10 s one
        QCOMPARE(f->routes[0].latency1s.count, std::uint64_t{0});
        QCOMPARE(f->routes[0].latency10s.count, std::uint64_t{4});
        QCOMPARE(f->routes[0].rps, 0.0);
      }
    }
    const auto& r0 = f->routes[0];
    QCOMPARE(r0.name, std::string("route-0"));
    QCOMPARE(r0.service, std::string("svc"));
    QCOMPARE(r0.requests, std::uint64_t{4});
    QCOMPARE(r0.status2xx, std::uint64_t{4});
    QCOMPARE(r0.statusCodes.size(), std::size_t{1});
    QCOMPARE(r0.statusCodes[0].first, 201);
    QCOMPARE(r0.requestLatency.count, std::uint64_t{4});
    QCOMPARE(r0.latency60s.count, std::uint64_t{0});
    const auto& r1 = f->routes[1];
    QCOMPARE(r1.requests, std::uint64_t{300});
    QVERIFY(std::abs(r1.rps - 4.0) < 0.001);  // one request per 0.25 s
    QCOMPARE(r1.latency60s.count, std::uint64_t{240});
    const auto& r2 = f->routes[2];
    QCOMPARE(r2.requests, std::uint64_t{8});
    QVERIFY(std::abs(r2.rps - 8.0) < 0.001);  // over the last second, not over 0.25 s
    QCOMPARE(r2.latency1s.count, std::uint64_t{8});
    QCOMPARE(r2.service, std::string("s1"));  // unnamed service: its id
    QCOMPARE(f->services[0].requests, std::uint64_t{304});
    QCOMPARE(f->services[1].requests, std::uint64_t{8});
    // A reload renames r0 (same slot): the name follows, its counters stay.
    auto renamed = std::make_shared<EntityTable>(*table);
    renamed->routes[0].name = "route-zero";
    merger.setEntities(renamed);
    f = merger.merge(400);
    QCOMPARE(f->routes[0].name, std::string("route-zero"));
    QCOMPARE(f->routes[0].requests, std::uint64_t{4});
    QCOMPARE(f->routes[2].latency1s.count, std::uint64_t{8});
  }

  // Frames share an unchanged entity with the previous frame (a pointer, not a copy of ~1.4 KB
  // per route); a route with new requests, a route whose window still moves, and a renamed
  // route are new objects.
  void unchangedEntitiesAreSharedBetweenFrames() {
    WorkerStats w;
    StatsMerger merger({&w}, 0.25);
    auto table = std::make_shared<EntityTable>();
    table->routes.push_back({0, "r0", "route-0", "s0", "svc"});
    table->routes.push_back({1, "r1", "route-1", "s0", "svc"});
    table->routes.push_back({2, "r2", "route-2", "s1", "other"});
    merger.setEntities(table);
    auto f1 = merger.merge(1);
    w.route(1)->record(sample(200, 1000));
    auto f2 = merger.merge(2);
    QCOMPARE(f2->routes.shared(0), f1->routes.shared(0));  // never had a request
    QVERIFY(f2->routes.shared(1) != f1->routes.shared(1));
    QCOMPARE(f2->routes[1].requests, std::uint64_t{1});
    QCOMPARE(f1->routes[1].requests, std::uint64_t{0});  // the older frame is unchanged
    QCOMPARE(f2->services.shared(1), f1->services.shared(1));  // s1 had no traffic
    QVERIFY(f2->services.shared(0) != f1->services.shared(0));
    auto f3 = merger.merge(3);  // r1's request is still in its windows: recomputed
    QVERIFY(f3->routes.shared(1) != f2->routes.shared(1));
    QCOMPARE(f3->routes.shared(2), f1->routes.shared(2));
    auto renamed = std::make_shared<EntityTable>(*table);
    renamed->routes[2].name = "route-two";
    merger.setEntities(renamed);
    auto f4 = merger.merge(4);
    QVERIFY(f4->routes.shared(2) != f3->routes.shared(2));
    QCOMPARE(f4->routes[2].name, std::string("route-two"));
    QCOMPARE(f3->routes[2].name, std::string("route-2"));
    auto f5 = merger.merge(5);
    QCOMPARE(f5->routes.shared(2), f4->routes.shared(2));
    QCOMPARE(f5->routes.shared(0), f4->routes.shared(0));
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

  void mergesConsumerAndTargetShardsOfAllWorkers() {
    WorkerStats a, b;
    StatsMerger merger({&a, &b}, 0.25);
    auto table = std::make_shared<EntityTable>();
    table->consumers.push_back({10, "c-alice", "alice"});
    table->consumers.push_back({11, "c-bob", "bob"});
    table->consumers.push_back({12, "c-idle", ""});
    table->targets.push_back({20, "u1", "pool", "10.0.0.1:80"});
    table->targets.push_back({21, "u1", "pool", "10.0.0.2:80"});
    merger.setEntities(table);
    for (int i = 0; i < 6; ++i) a.consumer(10)->record(sample(200, 1000, 800));
    for (int i = 0; i < 4; ++i) b.consumer(10)->record(sample(503, 2000, 1500));
    b.consumer(11)->record(sample(401, 100));
    for (int i = 0; i < 7; ++i) a.route(20)->record(sample(200, 1000, 800));
    for (int i = 0; i < 3; ++i) b.route(21)->record(sample(502, 5000, 4000));

    auto f = merger.merge(1000);
    // Only consumers with traffic, busiest first; the idle one is left out.
    QCOMPARE(f->consumersActive, std::uint64_t{2});
    QCOMPARE(f->consumers.size(), std::size_t{2});
    const auto& alice = f->consumers[0];
    QCOMPARE(alice.name, std::string("alice"));
    QCOMPARE(alice.id, std::string("c-alice"));
    QCOMPARE(alice.requests, std::uint64_t{10});
    QCOMPARE(alice.status2xx, std::uint64_t{6});
    QCOMPARE(alice.status5xx, std::uint64_t{4});
    QVERIFY(std::abs(alice.latency1s.p50 - 1.0) < 0.02);
    QVERIFY(std::abs(alice.latency60s.max - 2.0) < 0.001);
    QCOMPARE(f->consumers[1].name, std::string("bob"));
    QCOMPARE(f->consumers[1].status4xx, std::uint64_t{1});

    QCOMPARE(f->targets.size(), std::size_t{2});
    QCOMPARE(f->targets[0].name, std::string("10.0.0.1:80"));
    QCOMPARE(f->targets[0].upstream, std::string("pool"));
    QCOMPARE(f->targets[0].requests, std::uint64_t{7});
    QCOMPARE(f->targets[1].requests, std::uint64_t{3});
    QCOMPARE(f->targets[1].status5xx, std::uint64_t{3});
    QVERIFY(std::abs(f->targets[1].upstreamLatency10s.p50 - 4.0) < 0.04);

    // A later frame adds only what came since.
    a.consumer(11)->record(sample(200, 100));
    f = merger.merge(1250);
    QCOMPARE(f->consumers[1].requests, std::uint64_t{2});
    QCOMPARE(f->consumers[0].requests, std::uint64_t{10});
  }

  void consumerShardsAreCappedAndFramesKeepTheTopN() {
    WorkerStats w;
    w.setMaxConsumers(2);
    StatsMerger::Options options;
    options.topConsumers = 1;
    StatsMerger merger({&w}, 0.25, options);
    auto table = std::make_shared<EntityTable>();
    for (std::uint32_t i = 0; i < 4; ++i)
      table->consumers.push_back({i, "c" + std::to_string(i), "user" + std::to_string(i)});
    merger.setEntities(table);
    // The first two consumers get shards; the next ones share the overflow shard.
    QVERIFY(w.consumer(0) != w.consumer(1));
    QCOMPARE(w.consumer(2), &w.consumerOverflow());
    QCOMPARE(w.consumer(3), &w.consumerOverflow());
    QCOMPARE(w.consumerCount(), std::uint32_t{2});
    for (int i = 0; i < 3; ++i) w.consumer(0)->record(sample(200, 100));
    for (int i = 0; i < 5; ++i) w.consumer(1)->record(sample(200, 100));
    w.consumer(2)->record(sample(200, 100));
    w.consumer(3)->record(sample(200, 100));
    auto f = merger.merge(1);
    QCOMPARE(f->consumersActive, std::uint64_t{2});
    QCOMPARE(f->consumers.size(), std::size_t{2});  // the top one, and "(other)"
    QCOMPARE(f->consumers[0].name, std::string("user1"));
    QCOMPARE(f->consumers[0].requests, std::uint64_t{5});
    QCOMPARE(f->consumers[1].id, std::string("(other)"));
    QCOMPARE(f->consumers[1].requests, std::uint64_t{2});
  }

  void windowsOfTenAndSixtySecondsSlide() {
    WorkerStats w;
    StatsMerger merger({&w}, 0.25);
    // One interval of slow requests, then quiet: it leaves the 10 s window after 40 merges
    // and the 60 s window after 240.
    for (int i = 0; i < 4; ++i) w.global().record(sample(200, 50000, 40000));
    auto f = merger.merge(0);
    QCOMPARE(f->total.latency10s.count, std::uint64_t{4});
    QCOMPARE(f->total.latency60s.count, std::uint64_t{4});
    QVERIFY(std::abs(f->total.latency60s.p99 - 50.0) < 0.5);
    QVERIFY(std::abs(f->total.upstreamLatency60s.p50 - 40.0) < 0.4);
    QVERIFY(std::abs(f->total.gatewayLatency10s.p50 - 10.0) < 0.1);
    for (int i = 0; i < 39; ++i) f = merger.merge(i + 1);
    QCOMPARE(f->total.latency10s.count, std::uint64_t{4});
    // Fast requests now: the 60 s window holds both kinds, the 10 s window only the fast ones.
    for (int i = 0; i < 96; ++i) w.global().record(sample(200, 1000));
    f = merger.merge(100);
    QCOMPARE(f->total.latency10s.count, std::uint64_t{96});
    QVERIFY(std::abs(f->total.latency10s.max - 1.0) < 0.001);
    QCOMPARE(f->total.latency60s.count, std::uint64_t{100});
    QVERIFY(std::abs(f->total.latency60s.p50 - 1.0) < 0.01);
    QVERIFY(std::abs(f->total.latency60s.p99 - 50.0) < 0.5);
    QVERIFY(std::abs(f->total.latency60s.max - 50.0) < 0.001);
    QVERIFY(f->total.latency60s.p90 <= f->total.latency60s.p95);
    QVERIFY(f->total.latency60s.p999 <= f->total.latency60s.max);
    for (int i = 0; i < 199; ++i) f = merger.merge(200 + i);
    QCOMPARE(f->total.latency60s.count, std::uint64_t{100});  // the slow interval is 240 back
    f = merger.merge(500);
    QCOMPARE(f->total.latency60s.count, std::uint64_t{96});
    QVERIFY(std::abs(f->total.latency60s.max - 1.0) < 0.001);
    QCOMPARE(f->total.latency10s.count, std::uint64_t{0});
    // Totals never slide.
    QCOMPARE(f->total.requests, std::uint64_t{100});
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
