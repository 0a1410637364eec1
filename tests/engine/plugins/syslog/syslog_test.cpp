// syslog: Kong's schema; the severity chosen by the response status, log_level filtering and
// the facility, as handed to syslog(3) (a test sink stands in for /dev/log).
#include <syslog.h>

#include <QtTest>
#include <boost/json.hpp>
#include <mutex>

#include "../log/log_test_support.h"
#include "plugins/syslog/syslog.h"

using namespace archway;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::mutex gMu;
std::vector<std::pair<int, std::string>> gGot;

void capture(int priority, std::string_view message) {
  std::lock_guard lock(gMu);
  gGot.emplace_back(priority, std::string(message));
}

std::vector<std::pair<int, std::string>> got() {
  std::lock_guard lock(gMu);
  return gGot;
}

}  // namespace

class SyslogTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<plugins::Factory> factory_ = plugins::makeSyslogPlugin();

 private Q_SLOTS:
  void initTestCase() { plugins::syslog_plugin::setSinkForTesting(capture); }
  void init() {
    std::lock_guard lock(gMu);
    gGot.clear();
  }
  void cleanup() { plugins::log::shutdownQueues(); }

  void nameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("syslog"));
    QCOMPARE(factory_->priority(), 4);
  }

  void schemaDefaultsAndErrors() {
    auto ok = plugins::schema::validate(factory_->schema(), json::object{});
    QVERIFY(ok.ok());
    for (const char* f :
         {"log_level", "successful_severity", "client_errors_severity", "server_errors_severity"})
      QCOMPARE(std::string(ok->at(f).as_string()), std::string("info"));
    QCOMPARE(std::string(ok->at("facility").as_string()), std::string("user"));
    auto bad = plugins::schema::validate(
        factory_->schema(), json::parse("{\"log_level\":\"error\",\"facility\":\"local8\"}"));
    QCOMPARE(logtest::errorsOf(bad),
             QString("config.log_level: expected one of: debug, info, notice, warning, err, "
                     "crit, alert, emerg\n"
                     "config.facility: expected one of: auth, authpriv, cron, daemon, ftp, "
                     "kern, lpr, mail, news, syslog, user, uucp, local0, local1, local2, local3, "
                     "local4, local5, local6, local7"));
  }

  void severityFollowsTheStatus() {
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_,
                                 json::object{{"log_level", "debug"},
                                              {"successful_severity", "notice"},
                                              {"client_errors_severity", "warning"},
                                              {"server_errors_severity", "crit"},
                                              {"facility", "local3"}},
                                 persistent);
    for (int status : {200, 302, 404, 500}) {
      logtest::Exchange x(status);
      inst->log(x.ctx);
    }
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    auto g = got();
    QCOMPARE(g.size(), std::size_t(4));
    QCOMPARE(g[0].first, LOG_LOCAL3 | LOG_NOTICE);
    QCOMPARE(g[1].first, LOG_LOCAL3 | LOG_NOTICE);
    QCOMPARE(g[2].first, LOG_LOCAL3 | LOG_WARNING);
    QCOMPARE(g[3].first, LOG_LOCAL3 | LOG_CRIT);
    QCOMPARE(json::parse(g[3].second).at("response").at("status").to_number<int>(), 500);
  }

  void logLevelFiltersLessSevereMessages() {
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_,
                                 json::object{{"log_level", "err"},
                                              {"successful_severity", "info"},
                                              {"client_errors_severity", "err"},
                                              {"server_errors_severity", "alert"}},
                                 persistent);
    for (int status : {200, 403, 503}) {
      logtest::Exchange x(status);
      inst->log(x.ctx);
    }
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    auto g = got();
    QCOMPARE(g.size(), std::size_t(2));
    QCOMPARE(g[0].first, LOG_USER | LOG_ERR);
    QCOMPARE(g[1].first, LOG_USER | LOG_ALERT);
    QCOMPARE(logtest::queueOf(*inst).stats().enqueued, std::uint64_t(2));
  }

  void defaultsLogEverythingAtInfo() {
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, json::object{}, persistent);
    logtest::Exchange x(500);
    inst->log(x.ctx);
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    auto g = got();
    QCOMPARE(g.size(), std::size_t(1));
    QCOMPARE(g[0].first, LOG_USER | LOG_INFO);
  }
};

QTEST_GUILESS_MAIN(SyslogTest)
#include "syslog_test.moc"
