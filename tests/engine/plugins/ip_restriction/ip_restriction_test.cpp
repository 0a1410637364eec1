// ip-restriction: address/CIDR parsing and matching (IPv4, IPv6, mapped), Kong's schema
// checks and messages, deny-before-allow, configured status and message.
#include <QtTest>
#include <boost/json.hpp>
#include <string>

#include "plugins/ip_restriction/ip_restriction.h"
#include "plugins/ip_restriction/ip_set.h"
#include "plugins/plugin.h"

using namespace archway;
namespace json = boost::json;
namespace ip = archway::plugins::ip;

namespace {

struct Compiled {
  std::unique_ptr<plugins::Factory> factory = plugins::makeIpRestrictionPlugin();
  core::Config config;
  plugins::Persistent persistent;
  std::shared_ptr<const plugins::Instance> instance;
  QString error;

  explicit Compiled(const std::string& configJson) {
    auto valid = plugins::schema::validate(factory->schema(), json::parse(configJson));
    if (!valid) {
      error = QString::fromStdString(valid.errorText());
      return;
    }
    core::Plugin entity;
    entity.id = "22222222-2222-2222-2222-222222222222";
    entity.name = "ip-restriction";
    plugins::CompileEnv env(config, persistent);
    auto inst = factory->compile(entity, *valid, env);
    if (!inst) {
      error = QString::fromStdString(inst.errorText());
      return;
    }
    instance = *inst;
  }

  // Runs access for a client address; returns the exit status, 0 when let through.
  int run(std::string_view clientIp, std::string* body = nullptr) const {
    plugins::Context ctx;
    ctx.enter(0);
    ctx.clientIp = clientIp;
    instance->access(ctx);
    if (body) body->assign(ctx.exitBody());
    return ctx.exited() ? ctx.exitStatus() : 0;
  }
};

ip::IpSet setOf(std::initializer_list<std::string_view> items) {
  ip::IpSet s;
  for (auto i : items) {
    if (!s.add(i)) qFatal("bad test entry");
  }
  s.finish();
  return s;
}

bool in(const ip::IpSet& s, std::string_view addr) {
  auto a = ip::parseAddress(addr);
  if (!a) qFatal("bad test address");
  return s.contains(*a);
}

}  // namespace

class IpRestrictionTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void validatesIpsAndCidrsLikeKong_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::newRow("v4") << "10.0.0.1" << true;
    QTest::newRow("v4 cidr") << "10.0.0.0/8" << true;
    QTest::newRow("v4 /0") << "0.0.0.0/0" << true;
    QTest::newRow("v4 /32") << "1.2.3.4/32" << true;
    QTest::newRow("v4 host bits") << "10.1.2.3/8" << true;
    QTest::newRow("v6") << "2001:db8::1" << true;
    QTest::newRow("v6 cidr") << "2001:db8::/32" << true;
    QTest::newRow("v6 /128") << "::1/128" << true;
    QTest::newRow("v4 /33") << "10.0.0.0/33" << false;
    QTest::newRow("v6 /129") << "::/129" << false;
    QTest::newRow("leading zero prefix") << "10.0.0.0/08" << false;
    QTest::newRow("empty prefix") << "10.0.0.0/" << false;
    QTest::newRow("octet out of range") << "256.0.0.1" << false;
    QTest::newRow("three octets") << "10.0.1" << false;
    QTest::newRow("name") << "localhost" << false;
    QTest::newRow("empty") << "" << false;
  }
  void validatesIpsAndCidrsLikeKong() {
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QCOMPARE(ip::isValidIpOrCidr(text.toStdString()), valid);
  }

  void matchesV4Ranges() {
    auto s = setOf({"10.0.0.0/8", "192.168.1.7", "172.16.0.0/12"});
    QVERIFY(in(s, "10.255.1.2"));
    QVERIFY(in(s, "10.0.0.0"));
    QVERIFY(!in(s, "11.0.0.0"));
    QVERIFY(!in(s, "9.255.255.255"));
    QVERIFY(in(s, "192.168.1.7"));
    QVERIFY(!in(s, "192.168.1.8"));
    QVERIFY(in(s, "172.31.255.255"));
    QVERIFY(!in(s, "172.32.0.0"));
  }

  void mergesOverlappingRanges() {
    auto s = setOf({"10.0.0.0/16", "10.0.0.0/8", "10.0.5.5", "0.0.0.0/0"});
    QVERIFY(in(s, "255.255.255.255"));
    QVERIFY(in(s, "0.0.0.0"));
    QVERIFY(!in(s, "::1"));
  }

  void matchesV6Ranges() {
    auto s = setOf({"2001:db8::/32", "::1", "fe80::/10"});
    QVERIFY(in(s, "2001:db8:ffff::1"));
    QVERIFY(!in(s, "2001:db9::1"));
    QVERIFY(in(s, "::1"));
    QVERIFY(!in(s, "::2"));
    QVERIFY(in(s, "fe80::1%eth0"));
    QVERIFY(!in(s, "10.0.0.1"));
  }

  void mappedClientMatchesV4Entry() {
    auto s = setOf({"127.0.0.0/8"});
    QVERIFY(in(s, "::ffff:127.0.0.1"));
    QVERIFY(!in(s, "::ffff:128.0.0.1"));
  }

  void schemaNeedsAllowOrDeny() {
    auto f = plugins::makeIpRestrictionPlugin();
    auto r = plugins::schema::validate(f->schema(), json::parse("{}"));
    QVERIFY(!r.ok());
    QCOMPARE(r.errors()[0].text(),
             std::string("config: at least one of these fields must be non-empty: "
                         "'config.allow', 'config.deny'"));
    auto empty = plugins::schema::validate(f->schema(), json::parse("{\"allow\":[]}"));
    QVERIFY(!empty.ok());
  }

  void schemaReportsBadCidrWithKongMessage() {
    auto f = plugins::makeIpRestrictionPlugin();
    auto r = plugins::schema::validate(f->schema(),
                                       json::parse("{\"deny\":[\"1.2.3.4\",\"10.0.0.0/99\"]}"));
    QVERIFY(!r.ok());
    QCOMPARE(r.errors()[0].text(),
             std::string("config.deny[1]: invalid ip or cidr range: '10.0.0.0/99'"));
  }

  void denyListRefusesWithKongMessage() {
    Compiled c("{\"deny\":[\"10.0.0.0/8\"]}");
    QVERIFY2(c.instance, qPrintable(c.error));
    std::string body;
    QCOMPARE(c.run("10.1.2.3", &body), 403);
    QCOMPARE(json::parse(body).at("message").as_string(),
             json::string("IP address not allowed: 10.1.2.3"));
    QCOMPARE(c.run("11.1.2.3"), 0);
  }

  void allowListRefusesEveryoneElse() {
    Compiled c("{\"allow\":[\"192.168.0.0/16\",\"::1\"]}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QCOMPARE(c.run("192.168.3.4"), 0);
    QCOMPARE(c.run("::1"), 0);
    QCOMPARE(c.run("192.169.0.1"), 403);
    QCOMPARE(c.run("::2"), 403);
  }

  void denyWinsOverAllow() {
    Compiled c("{\"allow\":[\"10.0.0.0/8\"],\"deny\":[\"10.0.0.5\"]}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QCOMPARE(c.run("10.0.0.4"), 0);
    QCOMPARE(c.run("10.0.0.5"), 403);
  }

  void configuredStatusAndMessage() {
    Compiled c("{\"deny\":[\"0.0.0.0/0\"],\"status\":401,\"message\":\"go \\\"away\\\"\"}");
    QVERIFY2(c.instance, qPrintable(c.error));
    std::string body;
    QCOMPARE(c.run("1.1.1.1", &body), 401);
    QCOMPARE(json::parse(body).at("message").as_string(), json::string("go \"away\""));
  }

  void unidentifiableClientIsRefused() {
    Compiled c("{\"allow\":[\"0.0.0.0/0\"]}");
    QVERIFY2(c.instance, qPrintable(c.error));
    std::string body;
    QCOMPARE(c.run("unix:", &body), 403);
    QVERIFY(body.find("unix domain sockets") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(IpRestrictionTest)
#include "ip_restriction_test.moc"
