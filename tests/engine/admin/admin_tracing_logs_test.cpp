// GET/PATCH /archway/tracing, GET /archway/logs/error and GET /archway/logs/access (issue 6) on
// a real Engine over loopback HTTP: live sampling changes reach the workers' sampler, Kong's 400
// for bad values (nothing changes), the newest error-log events, filtered by level, with the
// upstream failure a request just caused among them, and the newest access-log lines of real
// proxied requests (to the demo upstream and a dead one): off until read, filters, limit,
// since, and the same objects as the --access-log file's lines.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../net/closed_port.h"
#include "admin_exchange.h"
#include "config/declarative.h"
#include "core/log.h"
#include "demo/demo_server.h"
#include "runtime/engine.h"

using namespace archway;
namespace json = boost::json;
using archway::testing::exchange;

namespace {

json::object parseObject(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::int64_t integer(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<std::int64_t>() : -1;
}

// The "path" of each access-log line of an answer, in its order.
std::vector<std::string> paths(const json::object& page) {
  std::vector<std::string> out;
  if (const auto* data = page.if_contains("data"); data && data->is_array())
    for (const auto& v : data->as_array()) out.emplace_back(v.as_object().at("path").as_string());
  return out;
}

}  // namespace

class AdminTracingLogsTest : public QObject {
  Q_OBJECT
 private:
  demo::DemoServer upstream_;
  archway::testing::ClosedPort closed_;  // the dead service's port, refused for the whole run
  std::string config_;
  runtime::Engine engine_;
  std::uint16_t admin() const { return engine_.adminPort(); }
  int proxied(const std::string& path) { return exchange(engine_.proxyPort(), "GET", path).status; }
  // `engine` on config_ with `o`, its proxy and Admin API on port 0.
  bool start(runtime::Engine& engine, runtime::EngineOptions o) const {
    auto c = config::parseDeclarative(config_);
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    return c.ok() && engine.start(o, std::move(*c)).ok();
  }
  json::object accessPage(const std::string& query = {}) {
    return parseObject(exchange(admin(), "GET", "/archway/logs/access" + query).body);
  }

 private Q_SLOTS:
  void initTestCase() {
    auto up = upstream_.start("127.0.0.1", 0);
    QVERIFY(up.ok());
    config_ = "_format_version: '3.0'\nservices:\n- name: dead\n  url: http://127.0.0.1:" +
              std::to_string(closed_.port()) +
              "\n  retries: 0\n  routes: [{name: dead-route, paths: [/dead]}]\n"
              "- name: demo\n  url: http://127.0.0.1:" +
              std::to_string(*up) + "\n  routes: [{name: ok-route, paths: [/ok]}]\n";
    runtime::EngineOptions o;
    o.workers = 2;
    o.tracingSampleRate = 0.25;
    o.tracingSlowMs = 700;
    QVERIFY(start(engine_, o));
  }
  void cleanupTestCase() {
    engine_.stop();
    upstream_.stop();
  }

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
    QVERIFY(body.find("\"/archway/logs/access\"") != std::string::npos);
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
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/error?since=x").status, 400);
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/access?status=5x").status, 400);
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/access?status=600").status, 400);
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/access?since=-1").status, 400);
    QCOMPARE(exchange(admin(), "GET", "/archway/logs/access?limit=1001").status, 400);
    QCOMPARE(exchange(admin(), "DELETE", "/archway/logs/access").status, 405);
  }

  void errorLogSinceAnswersOnlyNewerEvents() {
    core::log::warn("since test first", {});
    core::log::flush();
    const auto before = parseObject(exchange(admin(), "GET", "/archway/logs/error").body);
    const std::int64_t since = integer(before, "next_since");
    QVERIFY(since > 0);
    core::log::warn("since test second", {});
    core::log::flush();
    const auto after = parseObject(
        exchange(admin(), "GET", "/archway/logs/error?since=" + std::to_string(since)).body);
    QVERIFY(integer(after, "next_since") > since);
    std::vector<std::string> messages;
    for (const auto& v : after.at("data").as_array())
      messages.emplace_back(v.as_object().at("message").as_string());
    QVERIFY(std::count(messages.begin(), messages.end(), "since test second") == 1);
    QVERIFY(std::count(messages.begin(), messages.end(), "since test first") == 0);
    // A since past the newest (the node restarted) starts over.
    const auto restarted = parseObject(
        exchange(admin(), "GET", "/archway/logs/error?limit=1000&since=999999999").body);
    QVERIFY(restarted.at("data").as_array().size() > messages.size());
  }

  // Nothing reads and there is no file: the workers produce no access entries until a read.
  void accessLogIsOffUntilRead() {
    QCOMPARE(proxied("/ok/anything/unread"), 200);
    auto first = accessPage();
    QVERIFY2(first.contains("message"), json::serialize(first).c_str());
    QVERIFY(std::string(first.at("message").as_string()).find("access log was off") !=
            std::string::npos);
    QVERIFY(paths(first).empty());
    // One at a time, each seen before the next (two workers: the same millisecond on both
    // could be kept in either order).
    const std::pair<const char*, int> requests[] = {{"/ok/anything/one", 200},
                                                    {"/ok/status/503", 503},
                                                    {"/dead/x", 502},
                                                    {"/ok/status/404", 404}};
    for (const auto& [path, status] : requests) {
      QCOMPARE(proxied(path), status);
      QTRY_COMPARE_WITH_TIMEOUT(paths(accessPage("?limit=1")), std::vector<std::string>{path},
                                10000);
    }
    const auto page = accessPage();
    QVERIFY(!page.contains("message"));
    // Newest first; the request before the first read is not there.
    QCOMPARE(paths(page), (std::vector<std::string>{"/ok/status/404", "/dead/x", "/ok/status/503",
                                                    "/ok/anything/one"}));
    const auto& dead = page.at("data").as_array()[1].as_object();
    QCOMPARE(dead.at("status").to_number<int>(), 502);
    QCOMPARE(dead.at("route").as_string(), "dead-route");
    QCOMPARE(dead.at("service").as_string(), "dead");
    QCOMPARE(dead.at("type").as_string(), "access");
  }

  void accessLogFiltersLimitAndSince() {
    QCOMPARE(paths(accessPage("?status=5xx")),
             (std::vector<std::string>{"/dead/x", "/ok/status/503"}));
    QCOMPARE(paths(accessPage("?status=503")), (std::vector<std::string>{"/ok/status/503"}));
    QCOMPARE(paths(accessPage("?status=4XX")), (std::vector<std::string>{"/ok/status/404"}));
    QCOMPARE(paths(accessPage("?route=dead-route")), (std::vector<std::string>{"/dead/x"}));
    // By the route's id too (the lines name it by its name).
    const auto route = parseObject(exchange(admin(), "GET", "/routes/dead-route").body);
    const std::string id(route.at("id").as_string());
    QCOMPARE(paths(accessPage("?route=" + id)), (std::vector<std::string>{"/dead/x"}));
    QCOMPARE(paths(accessPage("?route=ok-route&status=2xx")),
             (std::vector<std::string>{"/ok/anything/one"}));
    QCOMPARE(paths(accessPage("?route=nope")).size(), std::size_t{0});
    QCOMPARE(paths(accessPage("?limit=2")),
             (std::vector<std::string>{"/ok/status/404", "/dead/x"}));

    const auto page = accessPage();
    const std::int64_t since = integer(page, "next_since");
    QVERIFY(since >= 4);
    const std::string next = "?since=" + std::to_string(since);
    QCOMPARE(paths(accessPage(next)).size(), std::size_t{0});
    QCOMPARE(integer(accessPage(next), "next_since"), since);
    QCOMPARE(proxied("/ok/anything/two"), 200);
    QTRY_COMPARE_WITH_TIMEOUT(paths(accessPage(next)),
                              (std::vector<std::string>{"/ok/anything/two"}), 10000);
    QCOMPARE(integer(accessPage(next), "next_since"), since + 1);
    // A since past the newest (the node restarted, numbers began anew) starts over.
    QCOMPARE(paths(accessPage("?since=" + std::to_string(since + 1000))).size(), std::size_t{5});
  }

  // With --access-log FILE the entries are produced without a reader, and the endpoint's
  // objects are the file's lines.
  void accessLogLinesAreTheFilesLines() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string file = dir.filePath(QStringLiteral("access.log")).toStdString();
    runtime::EngineOptions o;
    o.workers = 1;
    o.accessLog = file;
    runtime::Engine engine;
    QVERIFY(start(engine, o));
    QCOMPARE(exchange(engine.proxyPort(), "GET", "/ok/anything/filed").status, 200);
    json::object page;
    QTRY_VERIFY_WITH_TIMEOUT(
        (page = parseObject(exchange(engine.adminPort(), "GET", "/archway/logs/access").body),
         paths(page).size() == 1),
        10000);
    QVERIFY(!page.contains("message"));
    engine.stop();
    std::ifstream in(file);
    std::string line;
    QVERIFY(std::getline(in, line));
    QCOMPARE(json::serialize(page.at("data").as_array()[0]), json::serialize(json::parse(line)));
  }
};

QTEST_GUILESS_MAIN(AdminTracingLogsTest)
#include "admin_tracing_logs_test.moc"
