// prometheus per_consumer through the real proxy: key-auth identifies two consumers, and
// GET /metrics on the Admin API labels kong_http_requests_total and kong_bandwidth_bytes with
// their usernames; requests without a consumer keep the empty label. Off, every consumer label
// is empty (as before). Turning it on at run time starts the consumer series. promtool accepts
// the text.
#include <QtTest>

#include <memory>
#include <string>

#include "../../metrics/promtool_check.h"
#include "../../proxy/test_upstream.h"
#include "config/declarative.h"
#include "runtime/engine.h"

using namespace archway;

namespace {

std::string kongYml(const std::string& upstream, bool perConsumer) {
  return "_format_version: '3.0'\n"
         "services:\n"
         "- name: svc\n"
         "  url: " +
         upstream +
         "\n"
         "  routes:\n"
         "  - name: keyed\n"
         "    paths: [/keyed]\n"
         "    plugins:\n"
         "    - name: key-auth\n"
         "  - name: open\n"
         "    paths: [/open]\n"
         "consumers:\n"
         "- username: alice\n"
         "  keyauth_credentials: [{key: alice-key}]\n"
         "- username: bob\n"
         "  keyauth_credentials: [{key: bob-key}]\n"
         "plugins:\n"
         "- name: prometheus\n"
         "  config: {per_consumer: " +
         (perConsumer ? "true" : "false") +
         ", status_code_metrics: true, bandwidth_metrics: true}\n";
}

class Gateway {
 public:
  explicit Gateway(bool perConsumer) {
    auto config = config::parseDeclarative(kongYml(base(), perConsumer));
    if (!config) qFatal("kong.yml did not parse: %s", config.errorText().c_str());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    o.workers = 2;
    o.statsInterval = std::chrono::milliseconds(50);
    auto started = engine_.start(o, std::move(*config));
    if (!started) qFatal("engine did not start: %s", started.errorText().c_str());
  }
  ~Gateway() { engine_.stop(); }

  int request(const std::string& target, const std::string& key = {}) {
    TestClient client(engine_.proxyPort());
    std::map<std::string, std::string> headers;
    if (!key.empty()) headers["apikey"] = key;
    return client.get(target, headers).status;
  }
  std::string metrics() {
    TestClient client(engine_.adminPort());
    return client.get("/metrics").body;
  }
  bool setPerConsumer(bool on) {
    auto config = config::parseDeclarative(kongYml(base(), on));
    return config && engine_.applyConfig(std::move(*config)).ok();
  }

 private:
  std::string base() const { return "http://127.0.0.1:" + std::to_string(upstream_.port()); }
  TestUpstream upstream_;
  runtime::Engine engine_;
};

QString requestsLine(const char* route, int code, const char* consumer, int n) {
  return QStringLiteral(
             "kong_http_requests_total{service=\"svc\",route=\"%1\",code=\"%2\",source=\"service\","
             "workspace=\"default\",consumer=\"%3\"} %4\n")
      .arg(QLatin1String(route))
      .arg(code)
      .arg(QLatin1String(consumer))
      .arg(n);
}

}  // namespace

class PrometheusPerConsumerTest : public QObject {
  Q_OBJECT
 private slots:
  void labelsRequestsAndBandwidthWithTheConsumer() {
    Gateway gw(true);
    for (int i = 0; i < 3; ++i) QCOMPARE(gw.request("/keyed/a", "alice-key"), 200);
    for (int i = 0; i < 2; ++i) QCOMPARE(gw.request("/keyed/b", "bob-key"), 200);
    QCOMPARE(gw.request("/keyed/c"), 401);
    QCOMPARE(gw.request("/open/d"), 200);
    QString text;
    QTRY_VERIFY_WITH_TIMEOUT((text = QString::fromStdString(gw.metrics()),
                              text.contains(requestsLine("open", 200, "", 1))),
                             10000);
    QVERIFY2(text.contains(requestsLine("keyed", 200, "alice", 3)), qPrintable(text));
    QVERIFY2(text.contains(requestsLine("keyed", 200, "bob", 2)), qPrintable(text));
    QVERIFY2(text.contains(requestsLine("keyed", 401, "", 1)), qPrintable(text));
    QVERIFY2(!text.contains(requestsLine("keyed", 200, "", 5)), qPrintable(text));
    for (const char* who : {"alice", "bob"}) {
      const QRegularExpression egress(
          QStringLiteral("kong_bandwidth_bytes\\{service=\"svc\",route=\"keyed\",direction="
                         "\"egress\",workspace=\"default\",consumer=\"%1\"\\} [1-9][0-9]*\\n")
              .arg(QLatin1String(who)));
      QVERIFY2(text.contains(egress), who);
    }
    QVERIFY(text.contains("archway_prometheus_per_consumer_dropped_total 0\n"));
  }

  void offLeavesEveryConsumerLabelEmpty() {
    Gateway gw(false);
    for (int i = 0; i < 3; ++i) QCOMPARE(gw.request("/keyed/a", "alice-key"), 200);
    for (int i = 0; i < 2; ++i) QCOMPARE(gw.request("/keyed/b", "bob-key"), 200);
    QString text;
    QTRY_VERIFY_WITH_TIMEOUT((text = QString::fromStdString(gw.metrics()),
                              text.contains(requestsLine("keyed", 200, "", 5))),
                             10000);
    QVERIFY2(!text.contains("consumer=\"alice\"") && !text.contains("consumer=\"bob\""),
             qPrintable(text));
    QVERIFY(
        text.contains("kong_bandwidth_bytes{service=\"svc\",route=\"keyed\",direction="
                      "\"ingress\",workspace=\"default\",consumer=\"\"}"));
    QVERIFY(!text.contains("archway_prometheus_per_consumer_dropped_total"));
  }

  void turningItOnAtRunTimeStartsTheConsumerSeries() {
    Gateway gw(false);
    QCOMPARE(gw.request("/keyed/a", "alice-key"), 200);
    // The worker records a request after answering it: wait until this one is counted, so it
    // is counted while per_consumer is still off.
    QString text;
    QTRY_VERIFY_WITH_TIMEOUT((text = QString::fromStdString(gw.metrics()),
                              text.contains(requestsLine("keyed", 200, "", 1))),
                             10000);
    QVERIFY(gw.setPerConsumer(true));
    QCOMPARE(gw.request("/keyed/a", "alice-key"), 200);
    QTRY_VERIFY2_WITH_TIMEOUT((text = QString::fromStdString(gw.metrics()),
                               text.contains(requestsLine("keyed", 200, "alice", 1))),
                              qPrintable(text), 10000);
  }

  void passesPromtool() {
    Gateway gw(true);
    QCOMPARE(gw.request("/keyed/a", "alice-key"), 200);
    QCOMPARE(gw.request("/keyed/b", "bob-key"), 200);
    QCOMPARE(gw.request("/open/c"), 200);
    QString text;
    QTRY_VERIFY_WITH_TIMEOUT((text = QString::fromStdString(gw.metrics()),
                              text.contains(requestsLine("open", 200, "", 1)) &&
                                  text.contains(requestsLine("keyed", 200, "bob", 1))),
                             10000);
    const QString problems = promtoolcheck::problems(text.toUtf8());
    QVERIFY2(problems.isEmpty(), qPrintable(problems));
    // promtool does not catch a series given twice: no name and label set may repeat.
    QSet<QString> series;
    for (const QString& line : text.split('\n', Qt::SkipEmptyParts)) {
      if (line.startsWith('#')) continue;
      const QString key = line.left(line.lastIndexOf(' '));
      QVERIFY2(!series.contains(key), qPrintable(key));
      series.insert(key);
    }
  }
};

QTEST_GUILESS_MAIN(PrometheusPerConsumerTest)
#include "prometheus_per_consumer_test.moc"
