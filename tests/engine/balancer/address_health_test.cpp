// Health per resolved address of a hostname target (Kong checks and balances each address of a
// name on its own): the HealthState's address sets, the balancer skipping an unhealthy address
// in every worker, passive reports landing on the address that failed.
#include <QtTest>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "balancer/health_state.h"
#include "balancer/upstream_balancer.h"
#include "net/dns_resolver.h"

using namespace archway;
using namespace archway::balancer;

namespace {

using Answer = std::vector<net::DnsAddress>;

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

std::shared_ptr<const Answer> answer(std::initializer_list<const char*> ips) {
  auto out = std::make_shared<Answer>();
  for (const char* a : ips) out->push_back({ip(a), 0, 0});
  return out;
}

// One upstream "u1" with `target` (weight 100); passive checks on unless `checks` is false.
struct Fixture {
  core::Upstream upstream;
  std::vector<core::Target> targets;
  HealthRegistry registry;
  std::shared_ptr<HealthState> state;
  std::shared_ptr<const UpstreamBalancer> balancer;

  explicit Fixture(std::vector<std::string> names, bool checks = true) {
    upstream.id = "u1";
    upstream.name = "backend";
    if (checks) {
      upstream.healthchecks.passive.unhealthyTcpFailures = 1;
      upstream.healthchecks.passive.unhealthyHttpFailures = 1;
    }
    for (auto& n : names) {
      core::Target t;
      t.upstreamId = "u1";
      t.target = n;
      targets.push_back(t);
    }
    std::vector<const core::Target*> ptrs;
    for (const auto& t : targets) ptrs.push_back(&t);
    state = registry.sync(upstream, ptrs);
    auto built = UpstreamBalancer::build(upstream, ptrs, state);
    if (!built) qFatal("%s", built.errorText().c_str());
    balancer = *built;
  }

  // One proxied try in worker `ws`: the address it goes to ("" when no peer).
  std::string route(WorkerState& ws, const std::shared_ptr<const Answer>& addresses,
                    std::shared_ptr<TargetHealth>* health = nullptr) {
    for (int again = 0; again < 2; ++again) {
      const int t = balancer->pick(ws, HashInput{});
      if (t < 0) return "";
      if (balancer->target(t).address.isIp) return balancer->target(t).address.host;
      const int k = balancer->pickAddress(ws, t, addresses);
      if (k < 0) continue;  // as the proxy: pick again, the target is now skipped
      if (health) *health = balancer->addressHealth(ws, t, k);
      return (*addresses)[static_cast<std::size_t>(k)].ip.to_string();
    }
    return "";
  }
};

std::map<std::string, std::string> healthByIp(const TargetDescription& d) {
  std::map<std::string, std::string> out;
  for (const auto& a : d.addresses) out[a.ip] = std::string(toString(a.status));
  return out;
}

}  // namespace

class AddressHealthTest : public QObject {
  Q_OBJECT
 private slots:
  void eachAddressHasItsOwnHealthAndNewAnswersReplaceTheSet() {
    Fixture f({"multi.test:9000"});
    const std::string key = "multi.test:9000";
    QVERIFY(f.state->needsResolving(key));
    auto h = f.state->resolved(key, *answer({"127.0.0.1", "127.0.0.2"}), true);
    QCOMPARE(h.size(), std::size_t(2));
    QVERIFY(!f.state->needsResolving(key));
    const auto rules = CheckRules::passive(f.upstream.healthchecks.passive);
    QVERIFY(h[1]->report(rules, Outcome::tcpFailure()));  // flips .2 only
    QVERIFY(h[0]->healthy());
    QCOMPARE(toString(*f.state->status(key)), std::string_view("HEALTHY"));
    auto d = describe(*f.state, key, nullptr);
    QVERIFY(d);
    QCOMPARE(healthByIp(*d), (std::map<std::string, std::string>{{"127.0.0.1", "HEALTHY"},
                                                                 {"127.0.0.2", "UNHEALTHY"}}));
    QCOMPARE(d->addresses[0].port, std::uint16_t(9000));
    QCOMPARE(d->weights.total, 200LL);  // each A address weighs what the target does
    QCOMPARE(d->weights.available, 100LL);

    // The next answer: .2 keeps what it learned, .3 starts healthy, .1 is dropped.
    auto next = f.state->resolved(key, *answer({"127.0.0.2", "127.0.0.3"}), true);
    QCOMPARE(next[0], h[1]);
    QVERIFY(next[1]->healthy());
    d = describe(*f.state, key, nullptr);
    QCOMPARE(healthByIp(*d), (std::map<std::string, std::string>{{"127.0.0.2", "UNHEALTHY"},
                                                                 {"127.0.0.3", "HEALTHY"}}));
    // A worker rebinding an older answer to a new config only adds.
    f.state->resolved(key, *answer({"127.0.0.1"}), false);
    QCOMPARE(describe(*f.state, key, nullptr)->addresses.size(), std::size_t(3));

    // Every address down: the target is down.
    f.state->force(key, false);
    QCOMPARE(toString(*f.state->status(key)), std::string_view("UNHEALTHY"));
    QCOMPARE(f.state->weights(key).available, 0LL);
  }

  void oneAddressIsSetByHandAndUnknownAddressesAreRefused() {
    Fixture f({"multi.test:9000", "127.0.0.9:9009"});
    const std::string key = "multi.test:9000";
    auto h = f.state->resolved(key, *answer({"127.0.0.1", "::1"}), true);
    QVERIFY(f.state->setAddressHealthy(key, "127.0.0.1", false));  // the target's port
    QVERIFY(!h[0]->healthy());
    QVERIFY(h[1]->healthy());
    QVERIFY(f.state->setAddressHealthy(key, "[::1]:9000", false));
    QVERIFY(!h[1]->healthy());
    QCOMPARE(toString(*f.state->status(key)), std::string_view("UNHEALTHY"));
    QVERIFY(f.state->setAddressHealthy(key, "::1", true));
    QVERIFY(h[1]->healthy());
    QVERIFY(!f.state->setAddressHealthy(key, "127.0.0.1:9001", true));  // another port
    QVERIFY(!f.state->setAddressHealthy(key, "127.0.0.5", true));
    QVERIFY(!f.state->setAddressHealthy(key, "not-an-ip", true));
    // An IP target's one address is the target itself.
    QVERIFY(f.state->setAddressHealthy("127.0.0.9:9009", "127.0.0.9:9009", false));
    QVERIFY(!f.state->find("127.0.0.9:9009")->healthy());

    Fixture off({"multi.test:9000"}, false);
    off.state->resolved(key, *answer({"127.0.0.1"}), true);
    auto refused = off.state->setAddressHealthy(key, "127.0.0.1", false);
    QVERIFY(!refused);
    QCOMPARE(refused.errors().front().message, std::string("no healthchecker found for backend"));
    QCOMPARE(healthByIp(*describe(*off.state, key, nullptr)),
             (std::map<std::string, std::string>{{"127.0.0.1", "HEALTHCHECKS_OFF"}}));
  }

  void aNameThatDoesNotResolveIsDnsErrorWithoutAddresses() {
    Fixture f({"multi.test:9000"});
    const std::string key = "multi.test:9000";
    f.state->resolved(key, *answer({"127.0.0.1"}), true);
    f.state->setDnsError(key, true);
    auto d = describe(*f.state, key, nullptr);
    QCOMPARE(toString(d->status), std::string_view("DNS_ERROR"));
    QVERIFY(d->addresses.empty());
    QCOMPARE(d->weights.total, 0LL);
    f.state->resolved(key, *answer({"127.0.0.1"}), true);  // resolves again
    QCOMPARE(toString(*f.state->status(key)), std::string_view("HEALTHY"));

    // Resolving for the Admin API: a name the resolver does not know (no nameserver answers
    // for it, no hosts entry) is DNS_ERROR, and nothing is recorded for the workers.
    net::DnsOptions options;
    options.hostsFile = "";
    options.nameservers = {"127.0.0.1:1"};
    options.timeout = std::chrono::seconds(1);
    options.attempts = 1;
    net::DnsResolver resolver(options);
    Fixture g({"nowhere.test:80"});
    d = describe(*g.state, "nowhere.test:80", &resolver);
    QCOMPARE(toString(d->status), std::string_view("DNS_ERROR"));
    QVERIFY(!g.state->find("nowhere.test:80")->dnsError());
    QVERIFY(g.state->needsResolving("nowhere.test:80"));
  }

  // Two workers balance over "multi.test" (127.0.0.1 and 127.0.0.2): a failed try on .2 marks
  // .2 only, and both workers then send everything to .1.
  void passiveFailureOfOneAddressSteersEveryWorkerToTheOther() {
    Fixture f({"multi.test:9000"});
    WorkerState w1, w2;
    auto a1 = answer({"127.0.0.1", "127.0.0.2"});
    auto a2 = answer({"127.0.0.1", "127.0.0.2"});  // the second worker's own DNS cache
    std::map<std::string, int> seen;
    for (int i = 0; i < 4; ++i) ++seen[f.route(w1, a1)];
    QCOMPARE(seen, (std::map<std::string, int>{{"127.0.0.1", 2}, {"127.0.0.2", 2}}));

    std::shared_ptr<TargetHealth> picked;
    while (f.route(w1, a1, &picked) != "127.0.0.2") {
    }
    f.balancer->report(0, Outcome::tcpFailure(), picked.get());
    QVERIFY(!picked->healthy());
    QCOMPARE(toString(*f.state->status("multi.test:9000")), std::string_view("HEALTHY"));
    for (int i = 0; i < 6; ++i) {
      QCOMPARE(f.route(w1, a1), std::string("127.0.0.1"));
      QCOMPARE(f.route(w2, a2), std::string("127.0.0.1"));
    }
    auto h = f.balancer->health();
    QCOMPARE(h.total, 200LL);
    QCOMPARE(h.available, 100LL);
    QVERIFY(h.healthy);

    // A response status counts against the address that answered.
    f.route(w2, a2, &picked);
    f.balancer->report(0, Outcome::http(500), picked.get());
    QCOMPARE(f.route(w1, a1), std::string());  // no address left: no peer
    QCOMPARE(toString(*f.state->status("multi.test:9000")), std::string_view("UNHEALTHY"));
    QVERIFY(!f.balancer->health().healthy);

    // The name moves to .2 and .3 and the active checker resolves it: the new set reaches
    // the workers, whose own answers (.3 starts healthy) take the traffic to .3.
    auto a3 = answer({"127.0.0.2", "127.0.0.3"});
    f.state->resolved("multi.test:9000", *a3, true);
    for (int i = 0; i < 3; ++i) QCOMPARE(f.route(w1, a3), std::string("127.0.0.3"));
    auto a4 = answer({"127.0.0.3"});
    for (int i = 0; i < 3; ++i) QCOMPARE(f.route(w2, a4), std::string("127.0.0.3"));
    auto d = describe(*f.state, "multi.test:9000", nullptr);
    QCOMPARE(healthByIp(*d), (std::map<std::string, std::string>{{"127.0.0.3", "HEALTHY"}}));
  }

  // A worker that holds a dropped address's health (its answer is older than the set) maps its
  // answer again once the set changes, so an address brought back by probes is used again.
  void aWorkerMapsItsAnswerAgainWhenTheSetChanges() {
    Fixture f({"multi.test:9000"});
    WorkerState ws;
    auto a = answer({"127.0.0.1"});
    QCOMPARE(f.route(ws, a), std::string("127.0.0.1"));
    f.state->force("multi.test:9000", false);
    QCOMPARE(f.route(ws, a), std::string());
    f.state->resolved("multi.test:9000", *answer({"127.0.0.2"}), true);  // .1 dropped
    f.state->resolved("multi.test:9000", *answer({"127.0.0.1"}), true);  // back, healthy
    QCOMPARE(f.route(ws, a), std::string("127.0.0.1"));
  }

  // A worker that first resolves the name after its addresses went down (the target's own
  // state still says healthy) finds out in pickAddress() and does not send the request there;
  // the target then counts as down for every worker, until one of its addresses recovers.
  void aWorkerResolvingLateSkipsAddressesAlreadyDown() {
    Fixture f({"multi.test:9000", "127.0.0.9:9009"});
    auto h = f.state->resolved("multi.test:9000", *answer({"127.0.0.1", "127.0.0.2"}), true);
    const auto rules = CheckRules::passive(f.upstream.healthchecks.passive);
    for (auto& a : h) a->report(rules, Outcome::tcpFailure());
    QVERIFY(f.state->find("multi.test:9000")->healthy());  // not resolved again yet
    WorkerState ws;
    auto a = answer({"127.0.0.1", "127.0.0.2"});
    for (int i = 0; i < 4; ++i) QCOMPARE(f.route(ws, a), std::string("127.0.0.9"));
    QVERIFY(!f.state->find("multi.test:9000")->healthy());
    WorkerState late;
    QCOMPARE(f.balancer->pick(late, HashInput{}), 1);
    h[1]->set(true);
    QVERIFY(f.state->find("multi.test:9000")->healthy());
    QCOMPARE(f.route(late, a), std::string("127.0.0.2"));
  }

  void withoutHealthChecksEveryAddressTakesTraffic() {
    Fixture f({"multi.test:9000"}, false);
    WorkerState ws;
    auto a = answer({"127.0.0.1", "127.0.0.2"});
    std::shared_ptr<TargetHealth> picked;
    f.route(ws, a, &picked);
    f.balancer->report(0, Outcome::tcpFailure(), picked.get());  // no checks: ignored
    std::map<std::string, int> seen;
    for (int i = 0; i < 4; ++i) ++seen[f.route(ws, a)];
    QCOMPARE(seen.size(), std::size_t(2));
    QCOMPARE(toString(*f.state->status("multi.test:9000")), std::string_view("HEALTHCHECKS_OFF"));
  }
};

QTEST_APPLESS_MAIN(AddressHealthTest)
#include "address_health_test.moc"
