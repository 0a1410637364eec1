// DNS with the records' TTLs: the resolver against a real UDP DNS server on loopback
// (dns_test_server.h), and a worker's cache: re-resolution after the TTL, stale answers while
// refreshing and when the server fails, negative answers.
#include <QtTest>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>

#include "dns_test_server.h"
#include "net/dns_resolver.h"

using namespace archway;
using namespace std::chrono_literals;

namespace {

net::DnsOptions optionsFor(const DnsTestServer& server) {
  net::DnsOptions o;
  o.nameservers = {server.address()};
  o.hostsFile = "";
  o.timeout = 1s;
  o.attempts = 1;
  o.threads = 1;
  return o;
}

std::string firstIp(const net::DnsAnswer& a) {
  return a.addresses.empty() ? std::string() : a.addresses.front().ip.to_string();
}

// Runs one cache lookup to completion on `io`.
net::DnsCache::Lookup lookupNow(boost::asio::io_context& io, net::DnsCache& cache,
                                const std::string& host) {
  net::DnsCache::Lookup out;
  bool done = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        out = co_await cache.lookup(host);
        done = true;
      },
      boost::asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(10ms);
  }
  if (!done) qFatal("lookup of %s did not finish", host.c_str());
  return out;
}

// Runs `io` for `d` even while it has nothing to do (answers are posted to it meanwhile).
void runIo(boost::asio::io_context& io, std::chrono::milliseconds d) {
  auto guard = boost::asio::make_work_guard(io);
  io.restart();
  io.run_for(d);
}

std::string ipOf(const net::DnsCache::Lookup& l) {
  return l.addresses && !l.addresses->empty() ? l.addresses->front().ip.to_string()
                                              : std::string();
}

}  // namespace

class DnsResolverTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void answersWithTheRecordsTtl() {
    DnsTestServer server;
    server.setA("api.test", {"127.0.0.7", "127.0.0.8"}, 42);
    net::DnsResolver r(optionsFor(server));
    auto a = r.resolveNow("api.test");
    QCOMPARE(int(a.status), int(net::DnsStatus::ok));
    QCOMPARE(a.ttl, 42u);
    QCOMPARE(a.addresses.size(), std::size_t{2});
    QCOMPARE(firstIp(a), std::string("127.0.0.7"));
    QCOMPARE(int(a.type), int(net::DnsType::a));
  }

  void validTtlReplacesTheRecordsTtl() {
    DnsTestServer server;
    server.setA("api.test", {"127.0.0.7"}, 42);
    auto o = optionsFor(server);
    o.validTtl = 5s;
    net::DnsResolver r(o);
    QCOMPARE(r.resolveNow("api.test").ttl, 5u);
  }

  void unknownNameIsNotFound() {
    DnsTestServer server;
    net::DnsResolver r(optionsFor(server));
    auto a = r.resolveNow("missing.test");
    QCOMPARE(int(a.status), int(net::DnsStatus::notFound));
    QVERIFY(a.addresses.empty());
  }

  void serverFailureIsAnError() {
    DnsTestServer server;
    server.setA("api.test", {"127.0.0.7"}, 42);
    server.setServfail(true);
    net::DnsResolver r(optionsFor(server));
    QCOMPARE(int(r.resolveNow("api.test").status), int(net::DnsStatus::error));
  }

  void srvRecordsGivePortAndWeight() {
    DnsTestServer server;
    server.setA("node1.test", {"127.0.0.11"}, 60);
    server.setA("node2.test", {"127.0.0.12"}, 60);
    server.setSrv("svc.test",
                  {{10, 5, 8001, "node1.test"}, {10, 50, 8002, "node2.test"},
                   {20, 100, 8003, "backup.test"}},
                  30);
    net::DnsResolver r(optionsFor(server));  // default order: LAST, SRV, A, CNAME
    auto a = r.resolveNow("svc.test");
    QCOMPARE(int(a.status), int(net::DnsStatus::ok));
    QCOMPARE(int(a.type), int(net::DnsType::srv));
    // The lowest priority only, heavier first, each with its record's port.
    QCOMPARE(a.addresses.size(), std::size_t{2});
    QCOMPARE(a.addresses[0].ip.to_string(), std::string("127.0.0.12"));
    QCOMPARE(a.addresses[0].port, std::uint16_t{8002});
    QCOMPARE(a.addresses[0].weight, std::uint16_t{50});
    QCOMPARE(a.addresses[1].port, std::uint16_t{8001});
    QCOMPARE(a.ttl, 30u);
    // A name with A records only falls through to A.
    server.setA("plain.test", {"127.0.0.9"}, 60);
    auto plain = r.resolveNow("plain.test");
    QCOMPARE(int(plain.type), int(net::DnsType::a));
    QCOMPARE(firstIp(plain), std::string("127.0.0.9"));
    QCOMPARE(plain.addresses[0].port, std::uint16_t{0});
  }

  void orderDecidesTheRecordType() {
    QVERIFY(!net::parseDnsOrder("A,MX").ok());
    auto order = net::parseDnsOrder("last, a ,SRV");
    QVERIFY(order.ok());
    QCOMPARE(order->size(), std::size_t{3});
    DnsTestServer server;
    server.setA("both.test", {"127.0.0.5"}, 60);
    server.setA("n.test", {"127.0.0.6"}, 60);
    server.setSrv("both.test", {{1, 1, 9000, "n.test"}}, 60);
    auto o = optionsFor(server);
    o.order = *net::parseDnsOrder("A,SRV");
    net::DnsResolver r(o);
    auto a = r.resolveNow("both.test");
    QCOMPARE(int(a.type), int(net::DnsType::a));
    QCOMPARE(firstIp(a), std::string("127.0.0.5"));
    // LAST: the type that answered last time goes first.
    o.order = *net::parseDnsOrder("LAST,A,SRV");
    net::DnsResolver last(o);
    QCOMPARE(int(last.resolveNow("both.test", net::DnsType::srv).type), int(net::DnsType::srv));
  }

  void hostsFileComesFirst() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("hosts").toStdString();
    std::ofstream(path) << "# comment\n127.0.0.99 pinned.test other.test\n";
    DnsTestServer server;
    server.setA("pinned.test", {"127.0.0.7"}, 60);
    auto o = optionsFor(server);
    o.hostsFile = path;
    net::DnsResolver r(o);
    auto a = r.resolveNow("Pinned.Test");
    QCOMPARE(firstIp(a), std::string("127.0.0.99"));
    QVERIFY(a.fromHostsFile);
    QCOMPARE(server.queries("pinned.test"), 0);
  }

  void rejectsBadNameservers() {
    QVERIFY(net::checkNameservers({"127.0.0.1", "10.0.0.1:5353"}).ok());
    QVERIFY(!net::checkNameservers({"dns.example"}).ok());
    QVERIFY(!net::checkNameservers({"127.0.0.1:0"}).ok());
  }

  void cacheKeepsAnAnswerForItsTtlThenResolvesAgain() {
    DnsTestServer server;
    server.setA("api.test", {"127.0.0.2"}, 1);
    auto o = optionsFor(server);
    o.staleTtl = 0s;
    auto resolver = std::make_shared<net::DnsResolver>(o);
    boost::asio::io_context io;
    net::DnsCache cache(io, resolver);
    QCOMPARE(ipOf(lookupNow(io, cache, "api.test")), std::string("127.0.0.2"));
    server.setA("api.test", {"127.0.0.3"}, 1);
    // Default order LAST,SRV,A: an SRV query (no such record), then A.
    QCOMPARE(server.queries("api.test"), 2);
    // Within the TTL: from the cache, no query.
    QCOMPARE(ipOf(lookupNow(io, cache, "api.test")), std::string("127.0.0.2"));
    QCOMPARE(server.queries("api.test"), 2);
    QTest::qWait(1200);
    auto after = lookupNow(io, cache, "api.test");
    QCOMPARE(ipOf(after), std::string("127.0.0.3"));
    QVERIFY(!after.stale);
    // LAST: the refresh asks for A first, and only for A.
    QCOMPARE(server.queries("api.test"), 3);
  }

  void staleAnswerServedWhileRefreshing() {
    DnsTestServer server;
    server.setA("api.test", {"127.0.0.2"}, 1);
    auto o = optionsFor(server);
    o.staleTtl = 3s;
    auto resolver = std::make_shared<net::DnsResolver>(o);
    boost::asio::io_context io;
    net::DnsCache cache(io, resolver);
    QCOMPARE(ipOf(lookupNow(io, cache, "api.test")), std::string("127.0.0.2"));
    server.setA("api.test", {"127.0.0.3"}, 1);
    QTest::qWait(1200);
    // Expired: the old address at once, and a refresh in the background.
    auto stale = lookupNow(io, cache, "api.test");
    QVERIFY(stale.stale);
    QCOMPARE(ipOf(stale), std::string("127.0.0.2"));
    QTRY_COMPARE_WITH_TIMEOUT(
        [&] {
          io.restart();
          io.run_for(5ms);
          return ipOf(lookupNow(io, cache, "api.test"));
        }(),
        std::string("127.0.0.3"), 3000);
  }

  void staleAnswerServedWhenTheServerFailsThenTheFailure() {
    DnsTestServer server;
    server.setA("api.test", {"127.0.0.2"}, 1);
    auto o = optionsFor(server);
    o.staleTtl = 2s;
    o.errorTtl = 1s;
    auto resolver = std::make_shared<net::DnsResolver>(o);
    boost::asio::io_context io;
    net::DnsCache cache(io, resolver);
    QCOMPARE(ipOf(lookupNow(io, cache, "api.test")), std::string("127.0.0.2"));
    const int initial = server.queries("api.test");  // SRV (none), then A
    server.setServfail(true);
    QTest::qWait(1200);  // expired
    // The stale address at once, and one refresh in the background: A (the last type that
    // answered), then SRV; both fail.
    auto l = lookupNow(io, cache, "api.test");
    QCOMPARE(int(l.status), int(net::DnsStatus::ok));
    QCOMPARE(ipOf(l), std::string("127.0.0.2"));
    QVERIFY(l.stale);
    QTRY_COMPARE_WITH_TIMEOUT(server.queries("api.test"), initial + 2, 3000);
    const auto refreshFailed = std::chrono::steady_clock::now();
    runIo(io, 50ms);  // the failure reaches the cache
    for (int i = 0; i < 4; ++i) {
      l = lookupNow(io, cache, "api.test");
      QCOMPARE(int(l.status), int(net::DnsStatus::ok));
      QCOMPARE(ipOf(l), std::string("127.0.0.2"));
      QVERIFY(l.stale);
      runIo(io, 50ms);
    }
    // A failed refresh is not repeated on every lookup: not before dns_error_ttl (unless a
    // loaded machine made these 250 ms last that long).
    if (std::chrono::steady_clock::now() - refreshFailed < o.errorTtl)
      QCOMPARE(server.queries("api.test"), initial + 2);
    QTest::qWait(2000);  // past the stale window
    auto failed = lookupNow(io, cache, "api.test");
    QCOMPARE(int(failed.status), int(net::DnsStatus::error));
    QVERIFY(!failed.addresses);
    // The server is back: after dns_error_ttl the name resolves again.
    server.setServfail(false);
    QTest::qWait(1100);
    QCOMPARE(ipOf(lookupNow(io, cache, "api.test")), std::string("127.0.0.2"));
  }

  void notFoundIsRememberedForItsTtl() {
    DnsTestServer server;
    auto o = optionsFor(server);
    o.notFoundTtl = 30s;
    auto resolver = std::make_shared<net::DnsResolver>(o);
    boost::asio::io_context io;
    net::DnsCache cache(io, resolver);
    QCOMPARE(int(lookupNow(io, cache, "gone.test").status), int(net::DnsStatus::notFound));
    const int asked = server.queries("gone.test");
    QVERIFY(asked >= 1);
    server.setA("gone.test", {"127.0.0.4"}, 60);
    QCOMPARE(int(lookupNow(io, cache, "gone.test").status), int(net::DnsStatus::notFound));
    QCOMPARE(server.queries("gone.test"), asked);
  }

  void concurrentLookupsShareOneQuery() {
    DnsTestServer server;
    server.setA("api.test", {"127.0.0.2"}, 60);
    auto resolver = std::make_shared<net::DnsResolver>(optionsFor(server));
    boost::asio::io_context io;
    net::DnsCache cache(io, resolver);
    int done = 0;
    std::vector<std::string> got;
    for (int i = 0; i < 10; ++i) {
      boost::asio::co_spawn(
          io,
          [&]() -> boost::asio::awaitable<void> {
            auto l = co_await cache.lookup("api.test");
            got.push_back(ipOf(l));
            ++done;
          },
          boost::asio::detached);
    }
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (done < 10 && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(10ms);
    }
    QCOMPARE(done, 10);
    for (const auto& ip : got) QCOMPARE(ip, std::string("127.0.0.2"));
    QCOMPARE(server.queries("api.test"), 2);  // one SRV and one A query for all ten
  }
};

QTEST_GUILESS_MAIN(DnsResolverTest)
#include "dns_resolver_test.moc"
