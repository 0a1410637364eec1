// core::log, the process-wide error log: the level decides which records are built at all,
// subscribers see what the sink gets, setFile() moves the sink, and records logged just before
// the process exits still reach stderr.
#include <QtTest>

#include <boost/json.hpp>
#include <fstream>
#include <mutex>
#include <vector>

#include "core/log.h"

using namespace archway::core;

class LogTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  std::mutex mutex_;
  std::vector<log::Record> got_;
  int token_ = -1;

  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& r : got_) out.push_back(r.message);
    return out;
  }

 private slots:
  void init() {
    {
      std::lock_guard lock(mutex_);
      got_.clear();
    }
    token_ = log::subscribe([this](const log::Record& r) {
      std::lock_guard lock(mutex_);
      got_.push_back(r);
    });
    // The records of these tests go to a file, not to the test's output.
    QCOMPARE(log::setFile(dir_.filePath("test.log").toStdString()), std::string());
  }
  void cleanup() {
    log::unsubscribe(token_);
    log::setLevel(log::Level::info);
    QCOMPARE(log::setFile(""), std::string());
  }

  void recordsBelowTheLevelAreSkipped() {
    log::setLevel(log::Level::warn);
    log::debug("d");
    log::info("i");
    log::warn("w");
    log::error("e", {{"k", "v"}});
    QVERIFY(log::flush());
    QCOMPARE(messages(), (std::vector<std::string>{"w", "e"}));
    log::setLevel(log::Level::off);
    log::error("nothing at all");
    QVERIFY(log::flush());
    QCOMPARE(messages().size(), std::size_t(2));
  }

  void levelNamesRoundTrip() {
    for (auto l : {log::Level::debug, log::Level::info, log::Level::warn, log::Level::error,
                   log::Level::off}) {
      log::Level parsed = log::Level::info;
      QVERIFY(log::parseLevel(log::levelName(l), parsed));
      QCOMPARE(parsed, l);
    }
    log::Level parsed;
    QVERIFY(!log::parseLevel("verbose", parsed));
  }

  void theFileGetsWhatSubscribersGet() {
    const QString path = dir_.filePath("moved.log");
    QCOMPARE(log::setFile(path.toStdString()), std::string());
    log::warn("upstream failed", {{"service", "users"}});
    QVERIFY(log::flush());
    std::ifstream in(path.toStdString());
    std::string line;
    QVERIFY(std::getline(in, line));
    auto o = boost::json::parse(line).as_object();
    QCOMPARE(std::string(o.at("message").as_string()), std::string("upstream failed"));
    QCOMPARE(std::string(o.at("level").as_string()), std::string("warn"));
    QCOMPARE(std::string(o.at("service").as_string()), std::string("users"));
    QVERIFY(!std::getline(in, line));
    QCOMPARE(messages(), (std::vector<std::string>{"upstream failed"}));
  }

  void recordsLoggedRightBeforeExitReachStderr() {
    QProcess p;
    p.start(QStringLiteral(LOG_EXIT_HELPER), {QStringLiteral("1000")});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 0);
    const QList<QByteArray> lines = p.readAllStandardError().split('\n');
    int records = 0;
    for (const QByteArray& l : lines) records += l.contains("\"message\":\"exiting soon\"") ? 1 : 0;
    QCOMPARE(records, 1000);
    QVERIFY(lines.front().contains("\"i\":\"0\""));
  }
};

QTEST_GUILESS_MAIN(LogTest)
#include "log_test.moc"
