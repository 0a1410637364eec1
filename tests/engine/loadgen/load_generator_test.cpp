#include "loadgen/load_generator.h"

#include <QElapsedTimer>
#include <QtTest>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../net/closed_port.h"
#include "demo/demo_server.h"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using archway::demo::DemoServer;
using archway::loadgen::Plan;
using archway::loadgen::Report;

namespace {

// Answers every request with a tiny 200 except the `stallAt`-th, which it holds for `stall`:
// a server hiccup the open model must show in its percentiles.
class StallServer {
 public:
  StallServer(int stallAt, std::chrono::milliseconds stall) : stallAt_(stallAt), stall_(stall) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ctx_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~StallServer() {
    ctx_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int served() const { return count_.load(); }

 private:
  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(ctx_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    static const std::string kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    std::string buffer;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(
          socket, asio::dynamic_buffer(buffer), "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      buffer.erase(0, n);
      if (++count_ == stallAt_) {
        asio::steady_timer timer(ctx_, stall_);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      auto [wec, written] = co_await asio::async_write(socket, asio::buffer(kResponse),
                                                       asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  int stallAt_;
  std::chrono::milliseconds stall_;
  std::atomic<int> count_{0};
  asio::io_context ctx_;
  tcp::acceptor acceptor_{ctx_};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Answers every request with a tiny 200 and counts request targets by path.
class PathCountingServer {
 public:
  PathCountingServer() {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ctx_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~PathCountingServer() {
    ctx_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int count(const std::string& path) {
    std::lock_guard lock(mutex_);
    return counts_[path];
  }

 private:
  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(ctx_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    static const std::string kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    std::string buffer;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(
          socket, asio::dynamic_buffer(buffer), "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto sp1 = buffer.find(' ');
      auto sp2 = buffer.find(' ', sp1 + 1);
      {
        std::lock_guard lock(mutex_);
        ++counts_[buffer.substr(sp1 + 1, sp2 - sp1 - 1)];
      }
      buffer.erase(0, n);
      auto [wec, written] = co_await asio::async_write(socket, asio::buffer(kResponse),
                                                       asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  std::mutex mutex_;
  std::map<std::string, int> counts_;
  asio::io_context ctx_;
  tcp::acceptor acceptor_{ctx_};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

Report runPlan(const Plan& plan) {
  return archway::loadgen::start(plan)->wait();
}

}  // namespace

class LoadGeneratorTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    auto port = demo_.start("127.0.0.1", 0, 1);
    QVERIFY2(port.ok(), port.errorText().c_str());
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }
  void cleanupTestCase() { demo_.stop(); }

  void closedModelCompletesRequestsWithoutErrors() {
    Plan plan;
    plan.url = base_ + "/anything?x=1";
    plan.connections = 4;
    plan.threads = 2;
    plan.duration = 1000ms;
    auto r = runPlan(plan);
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY(r.requests > 0);
    QCOMPARE(r.errors.total(), std::uint64_t{0});
    QCOMPARE(r.latency.count(), r.requests);
    QVERIFY(r.durationS > 0.9 && r.durationS < 5);
    QVERIFY(!r.timeline.empty());
    QVERIFY(!r.cancelled);
  }

  void openModelKeepsTheAskedRate() {
    Plan plan;
    plan.url = base_ + "/anything";
    plan.connections = 4;
    plan.threads = 2;
    plan.rate = 200;
    plan.duration = 2000ms;
    auto r = runPlan(plan);
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY2(r.requests >= 392 && r.requests <= 408, std::to_string(r.requests).c_str());
    QCOMPARE(r.errors.total(), std::uint64_t{0});
    QVERIFY(!r.rateNotKept);
    QCOMPARE(r.timeline.size(), std::size_t{2});
  }

  void openModelReportsARateItCouldNotKeep() {
    Plan plan;
    plan.url = base_ + "/delay/0.1";
    plan.connections = 1;
    plan.rate = 100;
    plan.duration = 1000ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 0);
    QVERIFY(r.requests < 50);
    QVERIFY(r.rateNotKept);
  }

  void openModelLatencyShowsAStalledResponse() {
    // One connection at a constant rate: a 1 s stall delays every request scheduled during it,
    // and measuring from the intended send time shows that in the high percentiles.
    StallServer stall(50, 1000ms);
    Plan plan;
    plan.url = "http://127.0.0.1:" + std::to_string(stall.port()) + "/";
    plan.connections = 1;
    plan.rate = 100;
    plan.duration = 3000ms;
    auto r = runPlan(plan);
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY(r.requests > 200);
    QVERIFY2(r.latency.percentileUs(0.99) >= 500'000,
             std::to_string(r.latency.percentileUs(0.99)).c_str());
    QVERIFY(r.latency.maxUs() >= 900'000);
    QCOMPARE(r.errors.total(), std::uint64_t{0});
  }

  void connectErrorsAreCountedAgainstAClosedPort() {
    archway::testing::ClosedPort closed;
    Plan plan;
    plan.url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/";
    plan.connections = 2;
    plan.duration = 500ms;
    auto r = runPlan(plan);
    QCOMPARE(r.requests, std::uint64_t{0});
    QVERIFY(r.errors.connect > 0);
    // Retries back off instead of spinning: a handful per connection in half a second.
    QVERIFY2(r.errors.connect < 50, std::to_string(r.errors.connect).c_str());
  }

  void serverErrorsAreCountedAsStatus5xxWithLatency() {
    Plan plan;
    plan.url = base_ + "/status/500";
    plan.connections = 2;
    plan.duration = 500ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 0);
    QCOMPARE(r.errors.status5xx, r.requests);
    QCOMPARE(r.errors.status4xx, std::uint64_t{0});
    QCOMPARE(r.latency.count(), r.requests);
  }

  void clientErrorsAreCountedAsStatus4xx() {
    Plan plan;
    plan.url = base_ + "/status/404";
    plan.connections = 1;
    plan.duration = 300ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 0);
    QCOMPARE(r.errors.status4xx, r.requests);
  }

  void slowResponsesCountAsTimeoutsAndReconnect() {
    Plan plan;
    plan.url = base_ + "/delay/2";
    plan.connections = 1;
    plan.duration = 1000ms;
    plan.timeout = 200ms;
    auto r = runPlan(plan);
    QCOMPARE(r.requests, std::uint64_t{0});
    // Each timeout drops the connection and the next request goes out on a new one.
    QVERIFY2(r.errors.timeout >= 3, std::to_string(r.errors.timeout).c_str());
  }

  void headRequestsAreParsedWithoutABody() {
    Plan plan;
    plan.url = base_ + "/bytes/1000";
    plan.method = "HEAD";
    plan.connections = 1;
    plan.duration = 300ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 0);
    QCOMPARE(r.errors.total(), std::uint64_t{0});
  }

  void postSendsTheBody() {
    Plan plan;
    plan.url = base_ + "/anything";
    plan.method = "POST";
    plan.body = std::string(5000, 'x');
    plan.headers = {{"Content-Type", "text/plain"}};
    plan.connections = 1;
    plan.duration = 300ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 0);
    QCOMPARE(r.errors.total(), std::uint64_t{0});
  }

  void connectionCloseResponsesReconnectWithoutErrors() {
    Plan plan;
    plan.url = base_ + "/anything";
    plan.headers = {{"Connection", "close"}};
    plan.connections = 2;
    plan.duration = 300ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 1);
    QCOMPARE(r.errors.total(), std::uint64_t{0});
  }

  void cancelStopsTheRunWithinMilliseconds() {
    Plan plan;
    plan.url = base_ + "/anything";
    plan.connections = 2;
    plan.duration = 60000ms;
    auto run = archway::loadgen::start(plan);
    QTest::qWait(300);
    QVERIFY(!run->done());
    QElapsedTimer t;
    t.start();
    run->cancel();
    auto r = run->wait();
    QVERIFY2(t.elapsed() < 1000, std::to_string(t.elapsed()).c_str());
    QVERIFY(r.cancelled);
    QVERIFY(run->done());
    QVERIFY(r.requests > 0);
    QVERIFY(r.durationS < 5);
  }

  void cancelInterruptsARequestInFlight() {
    Plan plan;
    plan.url = base_ + "/delay/5";
    plan.connections = 1;
    plan.duration = 60000ms;
    auto run = archway::loadgen::start(plan);
    QTest::qWait(200);
    QElapsedTimer t;
    t.start();
    run->cancel();
    run->wait();
    QVERIFY2(t.elapsed() < 1000, std::to_string(t.elapsed()).c_str());
  }

  void progressIsReportedEveryInterval() {
    Plan plan;
    plan.url = base_ + "/anything";
    plan.connections = 1;
    plan.duration = 1000ms;
    std::atomic<int> calls{0};
    std::atomic<std::uint64_t> requests{0};
    auto r = archway::loadgen::start(
                 plan,
                 [&](const archway::loadgen::Progress& p) {
                   ++calls;
                   requests += p.requests;
                 },
                 100ms)
                 ->wait();
    QVERIFY2(calls >= 5, std::to_string(calls).c_str());
    // The intervals (the last one is handed in at the end) add up to the totals.
    QCOMPARE(requests.load(), r.requests);
  }

  void planWithHttpsIsRejectedClearly() {
    Plan plan;
    plan.url = "https://127.0.0.1/";
    auto s = archway::loadgen::validatePlan(plan);
    QVERIFY(!s.ok());
    QVERIFY2(s.errorText().find("https not supported yet") != std::string::npos,
             s.errorText().c_str());
    auto r = runPlan(plan);
    QVERIFY(r.error.find("https not supported yet") != std::string::npos);
  }

  void invalidPlansAreRejected_data() {
    QTest::addColumn<QString>("field");
    QTest::newRow("url") << "url";
    QTest::newRow("connections") << "connections";
    QTest::newRow("threads") << "threads";
    QTest::newRow("duration") << "duration";
    QTest::newRow("rate") << "rate";
  }
  void invalidPlansAreRejected() {
    QFETCH(QString, field);
    Plan plan;
    plan.url = "http://127.0.0.1:1/";
    if (field == "url") plan.url = "ftp://example.com/";
    if (field == "connections") plan.connections = 0;
    if (field == "threads") plan.threads = 0;
    if (field == "duration") plan.duration = 0ms;
    if (field == "rate") plan.rate = -1;
    auto s = archway::loadgen::validatePlan(plan);
    QVERIFY(!s.ok());
    QCOMPARE(QString::fromStdString(s.errors().front().path), field);
  }

  void stagesRampTheRequestCount() {
    // 0 -> 200/s over 2 s is 200 arrivals, then 200/s held for 1 s is 200 more.
    Plan plan;
    plan.url = base_ + "/anything";
    plan.connections = 4;
    plan.threads = 2;
    plan.stages = {{2000ms, 200}, {1000ms, 200}};
    auto r = runPlan(plan);
    QVERIFY2(r.error.empty(), r.error.c_str());
    QVERIFY2(r.requests >= 380 && r.requests <= 420, std::to_string(r.requests).c_str());
    QCOMPARE(r.errors.total(), std::uint64_t{0});
    QVERIFY(!r.rateNotKept);
    QVERIFY2(r.askedRps > 120 && r.askedRps < 145, std::to_string(r.askedRps).c_str());
    // The ramp shows in the timeline: the first second (0 -> 100/s) has about a quarter of the
    // ramp's arrivals, the third (held at 200/s) about 200.
    QVERIFY(r.timeline.size() >= 3);
    QVERIFY2(r.timeline[0].requests >= 40 && r.timeline[0].requests <= 60,
             std::to_string(r.timeline[0].requests).c_str());
    QVERIFY2(r.timeline[2].requests >= 180 && r.timeline[2].requests <= 220,
             std::to_string(r.timeline[2].requests).c_str());
  }

  void stagesRampDownToZero() {
    Plan plan;
    plan.url = base_ + "/anything";
    plan.connections = 2;
    plan.threads = 1;
    plan.rate = 100;  // the first stage starts here
    plan.stages = {{1000ms, 100}, {1000ms, 0}};
    auto r = runPlan(plan);
    QVERIFY2(r.error.empty(), r.error.c_str());
    // 100 held, then 100 -> 0 is 50.
    QVERIFY2(r.requests >= 142 && r.requests <= 158, std::to_string(r.requests).c_str());
  }

  void warmupRequestsAreNotCounted() {
    StallServer server(-1, 0ms);
    Plan plan;
    plan.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    plan.connections = 2;
    plan.threads = 1;
    plan.rate = 200;
    plan.warmup = 1000ms;
    plan.duration = 1000ms;
    auto r = runPlan(plan);
    QVERIFY2(r.error.empty(), r.error.c_str());
    // The server saw both parts, the report only the measured one.
    QVERIFY2(server.served() >= 390, std::to_string(server.served()).c_str());
    QVERIFY2(r.requests >= 190 && r.requests <= 210, std::to_string(r.requests).c_str());
    QCOMPARE(r.latency.count(), r.requests);
    QVERIFY2(r.durationS > 0.9 && r.durationS < 1.5, std::to_string(r.durationS).c_str());
    QVERIFY(!r.rateNotKept);
  }

  void warmupIsLeftOutOfTheClosedModelToo() {
    StallServer server(-1, 0ms);
    Plan plan;
    plan.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    plan.connections = 1;
    plan.threads = 1;
    plan.warmup = 300ms;
    plan.duration = 300ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 0);
    QVERIFY2(static_cast<std::uint64_t>(server.served()) > r.requests + 10,
             (std::to_string(server.served()) + " " + std::to_string(r.requests)).c_str());
  }

  void weightedUrlsSplitByWeight() {
    // Counted by the demo server's per-path stats would need its internals; a recording
    // server answering every path counts the request lines instead.
    PathCountingServer server;
    Plan plan;
    plan.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/anything/a";
    plan.urlWeight = 1;
    plan.urls = {{"http://127.0.0.1:" + std::to_string(server.port()) + "/anything/b", 3}};
    plan.connections = 2;
    plan.threads = 2;
    plan.rate = 400;
    plan.duration = 1000ms;
    auto r = runPlan(plan);
    QVERIFY2(r.error.empty(), r.error.c_str());
    int a = server.count("/anything/a"), b = server.count("/anything/b");
    QVERIFY2(a + b >= 300, std::to_string(a + b).c_str());
    double shareB = static_cast<double>(b) / (a + b);
    QVERIFY2(shareB > 0.75 - 0.075 && shareB < 0.75 + 0.075,
             (std::to_string(a) + " " + std::to_string(b)).c_str());
  }

  void weightedUrlsWorkAgainstTheDemoServer() {
    Plan plan;
    plan.url = base_ + "/anything/a";
    plan.urls = {{base_ + "/anything/b", 2}};
    plan.connections = 2;
    plan.duration = 300ms;
    auto r = runPlan(plan);
    QVERIFY(r.requests > 0);
    QCOMPARE(r.errors.total(), std::uint64_t{0});
  }

  void urlsOnAnotherHostAreRejected() {
    Plan plan;
    plan.url = "http://127.0.0.1:8000/a";
    plan.urls = {{"http://127.0.0.1:8001/b", 1}};
    auto s = archway::loadgen::validatePlan(plan);
    QVERIFY(!s.ok());
    QCOMPARE(QString::fromStdString(s.errors().front().path), QString("urls[0]"));
    plan.urls = {{"http://127.0.0.1:8000/b", 0}};
    QVERIFY(!archway::loadgen::validatePlan(plan).ok());
  }

  void invalidStagesAreRejected() {
    Plan plan;
    plan.url = "http://127.0.0.1:1/";
    plan.stages = {{0ms, 10}};
    QVERIFY(!archway::loadgen::validatePlan(plan).ok());
    plan.stages = {{1000ms, 0}};
    QVERIFY(!archway::loadgen::validatePlan(plan).ok());  // nothing would be sent
    plan.stages = {{1000ms, -1}};
    QVERIFY(!archway::loadgen::validatePlan(plan).ok());
    plan.stages = {{1000ms, 10}, {1000ms, 0}};
    QVERIFY(archway::loadgen::validatePlan(plan).ok());
  }

  void thresholdsParse_data() {
    QTest::addColumn<QString>("expr");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("metric");
    QTest::addColumn<double>("limit");
    using M = archway::loadgen::Threshold::Metric;
    QTest::newRow("p99 ms") << "p99<50ms" << true << int(M::percentile) << 50000.0;
    QTest::newRow("p50 le") << "p50<=10ms" << true << int(M::percentile) << 10000.0;
    QTest::newRow("p99.9 us") << "p99.9 < 800us" << true << int(M::percentile) << 800.0;
    QTest::newRow("p999") << "p999<1s" << true << int(M::percentile) << 1e6;
    QTest::newRow("max s") << "max<1s" << true << int(M::max) << 1e6;
    QTest::newRow("mean") << "mean<5ms" << true << int(M::mean) << 5000.0;
    QTest::newRow("avg default ms") << "avg<2.5" << true << int(M::mean) << 2500.0;
    QTest::newRow("errors pct") << "errors<1%" << true << int(M::errors) << 0.01;
    QTest::newRow("errors count") << "errors==0" << true << int(M::errors) << 0.0;
    QTest::newRow("rps") << "rps>=1000" << true << int(M::rps) << 1000.0;
    QTest::newRow("upper case") << "P99<50MS" << true << int(M::percentile) << 50000.0;
    QTest::newRow("empty") << "" << false << 0 << 0.0;
    QTest::newRow("no op") << "p99 50ms" << false << 0 << 0.0;
    QTest::newRow("no value") << "p99<" << false << 0 << 0.0;
    QTest::newRow("no metric") << "<5ms" << false << 0 << 0.0;
    QTest::newRow("unknown metric") << "p99x<5ms" << false << 0 << 0.0;
    QTest::newRow("bad percentile") << "p101<5ms" << false << 0 << 0.0;
    QTest::newRow("zero percentile") << "p0<5ms" << false << 0 << 0.0;
    QTest::newRow("bad unit") << "p99<5min" << false << 0 << 0.0;
    QTest::newRow("bad op") << "p99=<5ms" << false << 0 << 0.0;
    QTest::newRow("single equals") << "rps=5" << false << 0 << 0.0;
    QTest::newRow("negative") << "p99<-5ms" << false << 0 << 0.0;
    QTest::newRow("rps unit") << "rps>5ms" << false << 0 << 0.0;
    QTest::newRow("errors over 100%") << "errors<101%" << false << 0 << 0.0;
    QTest::newRow("trailing junk") << "p99<5ms5" << false << 0 << 0.0;
  }
  void thresholdsParse() {
    QFETCH(QString, expr);
    QFETCH(bool, valid);
    QFETCH(int, metric);
    QFETCH(double, limit);
    auto t = archway::loadgen::parseThreshold(expr.toStdString());
    QCOMPARE(t.ok(), valid);
    if (!valid) {
      QVERIFY2(t.errorText().find("'" + expr.toStdString() + "'") != std::string::npos,
               t.errorText().c_str());
      return;
    }
    QCOMPARE(int(t->metric), metric);
    QVERIFY2(std::abs(t->limit - limit) < 1e-9, std::to_string(t->limit).c_str());
    QCOMPARE(QString::fromStdString(t->expr), expr);
  }

  void thresholdsEvaluate_data() {
    QTest::addColumn<QString>("expr");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<double>("value");
    // The report below: 100 responses, 99 at 1 ms and one at 200 ms; 1 5xx, 1 read error;
    // 50 rps.
    QTest::newRow("p50 passes") << "p50<2ms" << true << 1.0;
    QTest::newRow("p50 le fails") << "p50<=0.5ms" << false << 1.0;
    QTest::newRow("max fails") << "max<100ms" << false << 200.0;
    QTest::newRow("max passes") << "max<1s" << true << 200.0;
    QTest::newRow("mean") << "mean<5ms" << true << 2.99;
    QTest::newRow("errors pct fails") << "errors<1%" << false << 100.0 * 2 / 101;
    QTest::newRow("errors pct passes") << "errors<5%" << true << 100.0 * 2 / 101;
    QTest::newRow("errors count") << "errors==0" << false << 2.0;
    QTest::newRow("rps passes") << "rps>=50" << true << 50.0;
    QTest::newRow("rps fails") << "rps>50" << false << 50.0;
  }
  void thresholdsEvaluate() {
    QFETCH(QString, expr);
    QFETCH(bool, ok);
    QFETCH(double, value);
    Report r;
    for (int i = 0; i < 99; ++i) r.latency.record(1000);
    r.latency.record(200000);
    r.requests = 100;
    r.errors.status5xx = 1;
    r.errors.read = 1;
    r.rps = 50;
    auto t = archway::loadgen::parseThreshold(expr.toStdString());
    QVERIFY2(t.ok(), t.errorText().c_str());
    auto result = archway::loadgen::evaluate(*t, r);
    QCOMPARE(result.ok, ok);
    QCOMPARE(QString::fromStdString(result.expr), expr);
    QVERIFY2(std::abs(result.value - value) < value * 0.05 + 1e-9,
             std::to_string(result.value).c_str());
  }

  void latencyThresholdsFailWithoutResponses() {
    auto t = archway::loadgen::parseThreshold("p99<50ms");
    QVERIFY(t.ok());
    QVERIFY(!archway::loadgen::evaluate(*t, Report{}).ok);
  }

  void validPlanPasses() {
    Plan plan;
    plan.url = "http://localhost:8000/path?q=1";
    QVERIFY(archway::loadgen::validatePlan(plan).ok());
  }

 private:
  DemoServer demo_;
  std::string base_;
};

QTEST_GUILESS_MAIN(LoadGeneratorTest)
#include "load_generator_test.moc"
