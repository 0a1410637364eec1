// udp-log: Kong's schema; one datagram holding the JSON object per request, received by a real
// UDP socket.
#include <QtTest>
#include <boost/json.hpp>

#include "../log/log_test_support.h"
#include "../log/test_servers.h"
#include "plugins/udp_log/udp_log.h"

using namespace archway;
namespace json = boost::json;
using namespace std::chrono_literals;

class UdpLogTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<plugins::Factory> factory_ = plugins::makeUdpLogPlugin();

 private Q_SLOTS:
  void cleanup() { plugins::log::shutdownQueues(); }

  void nameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("udp-log"));
    QCOMPARE(factory_->priority(), 8);
  }

  void schemaDefaultsAndErrors() {
    auto ok = plugins::schema::validate(factory_->schema(),
                                        json::parse("{\"host\":\"127.0.0.1\",\"port\":9999}"));
    QVERIFY2(ok.ok(), ok.errorText().c_str());
    QCOMPARE(ok->at("timeout").to_number<int>(), 10000);
    auto bad = plugins::schema::validate(factory_->schema(),
                                         json::parse("{\"host\":\"h:1\",\"port\":-1}"));
    QCOMPARE(logtest::errorsOf(bad), QString("config.host: must not have a port\n"
                                             "config.port: value should be between 0 and 65535"));
  }

  void sendsOneDatagramPerRequest() {
    logtest::UdpSink sink;
    plugins::Persistent persistent;
    auto inst = logtest::compile(
        *factory_, json::object{{"host", "127.0.0.1"}, {"port", sink.port()}}, persistent);
    for (int status : {200, 502}) {
      logtest::Exchange x(status);
      inst->log(x.ctx);
    }
    QVERIFY(sink.waitDatagrams(2, 5s));
    auto got = sink.datagrams();
    QCOMPARE(got.size(), std::size_t(2));
    QVERIFY(got[0].back() == '}');  // the object alone, no newline
    QCOMPARE(json::parse(got[0]).at("response").at("status").to_number<int>(), 200);
    QCOMPARE(json::parse(got[1]).at("response").at("status").to_number<int>(), 502);
    QCOMPARE(std::string(json::parse(got[1]).at("request").at("method").as_string()),
             std::string("GET"));
  }
};

QTEST_GUILESS_MAIN(UdpLogTest)
#include "udp_log_test.moc"
