// Kong's per_consumer counters: exact counts per (route, consumer, status) key while the table
// chain grows, a reader that walks them while the worker writes, a hard cap on keys; and, through
// WorkerStats and StatsMerger, the labels (username, "" without one, "(other)" past the consumer
// cap) and that nothing is counted while no prometheus plugin asks for it.
#include <QtTest>

#include <atomic>
#include <map>
#include <thread>
#include <tuple>

#include "metrics/exposition.h"
#include "metrics/route_consumer_counters.h"
#include "metrics/stats_merger.h"

using namespace archway::metrics;

namespace {

using Key = std::tuple<std::uint32_t, std::uint32_t, int>;

std::map<Key, RouteConsumerCounters::Entry> entries(const RouteConsumerCounters& c) {
  std::map<Key, RouteConsumerCounters::Entry> out;
  c.forEach([&](const RouteConsumerCounters::Entry& e) {
    out[Key{e.routeSlot, e.consumer, e.status}] = e;
  });
  return out;
}

RequestSample sample(int status, std::uint64_t bytesIn = 10, std::uint64_t bytesOut = 100) {
  return RequestSample{status, 1000, 800, bytesIn, bytesOut, true};
}

const RouteConsumerStats* find(const StatsFrame& f, const std::string& route,
                               const std::string& consumer, int status) {
  for (const auto& rc : f.routeConsumers) {
    if (f.routes[rc.route].name == route && rc.consumer == consumer && rc.status == status)
      return &rc;
  }
  return nullptr;
}

}  // namespace

class RouteConsumerCountersTest : public QObject {
  Q_OBJECT
 private slots:
  void countsEachKeyApart() {
    RouteConsumerCounters c;
    const auto alice = RouteConsumerCounters::consumerKey(7);
    for (int i = 0; i < 3; ++i) c.record(0, alice, 200, 10, 100);
    c.record(0, alice, 404, 5, 50);
    c.record(0, RouteConsumerCounters::kNoConsumer, 200, 1, 2);
    c.record(1, RouteConsumerCounters::kOtherConsumer, 503, 1, 2);
    c.record(1, RouteConsumerCounters::kOtherConsumer, 1234, 0, 0);  // out of range: code 0
    auto e = entries(c);
    QCOMPARE(e.size(), std::size_t(5));
    const auto& a200 = e.at(Key{0, alice, 200});
    QCOMPARE(a200.requests, std::uint64_t(3));
    QCOMPARE(a200.bytesIn, std::uint64_t(30));
    QCOMPARE(a200.bytesOut, std::uint64_t(300));
    QCOMPARE(e.at(Key{0, alice, 404}).requests, std::uint64_t(1));
    QCOMPARE(e.at(Key{0, RouteConsumerCounters::kNoConsumer, 200}).requests, std::uint64_t(1));
    QCOMPARE(e.at(Key{1, RouteConsumerCounters::kOtherConsumer, 503}).requests, std::uint64_t(1));
    QCOMPARE(e.at(Key{1, RouteConsumerCounters::kOtherConsumer, 0}).requests, std::uint64_t(1));
    QCOMPARE(c.dropped(), std::uint64_t(0));
  }

  void keepsEveryKeyWhileTheTablesGrow() {
    RouteConsumerCounters c;
    for (int round = 0; round < 2; ++round)
      for (std::uint32_t route = 0; route < 100; ++route)
        for (std::uint32_t consumer = 0; consumer < 50; ++consumer)
          c.record(route, RouteConsumerCounters::consumerKey(consumer), 200, 1, 1);
    auto e = entries(c);
    QCOMPARE(e.size(), std::size_t(5000));
    for (const auto& [key, entry] : e) QCOMPARE(entry.requests, std::uint64_t(2));
  }

  void aReaderWalksWhileTheWorkerWrites() {
    RouteConsumerCounters c;
    std::atomic<bool> done{false};
    std::thread worker([&] {
      for (int round = 0; round < 20; ++round)
        for (std::uint32_t k = 0; k < 2000; ++k)
          c.record(k % 37, RouteConsumerCounters::consumerKey(k), 200, 1, 1);
      done.store(true);
    });
    std::uint64_t last = 0;
    bool monotonic = true;
    while (!done.load()) {
      std::uint64_t total = 0;
      c.forEach([&](const RouteConsumerCounters::Entry& e) { total += e.requests; });
      monotonic = monotonic && total >= last;
      last = total;
    }
    worker.join();
    std::uint64_t total = 0;
    c.forEach([&](const RouteConsumerCounters::Entry& e) { total += e.requests; });
    QVERIFY(monotonic);
    QCOMPARE(total, std::uint64_t(40000));
  }

  void stopsMakingKeysAtTheCapAndCountsTheRest() {
    RouteConsumerCounters c;
    const auto cap = static_cast<std::uint32_t>(RouteConsumerCounters::kMaxEntries);
    for (std::uint32_t k = 0; k < cap + 10; ++k)
      c.record(k / 1000, RouteConsumerCounters::consumerKey(k % 1000), 200, 1, 1);
    c.record(0, RouteConsumerCounters::consumerKey(0), 200, 1, 1);  // an existing key still counts
    std::size_t keys = 0;
    c.forEach([&](const RouteConsumerCounters::Entry&) { ++keys; });
    QCOMPARE(keys, std::size_t(cap));
    QCOMPARE(c.dropped(), std::uint64_t(10));
    QCOMPARE(entries(c).at(Key{0, RouteConsumerCounters::consumerKey(0), 200}).requests,
             std::uint64_t(2));
  }

  void nothingIsCountedWhileNoPluginAsks() {
    WorkerStats w;
    StatsMerger merger({&w}, 0.25);
    auto table = std::make_shared<EntityTable>();
    table->routes.push_back({0, "r0", "orders", "s0", "shop"});
    merger.setEntities(table);
    w.recordPerConsumer(w.route(0), nullptr, sample(200));
    QVERIFY(w.perConsumer() == nullptr);
    auto f = merger.merge(1000);
    QVERIFY(!f->perConsumer);
    QVERIFY(f->routeConsumers.empty());
  }

  void mergesWorkersUnderKongsConsumerLabels() {
    WorkerStats a, b;
    a.setMaxConsumers(1);  // a's second consumer goes to its overflow shard: "(other)"
    StatsMerger merger({&a, &b}, 0.25);
    auto table = std::make_shared<EntityTable>();
    table->routes.push_back({0, "r0", "orders", "s0", "shop"});
    table->consumers.push_back({10, "c-alice", "alice", "alice"});
    table->consumers.push_back({11, "c-bob", "bob", "bob"});
    table->consumers.push_back({12, "c-ext", "ext-9", ""});  // custom_id only: Kong's label is ""
    table->perConsumer = true;
    merger.setEntities(table);
    auto record = [](WorkerStats& w, EntityShard* consumer, int status) {
      w.recordPerConsumer(w.route(0), consumer, sample(status));
    };
    record(a, a.consumer(10), 200);
    record(a, a.consumer(11), 200);  // past a's cap
    record(b, b.consumer(10), 200);
    record(b, b.consumer(11), 200);
    record(b, b.consumer(11), 500);
    record(b, b.consumer(12), 200);
    record(b, nullptr, 200);
    auto f = merger.merge(1000);
    QVERIFY(f->perConsumer);
    QCOMPARE(find(*f, "orders", "alice", 200)->requests, std::uint64_t(2));
    QCOMPARE(find(*f, "orders", "bob", 200)->requests, std::uint64_t(1));
    QCOMPARE(find(*f, "orders", "bob", 500)->requests, std::uint64_t(1));
    QCOMPARE(find(*f, "orders", "(other)", 200)->requests, std::uint64_t(1));
    const auto* anonymous = find(*f, "orders", "", 200);
    QCOMPARE(anonymous->requests, std::uint64_t(2));  // no consumer + the one without username
    QCOMPARE(anonymous->bytesOut, std::uint64_t(200));

    ExpositionInput in;
    in.frame = f.get();
    const QString text = QString::fromStdString(renderPrometheus(in));
    QVERIFY2(
        text.contains("kong_http_requests_total{service=\"shop\",route=\"orders\",code=\"500\","
                      "source=\"service\",workspace=\"default\",consumer=\"bob\"} 1\n"),
        qPrintable(text));
    // Bandwidth sums a consumer's status codes: bob's 200 and 500.
    QVERIFY2(text.contains("kong_bandwidth_bytes{service=\"shop\",route=\"orders\",direction="
                           "\"egress\",workspace=\"default\",consumer=\"bob\"} 200\n"),
             qPrintable(text));
  }

  void turningItOffStopsCountingAndLabelling() {
    WorkerStats w;
    StatsMerger merger({&w}, 0.25);
    auto on = std::make_shared<EntityTable>();
    on->routes.push_back({0, "r0", "orders", "s0", "shop"});
    on->perConsumer = true;
    merger.setEntities(on);
    w.recordPerConsumer(w.route(0), nullptr, sample(200));
    auto off = std::make_shared<EntityTable>(*on);
    off->perConsumer = false;
    merger.setEntities(off);
    w.recordPerConsumer(w.route(0), nullptr, sample(200));
    std::uint64_t counted = 0;
    w.perConsumer()->forEach([&](const RouteConsumerCounters::Entry& e) { counted += e.requests; });
    QCOMPARE(counted, std::uint64_t(1));
    QVERIFY(!merger.merge(1000)->perConsumer);
  }
};

QTEST_GUILESS_MAIN(RouteConsumerCountersTest)
#include "route_consumer_counters_test.moc"
