// RemoteNode against real Engines (Admin API and proxy on port 0, the demo upstream behind them):
// stats frames arrive from the node's stats stream, its traces and its access and error log
// lines are polled, a refused token and an unreachable node are reported, and the console
// reconnects when the node comes back.
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QtTest>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "apps/admin_client.h"
#include "config/declarative.h"
#include "core/log.h"
#include "demo/demo_server.h"
#include "models/remote_node.h"
#include "runtime/engine.h"

using namespace archway;
using models::RemoteNode;
using models::RemoteOptions;

class RemoteNodeTest : public QObject {
  Q_OBJECT
 private:
  demo::DemoServer upstream_;
  std::uint16_t upstreamPort_ = 0;

  std::unique_ptr<runtime::Engine> startEngine(const std::string& adminListen,
                                               const std::string& token = {}) {
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = adminListen;
    o.adminToken = token;
    o.workers = 1;
    o.tracingSampleRate = 1.0;
    auto config = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: demo\n  url: http://127.0.0.1:" +
        std::to_string(upstreamPort_) + "\n  routes:\n  - {name: hello, paths: [/hello]}\n");
    if (!config) return nullptr;
    auto engine = std::make_unique<runtime::Engine>();
    if (!engine->start(o, *config)) return nullptr;
    return engine;
  }

  static int get(const runtime::Engine& engine, const std::string& path) {
    auto client =
        apps::AdminClient::create("http://127.0.0.1:" + std::to_string(engine.proxyPort()), "");
    if (!client) return -1;
    auto r = (*client)->request("GET", path);
    return r ? r->status : -1;
  }

  // A GET on a connection the gateway closes after it. The close is read only once the gateway
  // has finished the request, its access log decision included, not merely answered it.
  static int getToTheEnd(const runtime::Engine& engine, const std::string& path) {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), engine.proxyPort()}, ec);
    if (ec) return -1;
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    asio::write(s, asio::buffer(request), ec);
    std::string answer;
    asio::read(s, asio::dynamic_buffer(answer), ec);  // ends only with the gateway's close
    if (answer.compare(0, 9, "HTTP/1.1 ") != 0) return -1;
    return std::atoi(answer.c_str() + 9);
  }

  static RemoteOptions optionsFor(std::uint16_t adminPort, const std::string& token = {}) {
    RemoteOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(adminPort);
    o.token = token;
    o.minBackoff = std::chrono::milliseconds(50);
    o.maxBackoff = std::chrono::milliseconds(200);
    o.poll = std::chrono::milliseconds(100);
    return o;
  }

 private slots:
  void initTestCase() {
    qRegisterMetaType<RemoteNode::State>();
    auto port = upstream_.start("127.0.0.1", 0);
    QVERIFY2(port.ok(), port.errorText().c_str());
    upstreamPort_ = *port;
  }
  void cleanupTestCase() { upstream_.stop(); }

  void statsFramesArriveFromTheStatsStream() {
    auto engine = startEngine("127.0.0.1:0", "s3cret");
    QVERIFY(engine);
    RemoteNode node;
    std::shared_ptr<const metrics::StatsFrame> last;
    connect(&node, &RemoteNode::statsUpdated, &node,
            [&last](std::shared_ptr<const metrics::StatsFrame> f) { last = std::move(f); });
    QCOMPARE(node.start(optionsFor(engine->adminPort(), "s3cret")), QString());
    QTRY_COMPARE_WITH_TIMEOUT(node.state(), RemoteNode::State::connected, 10000);
    QVERIFY(node.message().isEmpty());
    for (int i = 0; i < 5; ++i) QCOMPARE(get(*engine, "/hello/anything"), 200);
    // The node's own counts, through its stream.
    QTRY_VERIFY_WITH_TIMEOUT(last && last->total.requests >= 5, 10000);
    QCOMPARE(last->routes.size(), std::size_t(1));
    QCOMPARE(last->routes[0].name, std::string("hello"));
    QVERIFY(last->routes[0].status2xx >= 5);
    node.stop();
    QCOMPARE(node.state(), RemoteNode::State::stopped);
    engine->stop(std::chrono::milliseconds(200));
  }

  void tracesArePolledWhileWanted() {
    auto engine = startEngine("127.0.0.1:0");
    QVERIFY(engine);
    QCOMPARE(get(*engine, "/hello/status/503"), 503);
    RemoteNode node;
    QSignalSpy updated(&node, &RemoteNode::tracesUpdated);
    QCOMPARE(node.start(optionsFor(engine->adminPort())), QString());
    QTRY_COMPARE_WITH_TIMEOUT(node.state(), RemoteNode::State::connected, 10000);
    QVERIFY(node.recentTraces({}).empty());  // not wanted yet: not polled
    node.setTracesWanted(true);
    QTRY_VERIFY_WITH_TIMEOUT(!updated.isEmpty(), 10000);
    trace::TraceQuery fiveHundreds;
    fiveHundreds.statusClass = 5;
    auto traces = node.recentTraces(fiveHundreds);
    QVERIFY(!traces.empty());
    QCOMPARE(traces[0].status, std::uint16_t(503));
    QCOMPARE(traces[0].route(), std::string_view("hello"));
    QVERIFY(traces[0].spanCount > 0);
    engine->stop(std::chrono::milliseconds(200));
  }

  // The access and error log lines of the node, polled over its Admin API only while wanted,
  // each poll asking only for what is new (no line twice), oldest first as the models take them.
  void logsArePolledWhileWanted() {
    auto engine = startEngine("127.0.0.1:0");
    QVERIFY(engine);
    RemoteNode node;
    QSignalSpy lines(&node, &RemoteNode::accessLogLines);
    std::vector<std::vector<core::log::Record>> records;  // one batch per delivery
    connect(&node, &RemoteNode::errorLogRecords, &node,
            [&records](const std::vector<core::log::Record>& batch) { records.push_back(batch); });
    QSignalSpy notices(&node, &RemoteNode::accessLogNotice);
    QCOMPARE(node.start(optionsFor(engine->adminPort())), QString());
    QTRY_COMPARE_WITH_TIMEOUT(node.state(), RemoteNode::State::connected, 10000);
    QCOMPARE(getToTheEnd(*engine, "/hello/anything/unread"), 200);  // nobody reads: not kept

    node.setAccessLogWanted(true);
    // No --access-log file on the node: it keeps lines from the first read on, and says so.
    QTRY_VERIFY_WITH_TIMEOUT(!notices.isEmpty(), 10000);
    QVERIFY2(notices.last().at(0).toString().contains("--access-log"),
             qPrintable(notices.last().at(0).toString()));
    QCOMPARE(get(*engine, "/hello/anything/one"), 200);
    QCOMPARE(get(*engine, "/hello/status/503"), 503);
    const auto paths = [&lines] {
      QStringList out;
      for (const auto& args : lines) {
        for (const QString& line : args.at(0).toStringList()) {
          const auto o = QJsonDocument::fromJson(line.toUtf8()).object();
          out << o.value("path").toString() + " " + QString::number(o.value("status").toInt());
        }
      }
      return out;
    };
    QTRY_COMPARE_WITH_TIMEOUT(paths().size(), 2, 10000);
    QCOMPARE(paths(), (QStringList{"/hello/anything/one 200", "/hello/status/503 503"}));
    QCOMPARE(get(*engine, "/hello/anything/two"), 200);
    QTRY_COMPARE_WITH_TIMEOUT(paths().size(), 3, 10000);
    QCOMPARE(paths().last(), QStringLiteral("/hello/anything/two 200"));
    node.setAccessLogWanted(false);

    core::log::warn("remote node log marker", {{"k", "v"}});
    core::log::flush();
    node.setErrorLogWanted(true);
    const auto markers = [&records] {
      int n = 0;
      for (const auto& batch : records) {
        for (const auto& r : batch) {
          if (r.message != "remote node log marker") continue;
          if (r.level != core::log::Level::warn || r.fields.size() != 1 ||
              r.fields[0] != std::pair<std::string, std::string>("k", "v"))
            return -1;
          ++n;
        }
      }
      return n;
    };
    QTRY_COMPARE_WITH_TIMEOUT(markers(), 1, 10000);
    // Later polls ask only for newer records: the marker comes once.
    const auto polls = records.size();
    core::log::warn("remote node second marker", {});
    QTRY_VERIFY_WITH_TIMEOUT(records.size() > polls, 10000);
    QCOMPARE(markers(), 1);
    node.stop();
    engine->stop(std::chrono::milliseconds(200));
  }

  void aRefusedTokenIsReportedAs401() {
    auto engine = startEngine("127.0.0.1:0", "s3cret");
    QVERIFY(engine);
    RemoteNode node;
    QCOMPARE(node.start(optionsFor(engine->adminPort(), "wrong")), QString());
    QTRY_COMPARE_WITH_TIMEOUT(node.state(), RemoteNode::State::unauthorized, 10000);
    QVERIFY2(node.message().contains("401") && node.message().contains("--token"),
             qPrintable(node.message()));
    engine->stop(std::chrono::milliseconds(200));
  }

  void anUnreachableNodeIsReportedThenReconnectedWhenItComesBack() {
    auto engine = startEngine("127.0.0.1:0");
    QVERIFY(engine);
    const std::uint16_t port = engine->adminPort();
    RemoteNode node;
    QSignalSpy states(&node, &RemoteNode::stateChanged);
    QCOMPARE(node.start(optionsFor(port)), QString());
    QTRY_COMPARE_WITH_TIMEOUT(node.state(), RemoteNode::State::connected, 10000);

    engine->stop(std::chrono::milliseconds(200));
    engine.reset();
    QTRY_COMPARE_WITH_TIMEOUT(node.state(), RemoteNode::State::unreachable, 10000);
    QVERIFY2(node.message().contains("127.0.0.1:" + QString::number(port)) ||
                 node.message().contains("ended"),
             qPrintable(node.message()));
    // Still retrying: it leaves `unreachable` for `connecting` again.
    const int before = states.size();
    QTRY_VERIFY_WITH_TIMEOUT(states.size() > before + 1, 10000);

    engine = startEngine("127.0.0.1:" + std::to_string(port));
    QVERIFY(engine);
    QTRY_COMPARE_WITH_TIMEOUT(node.state(), RemoteNode::State::connected, 10000);
    engine->stop(std::chrono::milliseconds(200));
  }

  void samplingIsReadAndChangedOnTheNode() {
    auto engine = startEngine("127.0.0.1:0", "s3cret");
    QVERIFY(engine);
    RemoteNode node;
    std::optional<trace::SamplingPolicy> loaded;
    QString failed;
    connect(&node, &RemoteNode::tracingLoaded, &node,
            [&loaded](const trace::SamplingPolicy& p) { loaded = p; });
    connect(&node, &RemoteNode::tracingFailed, &node, [&failed](const QString& m) { failed = m; });
    QCOMPARE(node.start(optionsFor(engine->adminPort(), "s3cret")), QString());
    node.loadTracing();
    QTRY_VERIFY_WITH_TIMEOUT(loaded.has_value(), 10000);
    QCOMPARE(loaded->rate, 1.0);  // startEngine's
    trace::SamplingPolicy p = *loaded;
    p.rate = 0.125;
    p.slowMs = 42;
    p.keepClientErrors = true;
    p.respectParentSampled = false;
    loaded.reset();
    node.setTracing(p);
    QTRY_VERIFY_WITH_TIMEOUT(loaded.has_value(), 10000);
    QCOMPARE(loaded->rate, 0.125);
    // The node's own sampler changed, and its Admin API says so.
    QCOMPARE(engine->tracing().rate, 0.125);
    QCOMPARE(engine->tracing().slowMs, 42u);
    QCOMPARE(engine->tracing().keepClientErrors, true);
    QCOMPARE(engine->tracing().respectParentSampled, false);
    QCOMPARE(loaded->respectParentSampled, false);
    auto client = apps::AdminClient::create(
        "http://127.0.0.1:" + std::to_string(engine->adminPort()), "s3cret");
    QVERIFY(client);
    auto r = (*client)->request("GET", "/archway/tracing");
    QVERIFY(r);
    QVERIFY2(r->body.find("\"slow_ms\":42") != std::string::npos, r->body.c_str());
    // An out-of-range rate is refused with the node's message; nothing changes.
    p.rate = 2;
    node.setTracing(p);
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 10000);
    QVERIFY2(failed.contains(QStringLiteral("sample_rate")), qPrintable(failed));
    QCOMPARE(engine->tracing().rate, 0.125);
    QVERIFY(failed.contains(QStringLiteral("400")));
  }

  void samplingRefusedByTheTokenIsAnError() {
    auto engine = startEngine("127.0.0.1:0", "s3cret");
    QVERIFY(engine);
    RemoteNode node;
    QString failed;
    connect(&node, &RemoteNode::tracingFailed, &node, [&failed](const QString& m) { failed = m; });
    QCOMPARE(node.start(optionsFor(engine->adminPort(), "wrong")), QString());
    trace::SamplingPolicy p;
    p.rate = 0.5;
    node.setTracing(p);
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 10000);
    QVERIFY2(failed.contains(QStringLiteral("401")), qPrintable(failed));
    QCOMPARE(engine->tracing().rate, 1.0);
  }

  void aBadUrlIsAnErrorAndStartsNothing() {
    RemoteNode node;
    QVERIFY(!node.start({.url = "ftp://127.0.0.1:1"}).isEmpty());
    QCOMPARE(node.state(), RemoteNode::State::stopped);
  }
};

QTEST_GUILESS_MAIN(RemoteNodeTest)
#include "remote_node_test.moc"
