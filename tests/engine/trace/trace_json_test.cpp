#include <QtTest>

#include <boost/json.hpp>
#include <memory>

#include "admin/trace_handlers.h"
#include "trace/span_names.h"
#include "trace/trace_json.h"
#include "trace/trace_store.h"

using namespace archway;
using namespace archway::trace;
namespace json = boost::json;

namespace {
std::unique_ptr<FinishedTrace> sample(std::string_view route, int status, std::uint64_t us,
                                      std::uint8_t idByte) {
  auto t = std::make_unique<FinishedTrace>();
  t->traceId = *parseTraceIdHex("4bf92f3577b34da6a3ce929d0e0e4700");
  t->traceId[15] = idByte;
  t->rootSpanId = 77;
  t->status = static_cast<std::uint16_t>(status);
  t->durationUs = us;
  t->startUnixNs = 1'700'000'000'123'456'789;
  t->routeName.assign(route);
  t->serviceName.assign("svc");
  t->method.assign("GET");
  t->path.assign("/demo/anything");
  t->spanCount = 2;
  t->spans[0] = SpanRecord{names::kReadHeaders, 0, 12, 0};
  t->spans[1] = SpanRecord{pluginSpanName("key-auth", "access"), 12, 30, 0};
  return t;
}
}  // namespace

class TraceJsonTest : public QObject {
  Q_OBJECT
 private slots:
  void traceHasTheIssueShape() {
    auto t = sample("demo", 503, 12345, 0x36);
    t->upstreamStatus = 503;
    t->parentSpanId = 0x00f067aa0ba902b7ull;
    json::value v = json::parse(renderTraces({*t}));
    const auto& data = v.at("data").as_array();
    QCOMPARE(data.size(), std::size_t{1});
    const auto& o = data[0].as_object();
    QCOMPARE(json::value_to<std::string>(o.at("id")),
             std::string("4bf92f3577b34da6a3ce929d0e0e4736"));
    QCOMPARE(json::value_to<std::string>(o.at("route")), std::string("demo"));
    QCOMPARE(o.at("status").to_number<int>(), 503);
    QCOMPARE(o.at("duration_ms").to_number<double>(), 12.345);
    QCOMPARE(o.at("started_at").to_number<std::int64_t>(), std::int64_t{1'700'000'000'123});
    QCOMPARE(json::value_to<std::string>(o.at("parent_span_id")), std::string("00f067aa0ba902b7"));
    QCOMPARE(o.at("upstream_status").to_number<int>(), 503);
    const auto& spans = o.at("spans").as_array();
    QCOMPARE(spans.size(), std::size_t{2});
    QCOMPARE(json::value_to<std::string>(spans[1].at("name")),
             std::string("plugin key-auth access"));
    QCOMPARE(spans[1].at("start_us").to_number<int>(), 12);
    QCOMPARE(spans[1].at("duration_us").to_number<int>(), 30);
    QCOMPARE(spans[1].as_object().size(), std::size_t{3});
  }

  void unmatchedRouteIsNull() {
    auto t = sample("", 404, 10, 1);
    json::value v = json::parse(renderTrace(*t));
    QVERIFY(v.at("route").is_null());
    QVERIFY(v.at("upstream_status").is_null());
    QVERIFY(v.at("parent_span_id").is_null());
  }

  void routeFallsBackToItsId() {
    auto t = sample("", 200, 10, 1);
    t->routeId.assign("6f3b1a2c-0000-4000-8000-000000000001");
    json::value v = json::parse(renderTrace(*t));
    QCOMPARE(json::value_to<std::string>(v.at("route")),
             std::string("6f3b1a2c-0000-4000-8000-000000000001"));
  }

  // ------------------------------------------------------------------ Admin handlers
  void listAppliesQueryParameters() {
    TraceStore store(32);
    store.push(*sample("a", 200, 1000, 1));
    store.push(*sample("a", 503, 9000, 2));
    store.push(*sample("b", 502, 20'000, 3));
    store.push(*sample("a", 404, 30'000, 4));

    auto ids = [&](std::string_view query) {
      auto r = admin::handleTraceList(store, query);
      std::vector<int> out;
      if (r.status != 200) return std::vector<int>{-r.status};
      const json::value body = json::parse(r.body);
      for (const auto& t : body.at("data").as_array()) {
        auto id = json::value_to<std::string>(t.at("id"));
        out.push_back(std::stoi(id.substr(30), nullptr, 16));
      }
      return out;
    };
    QCOMPARE(ids(""), (std::vector<int>{4, 3, 2, 1}));
    QCOMPARE(ids("limit=2"), (std::vector<int>{4, 3}));
    QCOMPARE(ids("route=a"), (std::vector<int>{4, 2, 1}));
    QCOMPARE(ids("status=5xx"), (std::vector<int>{3, 2}));
    QCOMPARE(ids("status=503"), (std::vector<int>{2}));
    QCOMPARE(ids("min_ms=9"), (std::vector<int>{4, 3, 2}));
    QCOMPARE(ids("min_ms=9.5&route=a"), (std::vector<int>{4}));
    QCOMPARE(ids("route=a&status=4XX&limit=10"), (std::vector<int>{4}));
    QCOMPARE(ids("route=%61"), (std::vector<int>{4, 2, 1}));  // percent-decoded
  }

  void listRejectsBadParameters_data() {
    QTest::addColumn<QString>("query");
    QTest::newRow("limit 0") << "limit=0";
    QTest::newRow("limit big") << "limit=1001";
    QTest::newRow("limit text") << "limit=ten";
    QTest::newRow("status text") << "status=oops";
    QTest::newRow("status class 6") << "status=6xx";
    QTest::newRow("status 99") << "status=99";
    QTest::newRow("min_ms negative") << "min_ms=-1";
    QTest::newRow("min_ms text") << "min_ms=slow";
  }
  void listRejectsBadParameters() {
    QFETCH(QString, query);
    TraceStore store(4);
    auto r = admin::handleTraceList(store, query.toStdString());
    QCOMPARE(r.status, 400);
    QVERIFY(json::parse(r.body).at("message").is_string());
  }

  void byIdFindsOrAnswers404() {
    TraceStore store(4);
    store.push(*sample("a", 200, 1000, 0x36));
    auto r = admin::handleTraceById(store, "4bf92f3577b34da6a3ce929d0e0e4736");
    QCOMPARE(r.status, 200);
    QCOMPARE(json::value_to<std::string>(json::parse(r.body).at("route")), std::string("a"));
    r = admin::handleTraceById(store, "4BF92F3577B34DA6A3CE929D0E0E4736");
    QCOMPARE(r.status, 200);
    r = admin::handleTraceById(store, "4bf92f3577b34da6a3ce929d0e0e4737");
    QCOMPARE(r.status, 404);
    QCOMPARE(json::value_to<std::string>(json::parse(r.body).at("message")),
             std::string("Not found"));
    QCOMPARE(admin::handleTraceById(store, "xyz").status, 400);
  }
};

QTEST_GUILESS_MAIN(TraceJsonTest)
#include "trace_json_test.moc"
