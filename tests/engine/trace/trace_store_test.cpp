#include <QtTest>

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "trace/span_names.h"
#include "trace/trace_store.h"

using namespace archway::trace;

namespace {

// A trace whose every field is derived from `seed`, so a torn copy is detectable.
std::unique_ptr<FinishedTrace> makeTrace(std::uint64_t seed) {
  auto t = std::make_unique<FinishedTrace>();
  for (std::size_t i = 0; i < 16; ++i)
    t->traceId[i] = static_cast<std::uint8_t>(seed >> (i % 8 * 8));
  t->traceId[0] = 1;
  t->rootSpanId = seed * 31 + 7;
  t->durationUs = seed % 5000;
  t->status = static_cast<std::uint16_t>(200 + seed % 400);
  t->routeName.assign("route-" + std::to_string(seed % 7));
  t->routeId.assign("id-" + std::to_string(seed % 7));
  t->path.assign("/p/" + std::to_string(seed));
  t->spanCount = static_cast<std::uint16_t>(1 + seed % FinishedTrace::kMaxSpans);
  for (std::size_t j = 0; j < t->spanCount; ++j) {
    t->spans[j] = SpanRecord{names::kRoute, static_cast<std::uint32_t>(seed + j),
                             static_cast<std::uint32_t>(seed ^ j), 0};
  }
  return t;
}

bool consistent(const FinishedTrace& t) {
  const std::uint64_t seed = (t.rootSpanId - 7) / 31;
  auto expect = makeTrace(seed);
  if (t.durationUs != expect->durationUs || t.status != expect->status ||
      t.traceId != expect->traceId || t.routeName.view() != expect->routeName.view() ||
      t.path.view() != expect->path.view() || t.spanCount != expect->spanCount) {
    return false;
  }
  for (std::size_t j = 0; j < t.spanCount; ++j) {
    if (t.spans[j].startUs != expect->spans[j].startUs ||
        t.spans[j].durationUs != expect->spans[j].durationUs || t.spans[j].name != names::kRoute) {
      return false;
    }
  }
  return true;
}

std::unique_ptr<FinishedTrace> simple(int status, std::uint64_t us, std::string_view route,
                                      std::uint8_t idByte) {
  auto t = std::make_unique<FinishedTrace>();
  t->traceId[15] = idByte;
  t->traceId[0] = 0xab;
  t->status = static_cast<std::uint16_t>(status);
  t->durationUs = us;
  t->routeName.assign(route);
  t->routeId.assign(std::string("id-") + std::string(route));
  return t;
}

}  // namespace

class TraceStoreTest : public QObject {
  Q_OBJECT
 private slots:
  void keepsTheNewestUpToCapacity() {
    TraceStore store(8);
    for (std::uint64_t i = 1; i <= 20; ++i) QVERIFY(store.push(*makeTrace(i)));
    auto all = store.recent({.limit = 100});
    QCOMPARE(all.size(), std::size_t{8});
    // Newest first: seeds 20, 19, ..., 13.
    for (std::size_t k = 0; k < all.size(); ++k) {
      QVERIFY(consistent(all[k]));
      QCOMPARE((all[k].rootSpanId - 7) / 31, std::uint64_t{20 - k});
    }
    QCOMPARE(store.recent({.limit = 3}).size(), std::size_t{3});
    QCOMPARE(store.pushed(), std::uint64_t{20});
  }

  void emptyStoreAnswersNothing() {
    TraceStore store(4);
    QVERIFY(store.recent({}).empty());
    QVERIFY(!store.byId(makeTrace(1)->traceId));
  }

  void filtersByRouteStatusAndDuration() {
    TraceStore store(64);
    store.push(*simple(200, 1000, "a", 1));
    store.push(*simple(503, 2000, "a", 2));
    store.push(*simple(404, 3000, "b", 3));
    store.push(*simple(500, 50'000, "b", 4));
    store.push(*simple(201, 80'000, "a", 5));

    auto ids = [](const std::vector<FinishedTrace>& v) {
      std::vector<int> out;
      for (const auto& t : v) out.push_back(t.traceId[15]);
      return out;
    };
    QCOMPARE(ids(store.recent({.route = "a"})), (std::vector<int>{5, 2, 1}));
    QCOMPARE(ids(store.recent({.route = "id-b"})), (std::vector<int>{4, 3}));
    QCOMPARE(ids(store.recent({.status = 503})), (std::vector<int>{2}));
    QCOMPARE(ids(store.recent({.statusClass = 5})), (std::vector<int>{4, 2}));
    QCOMPARE(ids(store.recent({.statusClass = 2})), (std::vector<int>{5, 1}));
    QCOMPARE(ids(store.recent({.minUs = 3000})), (std::vector<int>{5, 4, 3}));
    QCOMPARE(ids(store.recent({.route = "b", .statusClass = 5, .minUs = 10'000})),
             (std::vector<int>{4}));
    QCOMPARE(ids(store.recent({.limit = 2, .route = "a"})), (std::vector<int>{5, 2}));
    QVERIFY(store.recent({.route = "nope"}).empty());
  }

  void findsTheNewestTraceById() {
    TraceStore store(16);
    auto first = simple(200, 1, "a", 9);
    auto second = simple(500, 2, "b", 9);  // the same trace id, a later request
    store.push(*first);
    store.push(*simple(200, 1, "c", 10));
    store.push(*second);
    auto found = store.byId(first->traceId);
    QVERIFY(found);
    QCOMPARE(int(found->status), 500);
    QVERIFY(!store.byId(simple(0, 0, "", 99)->traceId));
  }

  // Writers on several threads with no lock, a reader copying all the while: every trace the
  // reader gets is whole (never half of two traces), and the ring ends up with the newest.
  void concurrentWritersAndReadersNeverSeeTornTraces() {
    constexpr int kWriters = 4;
    constexpr std::uint64_t kPerWriter = 20000;
    TraceStore store(256);
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> readTraces{0}, torn{0};
    std::thread reader([&] {
      while (!done.load()) {
        for (const auto& t : store.recent({.limit = 1000})) {
          readTraces.fetch_add(1);
          if (!consistent(t)) torn.fetch_add(1);
        }
      }
    });
    std::vector<std::thread> writers;
    std::atomic<std::uint64_t> kept{0};
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (std::uint64_t i = 0; i < kPerWriter; ++i) {
          auto t = makeTrace(1 + w * kPerWriter + i);
          if (store.push(*t)) kept.fetch_add(1);
        }
      });
    }
    for (auto& t : writers) t.join();
    done = true;
    reader.join();

    QCOMPARE(torn.load(), std::uint64_t{0});
    QVERIFY(readTraces.load() > 0);
    QCOMPARE(store.pushed(), std::uint64_t{kWriters * kPerWriter});
    QCOMPARE(kept.load() + store.dropped(), std::uint64_t{kWriters * kPerWriter});
    auto all = store.recent({.limit = 1000});
    QVERIFY(all.size() + store.dropped() >= 256);
    QVERIFY(all.size() <= 256);
    std::set<std::uint64_t> seeds;
    for (const auto& t : all) {
      QVERIFY(consistent(t));
      seeds.insert((t.rootSpanId - 7) / 31);
    }
    QCOMPARE(seeds.size(), all.size());  // no trace twice
  }
};

QTEST_GUILESS_MAIN(TraceStoreTest)
#include "trace_store_test.moc"
