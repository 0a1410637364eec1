// GET/PATCH /archway/tracing and GET /archway/logs/error (issue 6) on a real Engine over
// loopback HTTP: live sampling changes reach the workers' sampler, Kong's 400 for bad values
// (nothing changes), and the newest error-log events, filtered by level, with the upstream
// failure a request just caused among them.
#include <QtTest>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "admin_exchange.h"
#include "config/declarative.h"
#include "core/log.h"
#include "runtime/engine.h"

using namespace archway;
namespace json = boost::json;
using archway::testing::exchange;

namespace {

unsigned short closedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

json::object parseObject(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

}  // namespace

class AdminTracingLogsTest : public QObject {
  Q_OBJECT
 private:
  runtime::Engine engine_;
  std::uint16_t admin() const { return engine_.adminPort(); }

 private Q_SLOTS:
  void initTestCase() {
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: dead\n  url: http://127.0.0.1:" +
        std::to_string(closedPort()) + "\n  retries: 0\n  routes: [{name: dead-route, paths: [/dead]}]\n");
    QVERIFY(c.ok());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    o.workers = 2;
    o.tracingSampleRate = 0.25;
    o.tracingSlowMs = 700;
    QVERIFY(engine_.start(o, std::move(*c)).ok());
  }
  void cleanupTestCase() { engine_.stop(); }

  void getShowsTheSamplerAndDoesNotChangeIt() {
    auto r = exchange(admin(), "GET", "/archway/tracing");
    QCOMPARE(r.status, 200);
    auto o = parseObject(r.body);
    QCOMPARE(o.at("sample_rate").to_number<double>(), 0.25);
    QCOMPARE(o.at("slow_ms").to_number<std::int64_t>(), std::int64_t{700});
    QCOMPARE(o.at("errors").as_bool(), true);
    QCOMPARE(o.at("enabled").as_bool(), true);
    QCOMPARE(exchange(admin(), "GET", "/archway/tracing").body, r.body);
    QCOMPARE(engine_.tracing().rate, 0.25);
  }

  void patchChangesTheWorkersSamplerLive() {
    auto r = exchange(admin(), "PATCH", "/archway/tracing",
                      "{\"sample_rate\":0.5,\"slow_ms\":250,\"errors\":false}", "application/json");
    QCOMPARE(r.status, 200);
    QCOMPARE(parseObject(r.body).at("sample_rate").to_number<double>(), 0.5);
    QCOMPARE(engine_.tracing().rate, 0.5);
    QCOMPARE(engine_.tracing().slowMs, 250u);
    QCOMPARE(engine_.tracing().keepServerErrors, false);
    // A form body too; fields not given stay.
    r = exchange(admin(), "PATCH", "/archway/tracing", "sample_rate=1&errors=true",
                 "application/x-www-form-urlencoded");
    QCOMPARE(r.status, 200);
    QCOMPARE(engine_.tracing().rate, 1.0);
    QCOMPARE(engine_.tracing().slowMs, 250u);
    QCOMPARE(engine_.tracing().keepServerErrors, true);
    QCOMPARE(parseObject(exchange(admin(), "GET", "/archway/tracing").body)
                 .at("slow_ms").to_number<std::int64_t>(),
             std::int64_t{250});
  }

  void outOfRangeValuesAreASchemaViolationAndChangeNothing() {
    const auto before = engine_.tracing();
    auto r = exchange(admin(), "PATCH", "/archway/tracing", "{\"sample_rate\":1.5,\"slow_ms\":-1}",
                      "application/json");
    QCOMPARE(r.status, 400);
    auto o = parseObject(r.body);
    QCOMPARE(o.at("name").as_string(), "schema violation");
    QVERIFY(o.at("fields").as_object().contains("sample_rate"));
    QVERIFY(o.at("fields").as_object().contains("slow_ms"));
    r = exchange(admin(), "PATCH", "/archway/tracing", "{\"errors\":\"maybe\"}", "application/json");
    QCOMPARE(r.status, 400);
    QVERIFY(parseObject(r.body).at("fields").as_object().contains("errors"));
    QCOMPARE(exchange(admin(), "PATCH", "/archway/tracing", "{", "application/json").status, 400);
    QCOMPARE(exchange(admin(), "DELETE", "/archway/tracing").status, 405);
    QCOMPARE(engine_.tracing().rate, before.rate);
    QCOMPARE(engine_.tracing().slowMs, before.slowMs);
  }

  void endpointsListsTheNewPaths() {
    auto body = exchange(admin(), "GET", "/endpoints").body;
    QVERIFY(body.find("\"/archway/tracing\"") != std::string::npos);
    QVERIFY(body.find("\"/archway/logs/error\"") != std::string::npos);
  }

  void recentErrorLogEventsIncludeAnUpstreamFailure() {
    core::log::warn("admin logs test marker", {{"k", "v"}});
    QCOMPARE(exchange(engine_.proxyPort(), "GET", "/dead/x").status, 502);
    core::log::flush();
    auto r = exchange(admin(), "GET", "/archway/logs/error?limit=1000");
    QCOMPARE(r.status, 200);
    const auto page = parseObject(r.body);
    const auto& all = page.at("data").as_array();
    QVERIFY(!all.empty());
    bool marker = false, failure = false;
    for (const auto& v : all) {
      const auto& ev = v.as_object();
      if (ev.at("message").as_string() == "admin logs test marker") {
        marker = true;
        QCOMPARE(ev.at("level").as_string(), "warn");
        QCOMPARE(ev.at("k").as_string(), "v");
      }
      if (ev.contains("route") && ev.at("route").as_string() == "dead-route") {
        failure = true;
        QCOMPARE(ev.at("level").as_string(), "error");
        QCOMPARE(ev.at("service").as_string(), "dead");
      }
    }
    QVERIFY(marker);
    QVERIFY(failure);
    // level=error leaves the warning out; the newest event comes last.
    r = exchange(admin(), "GET", "/archway/logs/error?level=error&limit=1");
    const auto errorPage = parseObject(r.body);
    const auto& errors = errorPage.at("data").as_array();
    QCOMPARE(errors.size(), std::size_t{1});
    QCOMPARE(errors[0].as_object().at("route").as_string(), "dead-route");
  }

  void badLogQueriesAre400() {
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/error?limit=0").status, 400);
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/error?limit=1001").status, 400);
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/error?level=loud").status, 400);
    QCOMPARE(exchange(admin(), "POST", "/archway/logs/error").status, 405);
  }
};

QTEST_GUILESS_MAIN(AdminTracingLogsTest)
#include "admin_tracing_logs_test.moc"
