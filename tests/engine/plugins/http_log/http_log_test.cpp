// http-log: Kong's schema and messages; entries POSTed to a real HTTP server (a JSON object per
// request with max_batch_size 1, a JSON array for bigger batches), retried after a 500, basic
// auth from the URL's user info, kept-alive connections, and https.
#include <QtTest>
#include <boost/json.hpp>

#include "../../net/closed_port.h"
#include "../log/log_test_support.h"
#include "../log/test_servers.h"
#include "plugins/http_log/http_log.h"

using namespace archway;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object config(const std::string& endpoint, json::object extra = {}) {
  json::object c{{"http_endpoint", endpoint}};
  for (auto& kv : extra) c[kv.key()] = kv.value();
  return c;
}

std::string url(unsigned short port, const std::string& path = "/logs",
                const std::string& scheme = "http") {
  return scheme + "://127.0.0.1:" + std::to_string(port) + path;
}

}  // namespace

class HttpLogTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<plugins::Factory> factory_ = plugins::makeHttpLogPlugin();

  core::Result<json::object> validate(const std::string& text) {
    return plugins::schema::validate(factory_->schema(), json::parse(text));
  }

 private Q_SLOTS:
  void cleanup() { plugins::log::shutdownQueues(); }

  void nameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("http-log"));
    QCOMPARE(factory_->priority(), 12);
  }

  void schemaDefaults() {
    auto r = validate("{\"http_endpoint\":\"http://example.com/x\"}");
    QVERIFY2(r.ok(), r.errorText().c_str());
    QCOMPARE(std::string(r->at("method").as_string()), std::string("POST"));
    QCOMPARE(std::string(r->at("content_type").as_string()), std::string("application/json"));
    QCOMPARE(r->at("timeout").to_number<int>(), 10000);
    QCOMPARE(r->at("keepalive").to_number<int>(), 60000);
    const auto& q = r->at("queue").as_object();
    QCOMPARE(q.at("max_batch_size").to_number<int>(), 1);
    QCOMPARE(q.at("max_coalescing_delay").to_number<int>(), 1);
    QCOMPARE(q.at("max_entries").to_number<int>(), 10000);
    QVERIFY(q.at("max_bytes").is_null());
    QCOMPARE(q.at("initial_retry_delay").to_number<double>(), 0.01);
    QCOMPARE(q.at("max_retry_time").to_number<int>(), 60);
    QCOMPARE(q.at("max_retry_delay").to_number<int>(), 60);
    QCOMPARE(q.at("concurrency_limit").to_number<int>(), 1);
    QVERIFY(r->at("headers").is_null());
  }

  void schemaErrors_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("error");
    QTest::newRow("missing endpoint") << "{}"
                                      << "config.http_endpoint: required field missing";
    QTest::newRow("no host") << "{\"http_endpoint\":\"localhost:8080/x\"}"
                             << "config.http_endpoint: missing host in url";
    QTest::newRow("no scheme") << "{\"http_endpoint\":\"//example.com/x\"}"
                               << "config.http_endpoint: missing scheme in url";
    QTest::newRow("method") << "{\"http_endpoint\":\"http://h/\",\"method\":\"GET\"}"
                            << "config.method: expected one of: POST, PUT, PATCH";
    QTest::newRow("content type")
        << "{\"http_endpoint\":\"http://h/\",\"content_type\":\"text/plain\"}"
        << "config.content_type: expected one of: application/json, application/json; "
           "charset=utf-8";
    QTest::newRow("host header") << "{\"http_endpoint\":\"http://h/\",\"headers\":{\"Host\":\"x\"}}"
                                 << "config.headers: cannot contain 'Host' header";
    QTest::newRow("content-length header")
        << "{\"http_endpoint\":\"http://h/\",\"headers\":{\"content-length\":\"1\"}}"
        << "config.headers: cannot contain 'Content-Length' header";
    QTest::newRow("content-type header")
        << "{\"http_endpoint\":\"http://h/\",\"headers\":{\"Content-Type\":\"x\"}}"
        << "config.headers: cannot contain 'Content-Type' header";
    QTest::newRow("bad header name")
        << "{\"http_endpoint\":\"http://h/\",\"headers\":{\"a b\":\"x\"}}"
        << "config.headers: bad header name 'a b', allowed characters are A-Z, a-z, 0-9, '_', "
           "and '-'";
    QTest::newRow("userinfo and authorization")
        << "{\"http_endpoint\":\"http://u:p@h/\",\"headers\":{\"Authorization\":\"x\"}}"
        << "config: specifying both an 'Authorization' header and user info in "
           "'http_endpoint' is not allowed";
    QTest::newRow("queue") << "{\"http_endpoint\":\"http://h/\",\"queue\":{\"max_entries\":0}}"
                           << "config.queue.max_entries: value should be between 1 and 1000000";
  }
  void schemaErrors() {
    QFETCH(QString, input);
    QFETCH(QString, error);
    auto r = validate(input.toStdString());
    QVERIFY(!r.ok());
    QCOMPARE(logtest::errorsOf(r), error);
  }

  void postsOneJsonObjectPerRequest() {
    logtest::HttpSink sink;
    plugins::Persistent persistent;
    auto inst = logtest::compile(
        *factory_,
        config(url(sink.port()), {{"method", "PUT"},
                                  {"content_type", "application/json; charset=utf-8"},
                                  {"headers", json::object{{"X-Log-Token", "t0k"}}}}),
        persistent);
    logtest::Exchange a(201), b(404);
    inst->log(a.ctx);
    inst->log(b.ctx);
    QVERIFY(sink.waitRequests(2, 5s));
    auto reqs = sink.requests();
    QCOMPARE(reqs[0].method, std::string("PUT"));
    QCOMPARE(reqs[0].target, std::string("/logs"));
    QCOMPARE(reqs[0].headers["content-type"], std::string("application/json; charset=utf-8"));
    QCOMPARE(reqs[0].headers["x-log-token"], std::string("t0k"));
    QCOMPARE(reqs[0].headers["host"], "127.0.0.1:" + std::to_string(sink.port()));
    json::value first = json::parse(reqs[0].body);
    QVERIFY(first.is_object());
    QCOMPARE(first.at("response").at("status").to_number<int>(), 201);
    QCOMPARE(std::string(first.at("route").at("id").as_string()), a.route.id);
    QCOMPARE(json::parse(reqs[1].body).at("response").at("status").to_number<int>(), 404);
    QCOMPARE(sink.connections(), 1);  // kept alive between the two
  }

  void batchesAreJsonArrays() {
    logtest::HttpSink sink;
    plugins::Persistent persistent;
    auto inst = logtest::compile(
        *factory_,
        config(url(sink.port()),
               {{"queue", json::object{{"max_batch_size", 10}, {"max_coalescing_delay", 0.3}}}}),
        persistent);
    for (int status : {200, 201, 202}) {
      logtest::Exchange x(status);
      inst->log(x.ctx);
    }
    QVERIFY(sink.waitRequests(1, 5s));
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    auto reqs = sink.requests();
    QCOMPARE(reqs.size(), std::size_t(1));
    json::value body = json::parse(reqs[0].body);
    QVERIFY(body.is_array());
    QCOMPARE(body.as_array().size(), std::size_t(3));
    QCOMPARE(body.as_array()[2].at("response").at("status").to_number<int>(), 202);
    QCOMPARE(reqs[0].headers["content-length"], std::to_string(reqs[0].body.size()));
  }

  void deprecatedQueueSizeStillBatches() {
    logtest::HttpSink sink;
    plugins::Persistent persistent;
    auto inst = logtest::compile(
        *factory_, config(url(sink.port()), {{"queue_size", 2}, {"flush_timeout", 5}}), persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    inst->log(x.ctx);
    QVERIFY(sink.waitRequests(1, 5s));
    QVERIFY(json::parse(sink.requests()[0].body).is_array());
  }

  void retriesWhenTheServerFails() {
    logtest::HttpSink sink;
    sink.script({500, 503});
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, config(url(sink.port())), persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(sink.waitRequests(3, 5s));
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    auto reqs = sink.requests();
    QCOMPARE(reqs.size(), std::size_t(3));
    QCOMPARE(reqs[0].body, reqs[2].body);
    auto stats = logtest::queueOf(*inst).stats();
    QCOMPARE(stats.failures, std::uint64_t(2));
    QCOMPARE(stats.processed, std::uint64_t(1));
    QCOMPARE(stats.lost, std::uint64_t(0));
  }

  void retriesWhenTheServerIsDown() {
    archway::testing::ClosedPort closed;
    const unsigned short port = closed.port();
    plugins::Persistent persistent;
    auto inst = logtest::compile(
        *factory_,
        config(url(port),
               {{"queue", json::object{{"max_retry_time", 0.3}, {"initial_retry_delay", 0.05}}}}),
        persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QTRY_COMPARE_WITH_TIMEOUT(logtest::queueOf(*inst).stats().lost, std::uint64_t(1), 5000);
    QVERIFY(logtest::queueOf(*inst).stats().failures >= 2);
  }

  void basicAuthFromUserInfo() {
    logtest::HttpSink sink;
    plugins::Persistent persistent;
    std::string endpoint =
        "http://user:pass@127.0.0.1:" + std::to_string(sink.port()) + "/in?src=kong";
    auto inst = logtest::compile(*factory_, config(endpoint), persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(sink.waitRequests(1, 5s));
    auto r = sink.requests()[0];
    QCOMPARE(r.headers["authorization"], std::string("Basic dXNlcjpwYXNz"));
    QCOMPARE(r.target, std::string("/in?src=kong"));
  }

  void reconnectsWhenTheServerClosedTheIdleConnection() {
    logtest::HttpSink sink(false, true);
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, config(url(sink.port())), persistent);
    logtest::Exchange x;
    for (int i = 0; i < 3; ++i) {
      inst->log(x.ctx);
      QVERIFY(sink.waitRequests(static_cast<std::size_t>(i + 1), 5s));
      QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    }
    QCOMPARE(sink.connections(), 3);
    QCOMPARE(logtest::queueOf(*inst).stats().failures, std::uint64_t(0));
  }

  void connectionsIdleLongerThanKeepaliveAreNotReused() {
    logtest::HttpSink sink;
    plugins::Persistent persistent;
    auto inst =
        logtest::compile(*factory_, config(url(sink.port()), {{"keepalive", 50}}), persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(sink.waitRequests(1, 5s));
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    QTest::qWait(150);
    inst->log(x.ctx);
    QVERIFY(sink.waitRequests(2, 5s));
    QCOMPARE(sink.connections(), 2);
  }

  void postsOverHttps() {
    logtest::HttpSink sink(true);
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, config(url(sink.port(), "/tls", "https")), persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(sink.waitRequests(1, 5s));
    auto r = sink.requests()[0];
    QCOMPARE(r.target, std::string("/tls"));
    QCOMPARE(json::parse(r.body).at("response").at("status").to_number<int>(), 200);
  }
};

QTEST_GUILESS_MAIN(HttpLogTest)
#include "http_log_test.moc"
