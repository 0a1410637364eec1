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
#include <memory>
#include <string>
#include <thread>

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

// A port nothing listens on: bound once by us, then released.
std::uint16_t closedPort() {
  asio::io_context ctx;
  tcp::acceptor a(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

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
    Plan plan;
    plan.url = "http://127.0.0.1:" + std::to_string(closedPort()) + "/";
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
