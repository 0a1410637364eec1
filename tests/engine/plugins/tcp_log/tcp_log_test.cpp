// tcp-log: Kong's schema; one JSON line per request received by a real TCP server (and over
// TLS with SNI); a connection the server closed is replaced.
#include <QtTest>
#include <boost/json.hpp>

#include "../../net/closed_port.h"
#include "../log/log_test_support.h"
#include "../log/test_servers.h"
#include "plugins/tcp_log/tcp_log.h"

using namespace archway;
namespace json = boost::json;
using namespace std::chrono_literals;

class TcpLogTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<plugins::Factory> factory_ = plugins::makeTcpLogPlugin();

 private Q_SLOTS:
  void cleanup() { plugins::log::shutdownQueues(); }

  void nameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("tcp-log"));
    QCOMPARE(factory_->priority(), 7);
  }

  void schemaDefaults() {
    auto r = plugins::schema::validate(factory_->schema(),
                                       json::parse("{\"host\":\"logs.internal\",\"port\":514}"));
    QVERIFY2(r.ok(), r.errorText().c_str());
    QCOMPARE(r->at("timeout").to_number<int>(), 10000);
    QCOMPARE(r->at("keepalive").to_number<int>(), 60000);
    QCOMPARE(r->at("tls").as_bool(), false);
    QVERIFY(r->at("tls_sni").is_null());
  }

  void schemaErrors_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("error");
    QTest::newRow("missing") << "{}"
                             << "config.host: required field missing\n"
                                "config.port: required field missing";
    QTest::newRow("host with port") << "{\"host\":\"logs:514\",\"port\":514}"
                                    << "config.host: must not have a port";
    QTest::newRow("bad host") << "{\"host\":\"a b\",\"port\":514}"
                              << "config.host: invalid value: a b";
    QTest::newRow("bad ipv4") << "{\"host\":\"300.1.1.1\",\"port\":514}"
                              << "config.host: invalid value: 300.1.1.1";
    QTest::newRow("port range") << "{\"host\":\"h\",\"port\":70000}"
                                << "config.port: value should be between 0 and 65535";
  }
  void schemaErrors() {
    QFETCH(QString, input);
    QFETCH(QString, error);
    auto r = plugins::schema::validate(factory_->schema(), json::parse(input.toStdString()));
    QVERIFY(!r.ok());
    QCOMPARE(logtest::errorsOf(r), error);
  }

  void hostForms_data() {
    QTest::addColumn<QString>("host");
    QTest::addColumn<bool>("valid");
    QTest::newRow("name") << "logs.example.com" << true;
    QTest::newRow("ipv4") << "10.0.0.1" << true;
    QTest::newRow("ipv6") << "::1" << true;
    QTest::newRow("bracketed ipv6") << "[::1]" << true;
    QTest::newRow("bracketed ipv6 port") << "[::1]:80" << false;
    QTest::newRow("dash end") << "a-.b" << false;
    QTest::newRow("empty segment") << "a..b" << false;
  }
  void hostForms() {
    QFETCH(QString, host);
    QFETCH(bool, valid);
    json::object in{{"host", host.toStdString()}, {"port", 1}};
    QCOMPARE(plugins::schema::validate(factory_->schema(), in).ok(), valid);
  }

  void sendsOneJsonLinePerRequest() {
    logtest::LineSink sink;
    plugins::Persistent persistent;
    auto inst = logtest::compile(
        *factory_, json::object{{"host", "127.0.0.1"}, {"port", sink.port()}}, persistent);
    for (int status : {200, 401, 500}) {
      logtest::Exchange x(status);
      inst->log(x.ctx);
    }
    QVERIFY(sink.waitLines(3, 5s));
    auto lines = sink.lines();
    int want[] = {200, 401, 500};
    for (int i = 0; i < 3; ++i) {
      json::value v = json::parse(lines[static_cast<std::size_t>(i)]);
      QCOMPARE(v.at("response").at("status").to_number<int>(), want[i]);
      QCOMPARE(std::string(v.at("service").at("name").as_string()), std::string("items"));
    }
    QCOMPARE(sink.connections(), 1);
  }

  void reconnectsAfterTheServerClosed() {
    logtest::LineSink sink(false, true);
    plugins::Persistent persistent;
    auto inst = logtest::compile(
        *factory_, json::object{{"host", "127.0.0.1"}, {"port", sink.port()}}, persistent);
    logtest::Exchange x;
    for (std::size_t i = 1; i <= 3; ++i) {
      inst->log(x.ctx);
      QVERIFY(sink.waitLines(i, 5s));
      QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
      QTest::qWait(20);  // let the server's close arrive
    }
    QCOMPARE(sink.connections(), 3);
  }

  void unreachableServerDropsTheEntry() {
    archway::testing::ClosedPort closed;
    const unsigned short port = closed.port();
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, json::object{{"host", "127.0.0.1"}, {"port", port}},
                                 persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QTRY_COMPARE_WITH_TIMEOUT(logtest::queueOf(*inst).stats().lost, std::uint64_t(1), 5000);
    QCOMPARE(logtest::queueOf(*inst).stats().failures, std::uint64_t(1));  // no retries
  }

  void sendsOverTlsWithSni() {
    logtest::LineSink sink(true);
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_,
                                 json::object{{"host", "127.0.0.1"},
                                              {"port", sink.port()},
                                              {"tls", true},
                                              {"tls_sni", "logs.example.test"}},
                                 persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(sink.waitLines(1, 5s));
    QCOMPARE(json::parse(sink.lines()[0]).at("response").at("status").to_number<int>(), 200);
    QCOMPARE(sink.lastSni(), std::string("logs.example.test"));
  }
};

QTEST_GUILESS_MAIN(TcpLogTest)
#include "tcp_log_test.moc"
