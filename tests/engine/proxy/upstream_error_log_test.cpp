// Upstream failures in the error log (issue 6) through a real Engine: a refused connect, a name
// that does not resolve (a real UDP DNS server on loopback), an upstream timeout; the events'
// fields, and the per-worker limit that counts what it held back.
#include <QtTest>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../net/closed_port.h"
#include "../net/dns_test_server.h"
#include "config/declarative.h"
#include "core/log.h"
#include "runtime/engine.h"
#include "test_upstream.h"

using namespace archway;
using namespace std::chrono_literals;

namespace {

struct Event {
  std::string level, message;
  std::map<std::string, std::string> fields;
};

// Every error-log record from construction to destruction.
class Capture {
 public:
  Capture() {
    token_ = core::log::subscribe([this](const core::log::Record& r) {
      Event e{std::string(core::log::levelName(r.level)), r.message, {}};
      for (const auto& [k, v] : r.fields) e.fields[k] = v;
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(e));
    });
  }
  ~Capture() { core::log::unsubscribe(token_); }
  // The upstream failure events so far (those with a route field).
  std::vector<Event> upstreamEvents() {
    core::log::flush();
    std::lock_guard lock(mutex_);
    std::vector<Event> out;
    for (const auto& e : events_)
      if (e.fields.count("route_id")) out.push_back(e);
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<Event> events_;
  int token_ = 0;
};

std::unique_ptr<runtime::Engine> launch(const std::string& host, unsigned short port,
                                        const std::string& extra,
                                        const std::function<void(runtime::EngineOptions&)>& tweak = {}) {
  auto c = config::parseDeclarative(
      "_format_version: '3.0'\nservices:\n- name: svc\n  host: " + host + "\n  port: " +
      std::to_string(port) + "\n  retries: 0\n" + extra + "  routes: [{name: r, paths: [/]}]\n");
  if (!c) qFatal("%s", c.errorText().c_str());
  runtime::EngineOptions o;
  o.proxyListen = "127.0.0.1:0";
  o.adminListen = "off";
  o.workers = 1;
  if (tweak) tweak(o);
  auto e = std::make_unique<runtime::Engine>();
  auto s = e->start(o, std::move(*c));
  if (!s) qFatal("%s", s.errorText().c_str());
  return e;
}

}  // namespace

class UpstreamErrorLogTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void refusedConnectIsOneErrorEventWithTheRequestFields() {
    Capture cap;
    archway::testing::ClosedPort closed;
    const unsigned short port = closed.port();
    auto e = launch("127.0.0.1", port, "");
    auto r = TestClient(e->proxyPort()).get("/some/path?q=1", {{"Host", "example.test"}});
    QCOMPARE(r.status, 502);
    QTRY_COMPARE(cap.upstreamEvents().size(), std::size_t{1});
    const Event ev = cap.upstreamEvents().front();
    QCOMPARE(ev.level, std::string("error"));
    QCOMPARE(ev.message,
             std::string("connect() failed (111: Connection refused) while connecting to upstream"));
    QCOMPARE(ev.fields.at("client"), std::string("127.0.0.1"));
    QCOMPARE(ev.fields.at("route"), std::string("r"));
    QVERIFY(!ev.fields.at("route_id").empty());
    QCOMPARE(ev.fields.at("service"), std::string("svc"));
    QCOMPARE(ev.fields.at("upstream"), "http://127.0.0.1:" + std::to_string(port));
    QCOMPARE(ev.fields.at("method"), std::string("GET"));
    QCOMPARE(ev.fields.at("path"), std::string("/some/path"));
    QCOMPARE(ev.fields.at("request"), std::string("GET /some/path HTTP/1.1"));
    QCOMPARE(ev.fields.at("host"), std::string("example.test"));
    QCOMPARE(ev.fields.at("error"), std::string("111: Connection refused"));
    QCOMPARE(ev.fields.count("suppressed"), std::size_t{0});
  }

  void unresolvedNameNamesTheHost() {
    Capture cap;
    DnsTestServer dns;  // knows no names
    auto e = launch("missing.invalid", 80, "", [&](runtime::EngineOptions& o) {
      o.dns.nameservers = {dns.address()};
      o.dns.hostsFile = "";
      o.dns.timeout = 1s;
      o.dns.attempts = 1;
    });
    QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 503);
    QTRY_COMPARE(cap.upstreamEvents().size(), std::size_t{1});
    const Event ev = cap.upstreamEvents().front();
    QCOMPARE(ev.message,
             std::string("missing.invalid could not be resolved (name resolution failed)"));
    QCOMPARE(ev.fields.at("dns_host"), std::string("missing.invalid"));
    QCOMPARE(ev.fields.at("service"), std::string("svc"));
    QCOMPARE(ev.fields.at("path"), std::string("/x"));
  }

  void timeoutReadingTheResponseHead() {
    Capture cap;
    TestUpstream slow;
    auto e = launch("127.0.0.1", slow.port(), "  read_timeout: 200\n");
    QCOMPARE(TestClient(e->proxyPort()).get("/sleep/2000").status, 504);
    QTRY_COMPARE(cap.upstreamEvents().size(), std::size_t{1});
    const Event ev = cap.upstreamEvents().front();
    QCOMPARE(ev.message, std::string("upstream timed out (110: Connection timed out) while "
                                     "reading response header from upstream"));
    QCOMPARE(ev.fields.at("upstream"), "http://127.0.0.1:" + std::to_string(slow.port()));
    QCOMPARE(ev.fields.at("path"), std::string("/sleep/2000"));
  }

  void aBurstIsLimitedAndTheNextEventCountsWhatWasHeldBack() {
    Capture cap;
    archway::testing::ClosedPort closed;
    auto e = launch("127.0.0.1", closed.port(), "");
    constexpr int kBurst = 60;
    for (int i = 0; i < kBurst; ++i) QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 502);
    const std::size_t inBurst = cap.upstreamEvents().size();
    QVERIFY2(inBurst < std::size_t{kBurst}, "the burst was not limited");
    QTest::qWait(300);  // tokens again
    QCOMPARE(TestClient(e->proxyPort()).get("/x").status, 502);
    QTRY_COMPARE(cap.upstreamEvents().size(), inBurst + 1);
    const auto all = cap.upstreamEvents();
    // Every failure is either an event or counted in a later event's "suppressed".
    std::size_t counted = all.size();
    for (const auto& ev : all)
      if (auto it = ev.fields.find("suppressed"); it != ev.fields.end())
        counted += std::stoul(it->second);
    QCOMPARE(counted, std::size_t{kBurst + 1});
    QVERIFY(all.back().fields.count("suppressed"));
  }
};

QTEST_GUILESS_MAIN(UpstreamErrorLogTest)
#include "upstream_error_log_test.moc"
