// /metrics, /archway/stats and /archway/stats/stream on a real engine, over loopback HTTP.
#include <QtNetwork/QTcpSocket>
#include <QtTest>

#include <boost/json/parse.hpp>

#include "config/declarative.h"
#include "demo/demo_server.h"
#include "runtime/engine.h"

using namespace archway;

namespace {

// One HTTP/1.1 request with Connection: close; returns the raw response.
QByteArray fetch(quint16 port, const QByteArray& path, int waitMs = 5000) {
  QTcpSocket s;
  s.connectToHost(QHostAddress::LocalHost, port);
  if (!s.waitForConnected(waitMs)) return {};
  s.write("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  QByteArray out;
  while (s.waitForReadyRead(waitMs)) out += s.readAll();
  return out;
}

QByteArray bodyOf(const QByteArray& response) {
  return response.mid(response.indexOf("\r\n\r\n") + 4);
}

}  // namespace

class AdminObservabilityTest : public QObject {
  Q_OBJECT
 private:
  demo::DemoServer demo_;
  runtime::Engine engine_;

 private slots:
  void initTestCase() {
    auto port = demo_.start("127.0.0.1", 0);
    QVERIFY(port.ok());
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: demo\n  url: http://127.0.0.1:" +
        std::to_string(*port) +
        "\n  routes: [{name: anything, paths: [/anything], "
        "strip_path: false}]\n");
    QVERIFY(c.ok());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    o.workers = 1;
    o.statsInterval = std::chrono::milliseconds(50);
    QVERIFY(engine_.start(o, std::move(*c)).ok());
    for (int i = 0; i < 5; ++i)
      QVERIFY(fetch(engine_.proxyPort(), "/anything").startsWith("HTTP/1.1 200"));
    QTRY_VERIFY(engine_.latestStats()->total.requests >= 5);
  }
  void cleanupTestCase() {
    engine_.stop();
    demo_.stop();
  }

  void metricsUseKongNames() {
    QByteArray r = fetch(engine_.adminPort(), "/metrics");
    QVERIFY2(r.startsWith("HTTP/1.1 200"), r.constData());
    QVERIFY(r.contains("Content-Type: text/plain; version=0.0.4"));
    QVERIFY2(
        r.contains("kong_http_requests_total{service=\"demo\",route=\"anything\",code=\"200\""),
        r.constData());
    QVERIFY(r.contains("kong_request_latency_ms_bucket{service=\"demo\",route=\"anything\""));
    QVERIFY(r.contains("kong_nginx_connections_total{"));
  }

  void statsJsonNamesRoutes() {
    QByteArray r = fetch(engine_.adminPort(), "/archway/stats");
    QVERIFY(r.startsWith("HTTP/1.1 200"));
    auto v = boost::json::parse(bodyOf(r).toStdString()).as_object();
    const auto& routes = v.at("routes").as_array();
    QCOMPARE(routes.size(), std::size_t{1});
    QCOMPARE(routes[0].as_object().at("name").as_string(), "anything");
    QVERIFY(routes[0].as_object().at("requests").to_number<std::uint64_t>() >= 5);
  }

  void streamSendsOneEventPerInterval() {
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, engine_.adminPort());
    QVERIFY(s.waitForConnected(5000));
    s.write("GET /archway/stats/stream HTTP/1.1\r\nHost: t\r\n\r\n");
    QByteArray got;
    QTRY_VERIFY_WITH_TIMEOUT((got += s.readAll(), got.count("\ndata: ") >= 3), 10000);
    QVERIFY(got.contains("Content-Type: text/event-stream"));
    const int first = got.indexOf("data: ") + 6;
    const QByteArray event = got.mid(first, got.indexOf("\n\n", first) - first);
    QVERIFY(boost::json::parse(event.toStdString()).as_object().contains("routes"));
  }
};

QTEST_GUILESS_MAIN(AdminObservabilityTest)
#include "admin_observability_test.moc"
