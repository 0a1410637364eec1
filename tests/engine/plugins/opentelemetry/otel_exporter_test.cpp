// The opentelemetry plugin's export machinery on its own: the lock-free queue, the HTTP
// client, and the exporter's batching, retries and flush against a real test collector.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "../../net/closed_port.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "plugins/opentelemetry/bounded_queue.h"
#include "plugins/opentelemetry/exporter.h"
#include "plugins/opentelemetry/http_poster.h"
#include "test_collector.h"
#include "trace/span_names.h"

using namespace archway;
using namespace archway::plugins::otel;
namespace pb = opentelemetry::proto;
using namespace std::chrono_literals;

namespace {

trace::FinishedTrace makeTrace(std::uint8_t id, std::uint16_t spans = 2) {
  trace::FinishedTrace t;
  t.traceId[0] = 0x42;
  t.traceId[15] = id;
  t.rootSpanId = 1000 + id;
  t.startUnixNs = 1'700'000'000'000'000'000;
  t.durationUs = 100;
  t.status = 200;
  t.method.assign("GET");
  t.path.assign("/x");
  t.spanCount = spans;
  for (std::uint16_t i = 0; i < spans; ++i) t.spans[i] = {trace::names::kRoute, i, 1, 0};
  return t;
}

ExporterConfig configFor(const std::string& url) {
  ExporterConfig ec;
  ec.endpointText = url;
  ec.endpoint = *parseHttpUrl(ec.endpointText);
  ec.resource = trace::resourceAttributes("node", "1.0", {});
  ec.maxCoalescingDelay = 0;
  ec.initialRetryDelay = 0.01;
  ec.maxRetryTime = 5;
  return ec;
}

// Trace ids (last byte) in the order the collector got them.
std::vector<int> receivedIds(TestCollector& c, int* batches = nullptr) {
  std::vector<int> ids;
  int n = 0;
  for (const auto& r : c.requests()) {
    pb::collector::trace::v1::ExportTraceServiceRequest req;
    if (!req.ParseFromString(r.body)) continue;
    ++n;
    for (const auto& s : req.resource_spans(0).scope_spans(0).spans()) {
      if (s.name() == "kong") ids.push_back(static_cast<unsigned char>(s.trace_id()[15]));
    }
  }
  if (batches) *batches = n;
  return ids;
}

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

}  // namespace

class OtelExporterTest : public QObject {
  Q_OBJECT
 private slots:
  // ------------------------------------------------------------------------ queue
  void queueRejectsWhenFullAndKeepsOrder() {
    BoundedQueue<int> q(4);
    QCOMPARE(q.capacity(), std::size_t{4});
    for (int i = 0; i < 4; ++i) QVERIFY(q.tryPush(i));
    int extra = 99;
    QVERIFY(!q.tryPush(extra));
    int v = -1;
    for (int i = 0; i < 4; ++i) {
      QVERIFY(q.tryPop(v));
      QCOMPARE(v, i);
    }
    QVERIFY(!q.tryPop(v));
  }

  void queueDeliversEveryItemOnceUnderConcurrentProducers() {
    constexpr int kProducers = 4, kEach = 50000;
    BoundedQueue<std::unique_ptr<int>> q(1024);
    std::atomic<int> producing{kProducers};
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kEach; ++i) {
          auto item = std::make_unique<int>(p * kEach + i);
          while (!q.tryPush(item)) std::this_thread::yield();
        }
        producing--;
      });
    }
    std::vector<char> seen(kProducers * kEach, 0);
    int got = 0;
    std::unique_ptr<int> item;
    while (got < kProducers * kEach) {
      if (q.tryPop(item)) {
        QVERIFY(item);
        QCOMPARE(seen[*item], char(0));
        seen[*item] = 1;
        ++got;
      }
    }
    for (auto& t : producers) t.join();
    QVERIFY(!q.tryPop(item));
  }

  // ------------------------------------------------------------------------ http
  void parsesHttpUrls() {
    auto u = parseHttpUrl("http://collector.local:4318/v1/traces?x=1");
    QVERIFY(u.ok());
    QCOMPARE(u->host, std::string("collector.local"));
    QCOMPARE(int(u->port), 4318);
    QCOMPARE(u->target, std::string("/v1/traces?x=1"));
    QCOMPARE(u->hostHeader, std::string("collector.local:4318"));
    u = parseHttpUrl("http://collector");
    QVERIFY(u.ok());
    QCOMPARE(int(u->port), 80);
    QCOMPARE(u->target, std::string("/"));
    QCOMPARE(u->hostHeader, std::string("collector"));
    u = parseHttpUrl("http://[::1]:4318/v1/traces");
    QVERIFY(u.ok());
    QCOMPARE(u->host, std::string("::1"));
    QVERIFY(!parseHttpUrl("https://collector/v1/traces").ok());
    QVERIFY(parseHttpUrl("https://collector/v1/traces").errors()[0].message.find("https") !=
            std::string::npos);
    QVERIFY(!parseHttpUrl("ftp://x/").ok());
    QVERIFY(!parseHttpUrl("not a url").ok());
  }

  void postsOverOneKeptAliveConnection() {
    TestCollector c;
    HttpPoster poster(*parseHttpUrl(c.url()), {});
    for (int i = 0; i < 3; ++i) {
      auto r = poster.post("application/x-protobuf", {{"X-Token", "t"}}, "abc");
      QCOMPARE(r.status, 200);
    }
    QCOMPARE(c.connections(), 1);
    auto reqs = c.requests();
    QCOMPARE(reqs.size(), std::size_t{3});
    QCOMPARE(reqs[0].method, std::string("POST"));
    QCOMPARE(reqs[0].target, std::string("/v1/traces"));
    QCOMPARE(reqs[0].headers["content-type"], std::string("application/x-protobuf"));
    QCOMPARE(reqs[0].headers["x-token"], std::string("t"));
    QCOMPARE(reqs[0].headers["host"], "127.0.0.1:" + std::to_string(c.port()));
    QCOMPARE(reqs[2].body, std::string("abc"));
  }

  void reportsStatusAndBodyOfErrors() {
    TestCollector c;
    c.script({503});
    HttpPoster poster(*parseHttpUrl(c.url()), {});
    auto r = poster.post("application/x-protobuf", {}, "x");
    QCOMPARE(r.status, 503);
    QCOMPARE(r.body, std::string("{\"error\":\"scripted\"}"));
  }

  void connectionRefusedIsAnError() {
    archway::testing::ClosedPort closed;
    HttpPoster poster(*parseHttpUrl("http://127.0.0.1:" + std::to_string(closed.port()) + "/"), {});
    auto r = poster.post("text/plain", {}, "x");
    QCOMPARE(r.status, 0);
    QVERIFY2(r.error.find("failed to connect") != std::string::npos, r.error.c_str());
  }

  void silentServerTimesOut() {
    // A listening socket nobody accepts from: the connection completes, no answer comes.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 4);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    HttpPoster poster(*parseHttpUrl("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/"),
                      {.connectMs = 1000, .sendMs = 1000, .readMs = 150});
    auto t0 = std::chrono::steady_clock::now();
    auto r = poster.post("text/plain", {}, "x");
    auto took = std::chrono::steady_clock::now() - t0;
    ::close(fd);
    QCOMPARE(r.status, 0);
    QVERIFY2(r.error.find("timeout") != std::string::npos, r.error.c_str());
    QVERIFY(took >= 140ms && took < 2s);
  }

  // --------------------------------------------------------------------- exporter
  void exportsQueuedTracesAsOtlp() {
    TestCollector c;
    auto ec = configFor(c.url());
    ec.headers = {{"Authorization", "Bearer x"}};
    Exporter e(ec);
    QVERIFY(e.enqueue(makeTrace(1)));
    QVERIFY(c.waitFor(1));
    auto reqs = c.requests();
    QCOMPARE(reqs[0].headers["content-type"], std::string("application/x-protobuf"));
    QCOMPARE(reqs[0].headers["authorization"], std::string("Bearer x"));
    QCOMPARE(receivedIds(c), (std::vector<int>{1}));
    QVERIFY(eventually([&] { return e.counters().sentTraces == 1; }));
  }

  void batchesBySpanCount() {
    TestCollector c;
    auto ec = configFor(c.url());
    ec.maxBatchSpans = 6;  // each trace is 3 OTLP spans: two traces per batch
    ec.maxCoalescingDelay = 0.3;
    Exporter e(ec);
    for (std::uint8_t i = 1; i <= 6; ++i) QVERIFY(e.enqueue(makeTrace(i)));
    QVERIFY(c.waitFor(3));
    int batches = 0;
    QCOMPARE(receivedIds(c, &batches), (std::vector<int>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(batches, 3);
  }

  void coalescesWithinTheDelay() {
    TestCollector c;
    auto ec = configFor(c.url());
    ec.maxCoalescingDelay = 0.3;
    Exporter e(ec);
    for (std::uint8_t i = 1; i <= 5; ++i) QVERIFY(e.enqueue(makeTrace(i)));
    QVERIFY(c.waitFor(1));
    std::this_thread::sleep_for(100ms);
    int batches = 0;
    QCOMPARE(receivedIds(c, &batches).size(), std::size_t{5});
    QCOMPARE(batches, 1);
  }

  void retriesServerErrorsWithBackoff() {
    TestCollector c;
    c.script({503, 502});
    Exporter e(configFor(c.url()));
    QVERIFY(e.enqueue(makeTrace(7)));
    QVERIFY(c.waitFor(3));
    QCOMPARE(receivedIds(c), (std::vector<int>{7, 7, 7}));
    QVERIFY(eventually([&] { return e.counters().sentBatches == 1; }));
    QCOMPARE(e.counters().failedBatches, std::uint64_t{0});
  }

  void doesNotRetryClientErrors() {
    TestCollector c;
    c.script({400});
    Exporter e(configFor(c.url()));
    QVERIFY(e.enqueue(makeTrace(8)));
    QVERIFY(c.waitFor(1));
    QVERIFY(eventually([&] { return e.counters().failedBatches == 1; }));
    std::this_thread::sleep_for(100ms);
    QCOMPARE(c.requests().size(), std::size_t{1});
    QCOMPARE(e.counters().droppedTraces, std::uint64_t{1});
  }

  void givesUpAfterMaxRetryTime() {
    archway::testing::ClosedPort closed;
    auto ec = configFor("http://127.0.0.1:" + std::to_string(closed.port()) + "/v1/traces");
    ec.maxRetryTime = 0.2;
    Exporter e(ec);
    QVERIFY(e.enqueue(makeTrace(9)));
    QVERIFY(eventually([&] { return e.counters().failedBatches == 1; }, 5s));
    QCOMPARE(e.counters().sentBatches, std::uint64_t{0});
  }

  void fullQueueDropsInsteadOfBlocking() {
    // A collector that accepts and never answers keeps the sender busy with the first trace.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 4);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    auto ec = configFor("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/");
    ec.maxEntries = 4;
    ec.maxBatchSpans = 1;
    ec.timeouts.readMs = 200;
    ec.timeouts.connectMs = 200;
    {
      Exporter e(ec);
      QVERIFY(e.enqueue(makeTrace(0)));
      std::this_thread::sleep_for(50ms);
      int accepted = 0;
      for (std::uint8_t i = 1; i <= 50; ++i) accepted += e.enqueue(makeTrace(i)) ? 1 : 0;
      QCOMPARE(accepted, 4);
      QCOMPARE(e.counters().droppedFull, std::uint64_t{46});
    }
    ::close(fd);
  }

  void flushesWhenDestroyed() {
    TestCollector c;
    auto ec = configFor(c.url());
    ec.maxCoalescingDelay = 3600;
    {
      Exporter e(ec);
      for (std::uint8_t i = 1; i <= 3; ++i) QVERIFY(e.enqueue(makeTrace(i)));
      std::this_thread::sleep_for(50ms);
    }
    QCOMPARE(receivedIds(c).size(), std::size_t{3});
  }

  void registrySharesExportersWithTheSameSettings() {
    TestCollector c;
    ExporterRegistry reg;
    auto ec = configFor(c.url());
    auto a = reg.get(ec);
    auto b = reg.get(ec);
    QCOMPARE(a.get(), b.get());
    auto other = ec;
    other.headers = {{"X", "y"}};
    auto d = reg.get(other);
    QVERIFY(d.get() != a.get());
    // An exporter nobody holds any more is retired (flushed and stopped) on a later get().
    std::weak_ptr<Exporter> weak = d;
    d.reset();
    reg.get(ec);
    QVERIFY(eventually([&] {
      reg.get(ec);
      return weak.expired();
    }));
  }
};

QTEST_GUILESS_MAIN(OtelExporterTest)
#include "otel_exporter_test.moc"
