// The logging plugins through the real proxy: a request through the Engine produces a file-log
// line, an http-log POST, a tcp-log line, each with Kong's serializer fields for the route,
// service, status and upstream; global plugins log requests no route matched; an unreachable
// upstream is logged as Kong's own answer; queued entries survive a config reload.
#include <QtTest>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "../../net/closed_port.h"
#include "../../proxy/test_upstream.h"
#include "config/declarative.h"
#include "plugins/log/queue.h"
#include "runtime/engine.h"
#include "../../core/log_lines.h"
#include "test_servers.h"

using namespace archway;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

core::Config parse(const std::string& yaml) {
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  return std::move(*c);
}

runtime::EngineOptions options() {
  runtime::EngineOptions o;
  o.proxyListen = "127.0.0.1:0";
  o.adminListen = "off";
  o.workers = 2;
  return o;
}

std::string service(unsigned short port, const std::string& routePlugins,
                    const std::string& name = "up") {
  return "- name: " + name + "\n  url: http://127.0.0.1:" + std::to_string(port) +
         "/base\n  retries: 0\n  routes:\n  - name: api\n    paths: [/api]\n    plugins:\n" +
         routePlugins;
}

std::vector<json::value> jsonLines(const std::string& path) {
  std::vector<json::value> out;
  for (const auto& l : archway::testing::completeLogLines(path)) out.push_back(json::parse(l));
  return out;
}

std::string s(const json::value& v) {
  return std::string(v.as_string());
}

}  // namespace

class LogProxyTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;

 private Q_SLOTS:
  void cleanup() { plugins::log::shutdownQueues(); }

  void fileLogWritesKongsEntryForAProxiedRequest() {
    TestUpstream up;
    std::string path = dir_.filePath("proxy.log").toStdString();
    runtime::Engine engine;
    QVERIFY(engine
                .start(options(), parse("_format_version: '3.0'\nservices:\n" +
                                        service(up.port(),
                                                "    - name: file-log\n      config: "
                                                "{path: " +
                                                    path + "}\n")))
                .ok());
    TestClient client(engine.proxyPort());
    auto r = client.get("/api/items?x=1&flag", {{"Authorization", "Bearer secret"}});
    QCOMPARE(r.status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(jsonLines(path).size(), std::size_t(1), 5000);
    json::value e = jsonLines(path)[0];
    QCOMPARE(s(e.at("route").at("name")), std::string("api"));
    QCOMPARE(s(e.at("service").at("name")), std::string("up"));
    QCOMPARE(s(e.at("route").at("service").at("id")), s(e.at("service").at("id")));
    QCOMPARE(e.at("response").at("status").to_number<int>(), 200);
    QCOMPARE(s(e.at("upstream_status")), std::string("200"));
    QCOMPARE(s(e.at("upstream_uri")), std::string("/base/items?x=1&flag"));
    QCOMPARE(s(e.at("request").at("uri")), std::string("/api/items?x=1&flag"));
    QCOMPARE(s(e.at("request").at("method")), std::string("GET"));
    QCOMPARE(s(e.at("request").at("querystring").at("x")), std::string("1"));
    QCOMPARE(s(e.at("request").at("headers").at("authorization")), std::string("REDACTED"));
    QCOMPARE(s(e.at("request").at("url")),
             "http://localhost:" + std::to_string(engine.proxyPort()) + "/api/items?x=1&flag");
    QCOMPARE(s(e.at("client_ip")), std::string("127.0.0.1"));
    QCOMPARE(s(e.at("source")), std::string("upstream"));
    QVERIFY(e.at("request").at("size").to_number<int>() > 0);
    QVERIFY(e.at("response").at("size").to_number<int>() > 0);
    QVERIFY(e.at("latencies").at("request").to_number<int>() >= 0);
    QVERIFY(!s(e.at("request").at("id")).empty());
    auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    QVERIFY(std::llabs(e.at("started_at").to_number<std::int64_t>() - nowMs) < 60000);
    engine.stop();
  }

  // An upstream answering `Connection: close`: its connection is not pooled but closed, and the
  // log phase still reads the response head parsed in it (a use-after-free under ASan before
  // the connection outlived the log phase).
  void responseHeadersOfAClosedUpstreamConnectionAreLogged() {
    ConnectionThreads up([](boost::asio::ip::tcp::socket socket) {
      std::string in;
      char buf[4096];
      boost::system::error_code ec;
      while (in.find("\r\n\r\n") == std::string::npos) {
        std::size_t n = socket.read_some(boost::asio::buffer(buf), ec);
        if (ec) return;
        in.append(buf, n);
      }
      const std::string answer =
          "HTTP/1.1 200 OK\r\nConnection: close\r\nX-Upstream-Mark: closing-answer\r\n"
          "Content-Length: 2\r\n\r\nok";
      boost::asio::write(socket, boost::asio::buffer(answer), ec);
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    });
    std::string path = dir_.filePath("closed.log").toStdString();
    runtime::Engine engine;
    QVERIFY(engine
                .start(options(), parse("_format_version: '3.0'\nservices:\n" +
                                        service(up.port(),
                                                "    - name: file-log\n      config: "
                                                "{path: " +
                                                    path + "}\n")))
                .ok());
    for (int i = 0; i < 3; ++i) {
      TestClient client(engine.proxyPort());
      QCOMPARE(client.get("/api/x").status, 200);
    }
    QTRY_COMPARE_WITH_TIMEOUT(jsonLines(path).size(), std::size_t(3), 5000);
    for (const auto& e : jsonLines(path)) {
      QCOMPARE(s(e.at("response").at("headers").at("x-upstream-mark")),
               std::string("closing-answer"));
    }
    engine.stop();
  }

  void httpLogPostsTheEntry() {
    TestUpstream up;
    logtest::HttpSink sink;
    runtime::Engine engine;
    std::string plugin =
        "    - name: http-log\n      config:\n        http_endpoint: http://127.0.0.1:" +
        std::to_string(sink.port()) + "/ingest\n";
    QVERIFY(engine
                .start(options(),
                       parse("_format_version: '3.0'\nservices:\n" + service(up.port(), plugin)))
                .ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/api/a").status, 200);
    QCOMPARE(client.get("/api/b", {}, "DELETE").status, 200);
    QVERIFY(sink.waitRequests(2, 5s));
    auto reqs = sink.requests();
    QCOMPARE(reqs[0].method, std::string("POST"));
    QCOMPARE(reqs[0].target, std::string("/ingest"));
    json::value a = json::parse(reqs[0].body);
    json::value b = json::parse(reqs[1].body);
    QCOMPARE(s(a.at("route").at("name")), std::string("api"));
    QCOMPARE(s(a.at("service").at("name")), std::string("up"));
    QCOMPARE(a.at("response").at("status").to_number<int>(), 200);
    QCOMPARE(s(b.at("request").at("method")), std::string("DELETE"));
    QVERIFY(s(a.at("request").at("id")) != s(b.at("request").at("id")));
    engine.stop();
  }

  void tcpLogSendsTheEntry() {
    TestUpstream up;
    logtest::LineSink sink;
    runtime::Engine engine;
    std::string plugin = "    - name: tcp-log\n      config: {host: 127.0.0.1, port: " +
                         std::to_string(sink.port()) + "}\n";
    QVERIFY(engine
                .start(options(),
                       parse("_format_version: '3.0'\nservices:\n" + service(up.port(), plugin)))
                .ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/api/x").status, 200);
    QVERIFY(sink.waitLines(1, 5s));
    json::value e = json::parse(sink.lines()[0]);
    QCOMPARE(s(e.at("route").at("name")), std::string("api"));
    QCOMPARE(e.at("response").at("status").to_number<int>(), 200);
    engine.stop();
  }

  void globalPluginLogsUnmatchedRequests() {
    TestUpstream up;
    std::string path = dir_.filePath("global.log").toStdString();
    runtime::Engine engine;
    std::string yaml = "_format_version: '3.0'\nservices:\n- name: up\n  url: http://127.0.0.1:" +
                       std::to_string(up.port()) +
                       "\n  routes:\n  - {name: api, paths: [/api]}\nplugins:\n- name: file-log\n"
                       "  config: {path: " +
                       path + "}\n";
    QVERIFY(engine.start(options(), parse(yaml)).ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/api/ok").status, 200);
    QCOMPARE(client.get("/nowhere").status, 404);
    QTRY_VERIFY_WITH_TIMEOUT(!jsonLines(path).empty(), 5000);
    QTest::qWait(300);
    engine.stop(std::chrono::milliseconds(0));
    // Kong runs global plugins (log phase included) for requests no route matched.
    QCOMPARE(jsonLines(path).size(), std::size_t(2));
    auto lines = jsonLines(path);
    json::value ok = lines[0], miss = lines[1];
    if (ok.at("response").at("status").to_number<int>() != 200) std::swap(ok, miss);
    QCOMPARE(s(ok.at("route").at("name")), std::string("api"));
    QCOMPARE(miss.at("response").at("status").to_number<int>(), 404);
    QCOMPARE(s(miss.at("source")), std::string("kong"));
    QVERIFY(!miss.as_object().contains("route"));
    QVERIFY(!miss.as_object().contains("service"));
    engine.stop();
  }

  void unreachableUpstreamIsLoggedAsKongsAnswer() {
    archway::testing::ClosedPort closed;
    const unsigned short deadPort = closed.port();
    std::string path = dir_.filePath("dead.log").toStdString();
    runtime::Engine engine;
    QVERIFY(engine
                .start(options(), parse("_format_version: '3.0'\nservices:\n" +
                                        service(deadPort,
                                                "    - name: file-log\n      config: "
                                                "{path: " +
                                                    path + "}\n")))
                .ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/api/x").status, 502);
    QTRY_COMPARE_WITH_TIMEOUT(jsonLines(path).size(), std::size_t(1), 5000);
    json::value e = jsonLines(path)[0];
    QCOMPARE(e.at("response").at("status").to_number<int>(), 502);
    QCOMPARE(s(e.at("source")), std::string("kong"));
    QCOMPARE(s(e.at("upstream_status")), std::string(""));
    QCOMPARE(e.at("latencies").at("proxy").to_number<int>(), -1);
    QCOMPARE(s(e.at("route").at("name")), std::string("api"));
    engine.stop();
  }

  void queuedEntriesSurviveAConfigReload() {
    TestUpstream up;
    logtest::HttpSink sink;
    sink.script({500, 500, 500});  // the first three attempts fail: the entry waits, retried
    runtime::Engine engine;
    std::string plugin =
        "    - name: http-log\n      id: 0b6c8a3e-55f4-4c3a-9d0e-4f0a3c2b1a01\n      config:\n"
        "        http_endpoint: http://127.0.0.1:" +
        std::to_string(sink.port()) +
        "/ingest\n        queue: {max_batch_size: 10, max_coalescing_delay: 0.05, "
        "initial_retry_delay: 0.2}\n";
    std::string base = "_format_version: '3.0'\nservices:\n" + service(up.port(), plugin);
    QVERIFY(engine.start(options(), parse(base)).ok());
    TestClient client(engine.proxyPort());
    QCOMPARE(client.get("/api/before").status, 200);
    QVERIFY(sink.waitRequests(1, 5s));  // failing and retrying now
    // A reload that adds a service keeps the plugin (same id, same settings) and its queue.
    std::string more = base +
                       "- name: other\n  url: http://127.0.0.1:" + std::to_string(up.port()) +
                       "\n  routes:\n  - {name: o, paths: [/o]}\n";
    QVERIFY(engine.applyConfig(parse(more)).ok());
    TestClient client2(engine.proxyPort());
    QCOMPARE(client2.get("/api/after").status, 200);
    // As in Kong, the failing batch is retried as it was (across the reload, by the same
    // queue) until accepted; the entry queued meanwhile goes in the next batch.
    QVERIFY(sink.waitRequests(5, 10s));
    auto reqs = sink.requests();
    QCOMPARE(reqs.size(), std::size_t(5));
    for (int i = 0; i < 4; ++i) {
      auto batch = json::parse(reqs[static_cast<std::size_t>(i)].body).as_array();
      QCOMPARE(batch.size(), std::size_t(1));
      QCOMPARE(s(batch[0].at("request").at("uri")), std::string("/api/before"));
    }
    auto after = json::parse(reqs[4].body).as_array();
    QCOMPARE(s(after[0].at("request").at("uri")), std::string("/api/after"));
    engine.stop();
  }
};

QTEST_GUILESS_MAIN(LogProxyTest)
#include "log_proxy_test.moc"
