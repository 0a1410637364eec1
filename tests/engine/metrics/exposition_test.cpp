#include <QtTest>

#include <boost/json/parse.hpp>

#include "metrics/exposition.h"
#include "metrics/stats_merger.h"
#include "promtool_check.h"

using namespace archway::metrics;

namespace {

std::shared_ptr<const StatsFrame> sampleFrame() {
  static WorkerStats worker;
  static StatsMerger merger({&worker}, 0.25);
  auto table = std::make_shared<EntityTable>();
  table->routes.push_back({0, "r-id", "orders", "s-id", "shop"});
  merger.setEntities(table);
  for (int i = 0; i < 90; ++i) worker.route(0)->record({200, 3000, 2500, 100, 300, true});
  for (int i = 0; i < 10; ++i) worker.route(0)->record({503, 40000, 39000, 100, 50, true});
  worker.route(0)->record({404, 800, 0, 80, 40, false});
  return merger.merge(1000);
}

}  // namespace

class ExpositionTest : public QObject {
  Q_OBJECT
 private slots:
  void usesKongNamesAndLabels() {
    auto frame = sampleFrame();
    ExpositionInput in{
        frame.get(),
        {{"backend", "10.0.0.1:80", "10.0.0.1:80", "unhealthy"},
         {"backend", "api.internal:8080", "10.0.0.7:8080", "healthy"},
         {"backend", "gone.internal:80", "", "dns_error"}},
        "node-1",
        "0.1.0",
        1234,
        true};
    const QString text = QString::fromStdString(renderPrometheus(in));
    QVERIFY(
        text.contains("kong_http_requests_total{service=\"shop\",route=\"orders\",code=\"200\","
                      "source=\"service\","
                      "workspace=\"default\",consumer=\"\"} 90\n"));
    QVERIFY(
        text.contains("code=\"503\",source=\"service\",workspace=\"default\",consumer=\"\"} 10\n"));
    QVERIFY(
        text.contains("kong_request_latency_ms_bucket{service=\"shop\",route=\"orders\",workspace="
                      "\"default\",le=\"5\"} 91\n"));
    QVERIFY(
        text.contains("kong_request_latency_ms_bucket{service=\"shop\",route=\"orders\",workspace="
                      "\"default\",le=\"+Inf\"} 101\n"));
    QVERIFY(
        text.contains("kong_request_latency_ms_count{service=\"shop\",route=\"orders\",workspace="
                      "\"default\"} 101\n"));
    QVERIFY(text.contains(
        "kong_bandwidth_bytes{service=\"shop\",route=\"orders\",direction=\"egress\""));
    QVERIFY(
        text.contains("kong_upstream_target_health{upstream=\"backend\",target=\"10.0.0.1:80\","
                      "address=\"10.0.0.1:80\","
                      "state=\"unhealthy\",subsystem=\"http\"} 1\n"));
    QVERIFY(text.contains("state=\"healthy\",subsystem=\"http\"} 0\n"));
    QVERIFY(text.contains("kong_upstream_target_health{upstream=\"backend\",target=\"api.internal:"
                          "8080\",address=\"10.0.0.7:8080\",state=\"healthy\",subsystem=\"http\"} 1\n"));
    QVERIFY(text.contains("kong_upstream_target_health{upstream=\"backend\",target=\"gone.internal:"
                          "80\",address=\"\",state=\"dns_error\",subsystem=\"http\"} 1\n"));
  }

  void passesPromtool() {
    auto frame = sampleFrame();
    ExpositionInput in{
        frame.get(), {{"backend", "10.0.0.1:80", "healthy"}}, "node-1", "0.1.0", 1234, true};
    const QString problems =
        promtoolcheck::problems(QByteArray::fromStdString(renderPrometheus(in)));
    QVERIFY2(problems.isEmpty(), qPrintable(problems));
  }

  void statsJsonHasTheDocumentedShape() {
    auto frame = sampleFrame();
    const std::string text = renderStatsJson(*frame);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(text, ec);
    QVERIFY2(!ec, text.c_str());
    auto v = parsed.as_object();
    const auto& route = v.at("routes").as_array().at(0).as_object();
    QCOMPARE(route.at("name").as_string(), "orders");
    QVERIFY(route.at("requests").to_number<std::uint64_t>() >= 101);
    QVERIFY(route.at("errors_5xx").to_number<std::uint64_t>() >= 10);
    QVERIFY(route.at("errors_4xx").to_number<std::uint64_t>() >= 1);
    for (auto key : {"p50", "p95", "p99", "max"})
      QVERIFY(route.at("latency_ms").as_object().contains(key));
    QVERIFY(v.contains("services"));
    QVERIFY(v.at("connections").as_object().contains("active"));
  }
};

QTEST_GUILESS_MAIN(ExpositionTest)
#include "exposition_test.moc"
