#include <QElapsedTimer>
#include <QtTest>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../net/closed_port.h"
#include "../net/dns_test_server.h"
#include "../proxy/tls_test_upstream.h"
#include "balancer/active_checker.h"
#include "balancer/health_state.h"
#include "net/dns_resolver.h"

using namespace archway;
using namespace archway::balancer;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A tiny HTTP server on 127.0.0.1:0 running on the test's io_context: answers every request
// with `status` and closes, or never answers when `silent`.
class TestServer {
 public:
  explicit TestServer(asio::io_context& ctx) : ctx_(ctx), acceptor_(ctx) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& s : held_) s->close(ec);
    held_.clear();
  }

  int status = 200;
  bool silent = false;
  int requests = 0;
  std::string lastRequest;

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      if (silent) {
        held_.push_back(s);
      } else {
        serve(s);
      }
      accept();
    });
  }
  void serve(std::shared_ptr<tcp::socket> s) {
    auto buf = std::make_shared<std::string>();
    asio::async_read_until(*s, asio::dynamic_buffer(*buf), "\r\n\r\n",
                           [this, s, buf](boost::system::error_code ec, std::size_t) {
                             if (ec) return;
                             ++requests;
                             lastRequest = *buf;
                             auto out = std::make_shared<std::string>(
                                 "HTTP/1.1 " + std::to_string(status) +
                                 " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                             asio::async_write(*s, asio::buffer(*out),
                                               [s, out](boost::system::error_code, std::size_t) {
                                                 boost::system::error_code ignored;
                                                 s->shutdown(tcp::socket::shutdown_both, ignored);
                                               });
                           });
  }

  asio::io_context& ctx_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> held_;
};

core::Config configFor(const std::string& target, const std::function<void(core::Upstream&)>& f) {
  core::Config c;
  core::Upstream u;
  u.id = "u1";
  u.name = "backend";
  u.healthchecks.active.healthyInterval = 1;
  u.healthchecks.active.unhealthyInterval = 1;
  f(u);
  c.upstreams.push_back(u);
  core::Target t;
  t.upstreamId = "u1";
  t.target = target;
  c.targets.push_back(t);
  return c;
}

// Runs the context until `done` or the deadline; true when done.
bool runUntil(asio::io_context& ctx, const std::function<bool()>& done, int ms) {
  QElapsedTimer timer;
  timer.start();
  while (!done()) {
    if (timer.elapsed() > ms) return false;
    ctx.run_for(std::chrono::milliseconds(20));
    if (ctx.stopped()) ctx.restart();
  }
  return true;
}

// A target's health as the Admin API reports it (a hostname target: one address healthy).
bool healthy(const HealthState& state, const std::string& target) {
  return state.status(target) == TargetStatus::healthy;
}

struct Events {
  std::vector<std::string> log;
  HealthListener listener() {
    return [this](const std::string&, const std::string& target, bool healthy) {
      log.push_back(target + (healthy ? " healthy" : " unhealthy"));
    };
  }
};

}  // namespace

class ActiveCheckerTest : public QObject {
  Q_OBJECT
  std::unique_ptr<TestCertificates> certs_;  // null without the openssl command

 private slots:
  void initTestCase() {
    if (QStandardPaths::findExecutable("openssl").isEmpty()) return;
    certs_ = std::make_unique<TestCertificates>();
    const QString made = certs_->make();
    QVERIFY2(made.isEmpty(), qPrintable(made));
  }

  void httpProbesTurnATargetUnhealthyAndBack() {
    asio::io_context ctx;
    TestServer server(ctx);
    Events events;
    HealthRegistry registry(events.listener());
    const std::string target = "localhost:" + std::to_string(server.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.httpPath = "/status";
      u.healthchecks.active.headers["X-Probe"] = {"yes"};
      u.healthchecks.active.unhealthyHttpFailures = 2;
      u.healthchecks.active.healthySuccesses = 2;
    }));
    auto state = registry.find("u1");
    ActiveCheckers checkers(ctx);
    checkers.sync(registry);
    auto checker = checkers.find("u1");
    QVERIFY(checker);

    QVERIFY(runUntil(
        ctx, [&] { return server.requests >= 1; }, 3000));
    QVERIFY(server.lastRequest.rfind("GET /status HTTP/1.0\r\n", 0) == 0);
    QVERIFY(server.lastRequest.find("\r\nHost: localhost\r\n") != std::string::npos);
    QVERIFY(server.lastRequest.find("\r\nX-Probe: yes\r\n") != std::string::npos);
    QCOMPARE(toString(*state->status(target)), std::string_view("HEALTHY"));

    server.status = 500;
    const int before = server.requests;
    QVERIFY(runUntil(
        ctx, [&] { return !healthy(*state, target); }, 4000));
    QCOMPARE(server.requests - before, 2);  // unhealthy.http_failures = 2
    QCOMPARE(toString(*state->status(target)), std::string_view("UNHEALTHY"));

    server.status = 200;
    QVERIFY(runUntil(
        ctx, [&] { return healthy(*state, target); }, 4000));
    // "localhost" is judged by its one address.
    const std::string address = target + " address 127.0.0.1:" + std::to_string(server.port());
    QCOMPARE(events.log, (std::vector<std::string>{address + " unhealthy", address + " healthy"}));
    checkers.stop();
    server.close();
    ctx.run_for(std::chrono::milliseconds(50));
  }

  void tcpProbeOfAClosedPortTurnsTheTargetUnhealthy() {
    asio::io_context ctx;
    archway::testing::ClosedPort closed;
    HealthRegistry registry;
    const std::string target = "127.0.0.1:" + std::to_string(closed.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.type = "tcp";
      u.healthchecks.active.unhealthyTcpFailures = 1;
    }));
    auto checker = ActiveChecker::create(ctx, registry.find("u1"));
    checker->start();
    QVERIFY(runUntil(
        ctx, [&] { return !registry.find("u1")->find(target)->healthy(); }, 2000));
    QCOMPARE(toString(*registry.find("u1")->status(target)), std::string_view("UNHEALTHY"));
    checker->stop();
    ctx.run_for(std::chrono::milliseconds(20));
  }

  void tcpProbeOfAnOpenPortCountsSuccesses() {
    asio::io_context ctx;
    TestServer server(ctx);
    HealthRegistry registry;
    const std::string target = "127.0.0.1:" + std::to_string(server.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.type = "tcp";
      u.healthchecks.active.healthySuccesses = 1;
      u.healthchecks.active.unhealthyTcpFailures = 1;
    }));
    auto state = registry.find("u1");
    QVERIFY(state->setHealthy(target, false));
    auto checker = ActiveChecker::create(ctx, state);
    checker->start();
    QVERIFY(runUntil(
        ctx, [&] { return healthy(*state, target); }, 2000));
    checker->stop();
    server.close();
    ctx.run_for(std::chrono::milliseconds(20));
  }

  void failedTlsHandshakeCountsAsTcpFailure() {
    // https against a plain HTTP server: the handshake fails, which Kong reports as TCP failure.
    asio::io_context ctx;
    TestServer server(ctx);
    HealthRegistry registry;
    const std::string target = "localhost:" + std::to_string(server.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.type = "https";
      u.healthchecks.active.httpsSni = "backend.test";
      u.healthchecks.active.unhealthyTcpFailures = 1;
    }));
    auto state = registry.find("u1");
    auto checker = ActiveChecker::create(ctx, state);
    checker->start();
    QVERIFY(runUntil(
        ctx, [&] { return !healthy(*state, target); }, 3000));
    checker->stop();
    server.close();
    ctx.run_for(std::chrono::milliseconds(20));
  }

  void httpsProbesSpeakTlsWithTheConfiguredSni() {
    if (!certs_) QSKIP("the openssl command is not installed (Debian package openssl)");
    TlsTestUpstream up(certs_->path("server.pem"), certs_->path("server.key"));
    asio::io_context ctx;
    HealthRegistry registry;
    const std::string target = "127.0.0.1:" + std::to_string(up.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.type = "https";
      u.healthchecks.active.httpsSni = "probe.test";
      u.healthchecks.active.httpsVerifyCertificate = false;
      u.healthchecks.active.healthySuccesses = 1;
      u.healthchecks.active.unhealthyHttpFailures = 1;
    }));
    auto state = registry.find("u1");
    QVERIFY(state->setHealthy(target, false));
    auto checker = ActiveChecker::create(ctx, state);
    checker->start();
    QVERIFY(runUntil(
        ctx, [&] { return healthy(*state, target); }, 4000));
    QCOMPARE(up.last().sni, std::string("probe.test"));
    QCOMPARE(up.last().target, std::string("/"));
    up.status = 500;
    QVERIFY(runUntil(
        ctx, [&] { return !healthy(*state, target); }, 4000));
    checker->stop();
    ctx.run_for(std::chrono::milliseconds(20));
  }

  void httpsProbesVerifyTheCertificateByDefault() {
    if (!certs_) QSKIP("the openssl command is not installed (Debian package openssl)");
    // Signed by a CA the system store does not hold: https_verify_certificate (default true)
    // fails the handshake, a TCP failure for Kong.
    TlsTestUpstream up(certs_->path("server.pem"), certs_->path("server.key"));
    asio::io_context ctx;
    HealthRegistry registry;
    const std::string target = "localhost:" + std::to_string(up.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.type = "https";
      u.healthchecks.active.unhealthyTcpFailures = 1;
    }));
    auto state = registry.find("u1");
    auto checker = ActiveChecker::create(ctx, state);
    checker->start();
    QVERIFY(runUntil(
        ctx, [&] { return !healthy(*state, target); }, 4000));
    QCOMPARE(up.requests(), 0);
    QVERIFY(up.failedHandshakes() >= 1);
    checker->stop();
    ctx.run_for(std::chrono::milliseconds(20));
  }

  void resolvesTargetNamesThroughTheEngineResolverAndItsCache() {
    DnsTestServer dns;
    dns.setA("probe.test", {"127.0.0.1"}, 60);
    asio::io_context ctx;
    TestServer server(ctx);
    net::DnsOptions options;
    options.nameservers = {dns.address()};
    options.hostsFile = "";
    auto resolver = std::make_shared<net::DnsResolver>(options);
    HealthRegistry registry;
    const std::string target = "probe.test:" + std::to_string(server.port());
    registry.sync(configFor(target, [](core::Upstream&) {}));
    ActiveCheckers checkers(ctx, resolver);
    checkers.sync(registry);
    QVERIFY(runUntil(
        ctx, [&] { return server.requests >= 3; }, 6000));
    QVERIFY(server.lastRequest.find("\r\nHost: probe.test\r\n") != std::string::npos);
    // One resolution (an SRV query that finds nothing, then A) serves every probe within the
    // record's TTL.
    QCOMPARE(dns.queries("probe.test"), 2);
    QCOMPARE(toString(*registry.find("u1")->status(target)), std::string_view("HEALTHY"));
    checkers.stop();
    server.close();
    ctx.run_for(std::chrono::milliseconds(50));
  }

  // "multi.test" resolves to 127.0.0.1, where the server listens, and 127.0.0.2, where nothing
  // does: each address is probed, only .2 turns unhealthy, the target stays healthy.
  void eachResolvedAddressIsProbedAndJudgedOnItsOwn() {
    DnsTestServer dns;
    dns.setA("multi.test", {"127.0.0.1", "127.0.0.2"}, 60);
    asio::io_context ctx;
    TestServer server(ctx);
    net::DnsOptions options;
    options.nameservers = {dns.address()};
    options.hostsFile = "";
    HealthRegistry registry;
    const std::string target = "multi.test:" + std::to_string(server.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.unhealthyTcpFailures = 1;
      u.healthchecks.active.healthySuccesses = 1;
    }));
    auto state = registry.find("u1");
    ActiveCheckers checkers(ctx, std::make_shared<net::DnsResolver>(options));
    checkers.sync(registry);
    auto byIp = [&] {
      std::map<std::string, std::string> out;
      const auto d = describe(*state, target, nullptr);
      for (const auto& a : d->addresses) out[a.ip] = std::string(toString(a.status));
      return out;
    };
    const std::map<std::string, std::string> expected{{"127.0.0.1", "HEALTHY"},
                                                      {"127.0.0.2", "UNHEALTHY"}};
    QVERIFY(runUntil(
        ctx, [&] { return byIp() == expected; }, 4000));
    QVERIFY(server.requests >= 1);
    QVERIFY(server.lastRequest.find("\r\nHost: multi.test\r\n") != std::string::npos);
    QCOMPARE(toString(*state->status(target)), std::string_view("HEALTHY"));
    // The server goes away: .1 fails its next probe too, and the target is down.
    server.close();
    QVERIFY(runUntil(
        ctx, [&] { return !healthy(*state, target); }, 4000));
    QCOMPARE(byIp()["127.0.0.1"], std::string("UNHEALTHY"));
    checkers.stop();
    ctx.run_for(std::chrono::milliseconds(50));
  }

  void timeoutCountsAsTimeoutAndStopCancelsPromptly() {
    asio::io_context ctx;
    TestServer server(ctx);
    server.silent = true;
    HealthRegistry registry;
    const std::string target = "127.0.0.1:" + std::to_string(server.port());
    registry.sync(configFor(target, [](core::Upstream& u) {
      u.healthchecks.active.timeout = 1;
      u.healthchecks.active.unhealthyTimeouts = 1;
    }));
    auto state = registry.find("u1");
    auto checker = ActiveChecker::create(ctx, state);
    checker->start();
    QVERIFY(runUntil(
        ctx, [&] { return !healthy(*state, target); }, 3000));
    QCOMPARE(state->find(target)->counters().timeout, 0);  // reset by the transition

    // A probe is hanging on the silent server (the unhealthy half runs every second); stop()
    // must cancel it and every timer so the context runs dry at once.
    QVERIFY(runUntil(
                ctx, [&] { return false; }, 1100) == false);
    const auto done = checker->probesCompleted();
    checker->stop();
    server.close();
    QElapsedTimer timer;
    timer.start();
    ctx.restart();
    ctx.run();
    QVERIFY2(timer.elapsed() < 500, std::to_string(timer.elapsed()).c_str());
    QCOMPARE(checker->probesCompleted(), done);  // cancelled probes report nothing
  }

  void updateConfigDisablesAndRestartsSchedules() {
    asio::io_context ctx;
    TestServer server(ctx);
    HealthRegistry registry;
    const std::string target = "127.0.0.1:" + std::to_string(server.port());
    auto config = configFor(target, [](core::Upstream&) {});
    registry.sync(config);
    ActiveCheckers checkers(ctx);
    checkers.sync(registry);
    QVERIFY(runUntil(
        ctx, [&] { return server.requests >= 1; }, 2000));
    // Intervals to 0: the checker goes away and probing stops.
    config.upstreams[0].healthchecks.active.healthyInterval = 0;
    config.upstreams[0].healthchecks.active.unhealthyInterval = 0;
    registry.sync(config);
    checkers.sync(registry);
    QVERIFY(!checkers.find("u1"));
    const int seen = server.requests;
    ctx.run_for(std::chrono::milliseconds(1300));
    QCOMPARE(server.requests, seen);
    server.close();
    ctx.run_for(std::chrono::milliseconds(20));
  }
};

QTEST_APPLESS_MAIN(ActiveCheckerTest)
#include "active_checker_test.moc"
