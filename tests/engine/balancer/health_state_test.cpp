#include <QtTest>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "balancer/health_state.h"
#include "balancer/upstream_balancer.h"

using namespace archway;
using namespace archway::balancer;

namespace {

Outcome outcomeOf(const QString& token) {
  if (token == "tcp") return Outcome::tcpFailure();
  if (token == "timeout") return Outcome::timeout();
  if (token == "ok") return Outcome::success();
  return Outcome::http(token.toInt());
}

core::Config configWith(std::vector<std::string> targets, int httpFailures = 1) {
  core::Config c;
  core::Upstream u;
  u.id = "u1";
  u.name = "backend";
  u.healthchecks.passive.unhealthyHttpFailures = httpFailures;
  c.upstreams.push_back(u);
  for (auto& t : targets) {
    core::Target target;
    target.upstreamId = "u1";
    target.target = t;
    c.targets.push_back(target);
  }
  return c;
}

struct Events {
  std::mutex mutex;
  std::vector<std::string> log;
  HealthListener listener() {
    return [this](const std::string& upstream, const std::string& target, bool healthy) {
      std::lock_guard lock(mutex);
      log.push_back(upstream + " " + target + (healthy ? " healthy" : " unhealthy"));
    };
  }
};

}  // namespace

class HealthStateTest : public QObject {
  Q_OBJECT
 private slots:
  // Each row: thresholds, a sequence of reports, and the healthy flag after each report
  // (H/U). Follows lua-resty-healthcheck's incr_counter.
  void passiveStateMachineFollowsKong_data() {
    QTest::addColumn<int>("successes");
    QTest::addColumn<int>("httpFailures");
    QTest::addColumn<int>("tcpFailures");
    QTest::addColumn<int>("timeouts");
    QTest::addColumn<QString>("reports");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unhealthy after N http failures") << 0 << 3 << 0 << 0 << "500 500 500"
                                                     << "HHU";
    QTest::newRow("a success resets the failures") << 1 << 3 << 0 << 0 << "500 500 200 500 500 500"
                                                   << "HHHHHU";
    QTest::newRow("successes=0: successes do not reset failures")
        << 0 << 3 << 0 << 0 << "500 200 500 500"
        << "HHHU";
    QTest::newRow("kinds count separately") << 1 << 2 << 2 << 2 << "500 tcp timeout 500"
                                            << "HHHU";
    QTest::newRow("tcp failures") << 0 << 0 << 2 << 0 << "tcp tcp"
                                  << "HU";
    QTest::newRow("timeouts") << 0 << 0 << 0 << 1 << "timeout"
                              << "U";
    QTest::newRow("a disabled kind is ignored") << 0 << 0 << 1 << 0 << "500 500 timeout tcp"
                                                << "HHHU";
    QTest::newRow("healthy again after N successes") << 2 << 1 << 0 << 0 << "500 200 200"
                                                     << "UUH";
    QTest::newRow("a failure while recovering resets the successes")
        << 2 << 1 << 0 << 0 << "500 200 500 200 200"
        << "UUUUH";
    QTest::newRow("statuses in neither list are ignored") << 0 << 1 << 0 << 0 << "404 201 503"
                                                          << "HHU";
    QTest::newRow("invalid response counts as an http failure") << 0 << 1 << 0 << 0 << "0"
                                                                << "U";
    QTest::newRow("counters restart after a transition")
        << 1 << 2 << 0 << 0 << "500 500 200 500 200 500 500"
        << "HUHHHHU";
  }
  void passiveStateMachineFollowsKong() {
    QFETCH(int, successes);
    QFETCH(int, httpFailures);
    QFETCH(int, tcpFailures);
    QFETCH(int, timeouts);
    QFETCH(QString, reports);
    QFETCH(QString, expected);
    core::HealthcheckPassive p;
    p.healthySuccesses = successes;
    p.unhealthyHttpFailures = httpFailures;
    p.unhealthyTcpFailures = tcpFailures;
    p.unhealthyTimeouts = timeouts;
    auto rules = CheckRules::passive(p);
    TargetHealth h("u1", "a:1", nullptr);
    QString got;
    for (const auto& token : reports.split(' ')) {
      h.report(rules, outcomeOf(token));
      got += h.healthy() ? 'H' : 'U';
    }
    QCOMPARE(got, expected);
  }

  void countersResetOnStateChange() {
    core::HealthcheckPassive p;
    p.unhealthyHttpFailures = 2;
    p.unhealthyTcpFailures = 5;
    p.healthySuccesses = 3;
    auto rules = CheckRules::passive(p);
    TargetHealth h("u1", "a:1", nullptr);
    h.report(rules, Outcome::tcpFailure());
    h.report(rules, Outcome::http(500));
    QCOMPARE(h.counters().tcp, 1);
    QCOMPARE(h.counters().http, 1);
    QCOMPARE(int(h.state()), int(TargetHealth::State::mostlyHealthy));
    QVERIFY(h.healthy());
    h.report(rules, Outcome::http(500));
    QCOMPARE(int(h.state()), int(TargetHealth::State::unhealthy));
    QCOMPARE(h.counters().tcp, 0);
    QCOMPARE(h.counters().http, 0);
    h.report(rules, Outcome::tcpFailure());  // already unhealthy: not counted
    QCOMPARE(h.counters().tcp, 0);
    h.report(rules, Outcome::http(200));
    QCOMPARE(h.counters().success, 1);
    QCOMPARE(int(h.state()), int(TargetHealth::State::mostlyUnhealthy));
    h.set(true);
    QCOMPARE(h.counters().success, 0);
    QCOMPARE(int(h.state()), int(TargetHealth::State::healthy));
  }

  void listenerHearsEachTransitionOnce() {
    Events events;
    HealthRegistry registry(events.listener());
    auto config = configWith({"a:1", "b:1"}, 3);
    config.upstreams[0].healthchecks.passive.healthySuccesses = 1;
    registry.sync(config);
    auto state = registry.find("u1");
    for (int i = 0; i < 5; ++i) state->report("a:1", Outcome::http(500));
    state->report("a:1", Outcome::http(200));
    QCOMPARE(events.log.size(), std::size_t(2));
    QCOMPARE(events.log[0], std::string("u1 a:1 unhealthy"));
    QCOMPARE(events.log[1], std::string("u1 a:1 healthy"));
  }

  void concurrentReportsFlipOnce() {
    Events events;
    HealthRegistry registry(events.listener());
    registry.sync(configWith({"a:1"}, 100));
    auto h = registry.find("u1")->find("a:1");
    core::HealthcheckPassive p;
    p.unhealthyHttpFailures = 100;
    auto rules = CheckRules::passive(p);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) h->report(rules, Outcome::http(500));
      });
    }
    for (auto& t : threads) t.join();
    QVERIFY(!h->healthy());
    QCOMPARE(events.log.size(), std::size_t(1));
  }

  void statusForTheAdminApi() {
    HealthRegistry registry;
    auto off = configWith({"a:1"}, 0);
    registry.sync(off);
    auto state = registry.find("u1");
    QCOMPARE(toString(*state->status("a:1")), std::string_view("HEALTHCHECKS_OFF"));
    QVERIFY(!state->status("nope:1"));
    registry.sync(configWith({"a:1"}, 1));
    QCOMPARE(toString(*state->status("a:1")), std::string_view("HEALTHY"));
    state->report("a:1", Outcome::http(500));
    QCOMPARE(toString(*state->status("a:1")), std::string_view("UNHEALTHY"));
    state->setDnsError("a:1", true);
    QCOMPARE(toString(*state->status("a:1")), std::string_view("DNS_ERROR"));
  }

  void manualHealthyAndUnhealthy() {
    Events events;
    HealthRegistry registry(events.listener());
    registry.sync(configWith({"a:1"}, 0));
    auto state = registry.find("u1");
    auto refused = state->setHealthy("a:1", false);
    QVERIFY(!refused);
    QCOMPARE(refused.errors().front().message, std::string("no healthchecker found for backend"));
    registry.sync(configWith({"a:1"}, 1));
    QVERIFY(state->setHealthy("a:1", false));
    QCOMPARE(toString(*state->status("a:1")), std::string_view("UNHEALTHY"));
    QVERIFY(state->setHealthy("a:1", true));
    QCOMPARE(toString(*state->status("a:1")), std::string_view("HEALTHY"));
    QVERIFY(!state->setHealthy("zzz:1", true));
    QCOMPARE(events.log.size(), std::size_t(2));
  }

  void healthSurvivesAConfigRebuild() {
    HealthRegistry registry;
    auto v1 = configWith({"a:1", "b:1", "gone:1"});
    registry.sync(v1);
    auto state = registry.find("u1");
    state->report("a:1", Outcome::http(500));
    QCOMPARE(toString(*state->status("a:1")), std::string_view("UNHEALTHY"));

    // New snapshot: same targets with other weights, one removed, one added.
    auto v2 = configWith({"a:1", "b:1", "new:1"});
    v2.targets[0].weight = 50;
    registry.sync(v2);
    QCOMPARE(registry.find("u1"), state);
    QCOMPARE(toString(*state->status("a:1")), std::string_view("UNHEALTHY"));
    QCOMPARE(toString(*state->status("new:1")), std::string_view("HEALTHY"));
    QVERIFY(!state->find("gone:1"));
    QCOMPARE(state->targets().size(), std::size_t(3));

    auto targets = targetsOf(v2, "u1");
    auto built = UpstreamBalancer::build(v2.upstreams[0], targets, state);
    QVERIFY(built.ok());
    const auto& b = **built;
    QVERIFY(!b.usable(0));
    WorkerState s;
    for (int i = 0; i < 6; ++i) QVERIFY(b.pick(s, {}) != 0);

    // A passive report through the new balancer reaches the shared state.
    b.report(1, Outcome::http(503));
    QCOMPARE(toString(*state->status("b:1")), std::string_view("UNHEALTHY"));

    // The upstream leaves the config: its state goes.
    registry.sync(core::Config{});
    QVERIFY(!registry.find("u1"));
  }

  void turningChecksOffForgetsWhatTheyLearned() {
    HealthRegistry registry;
    registry.sync(configWith({"a:1"}, 1));
    auto state = registry.find("u1");
    state->report("a:1", Outcome::http(500));
    registry.sync(configWith({"a:1"}, 0));
    registry.sync(configWith({"a:1"}, 1));
    QCOMPARE(toString(*state->status("a:1")), std::string_view("HEALTHY"));
  }
};

QTEST_APPLESS_MAIN(HealthStateTest)
#include "health_state_test.moc"
