// file-log: Kong's schema (path pattern, reopen), one JSON line per request appended from the
// sender thread, reopen for log rotation.
#include <QtTest>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "../log/log_test_support.h"
#include "plugins/file_log/file_log.h"

using namespace archway;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

class FileLogTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<plugins::Factory> factory_ = plugins::makeFileLogPlugin();
  QTemporaryDir dir_;

  std::string file(const char* name) { return dir_.filePath(name).toStdString(); }

 private Q_SLOTS:
  void cleanup() { plugins::log::shutdownQueues(); }

  void nameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("file-log"));
    QCOMPARE(factory_->priority(), 9);
  }

  void schemaDefaultsAndRequiredPath() {
    auto ok =
        plugins::schema::validate(factory_->schema(), json::parse("{\"path\":\"/tmp/x.log\"}"));
    QVERIFY(ok.ok());
    QCOMPARE(ok->at("reopen").as_bool(), false);
    QVERIFY(ok->at("custom_fields_by_lua").is_null());
    auto missing = plugins::schema::validate(factory_->schema(), json::object{});
    QCOMPARE(logtest::errorsOf(missing), QString("config.path: required field missing"));
  }

  void schemaRejectsInvalidFilenames_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("valid");
    QTest::newRow("absolute") << "/var/log/kong/file.log" << true;
    QTest::newRow("relative") << "logs/a b.log" << true;
    QTest::newRow("single char") << "a" << false;
    QTest::newRow("leading space") << " /tmp/a.log" << false;
    QTest::newRow("trailing space") << "/tmp/a.log " << false;
    QTest::newRow("star") << "/tmp/*.log" << false;
    QTest::newRow("ampersand") << "/tmp/a&b.log" << false;
    QTest::newRow("percent") << "/tmp/a%b.log" << false;
    QTest::newRow("backtick") << "/tmp/`id`.log" << false;
  }
  void schemaRejectsInvalidFilenames() {
    QFETCH(QString, path);
    QFETCH(bool, valid);
    json::object in{{"path", path.toStdString()}};
    auto r = plugins::schema::validate(factory_->schema(), in);
    QCOMPARE(r.ok(), valid);
    if (!valid) QCOMPARE(logtest::errorsOf(r), QString("config.path: not a valid filename"));
  }

  void writesOneJsonLinePerRequest() {
    std::string path = file("access.log");
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, json::object{{"path", path}}, persistent);
    QCOMPARE(inst->phases(), std::uint8_t(plugins::Instance::kLog));
    for (int status : {200, 404, 503}) {
      logtest::Exchange x(status);
      inst->log(x.ctx);
    }
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    auto got = lines(path);
    QCOMPARE(got.size(), std::size_t(3));
    int want[] = {200, 404, 503};
    for (std::size_t i = 0; i < got.size(); ++i) {
      json::value v = json::parse(got[i]);
      QCOMPARE(v.at("response").at("status").to_number<int>(), want[i]);
      QCOMPARE(std::string(v.at("route").at("name").as_string()), std::string("items-route"));
      QCOMPARE(std::string(v.at("service").at("name").as_string()), std::string("items"));
    }
    QFileInfo info(QString::fromStdString(path));
    QCOMPARE(info.permissions() & QFileDevice::WriteOther, QFileDevice::Permissions());
  }

  void appendsToAnExistingFile() {
    std::string path = file("existing.log");
    { std::ofstream(path) << "old line\n"; }
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, json::object{{"path", path}}, persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    auto got = lines(path);
    QCOMPARE(got.size(), std::size_t(2));
    QCOMPARE(got[0], std::string("old line"));
  }

  void reopenFollowsARotatedFile() {
    std::string path = file("rotate.log");
    plugins::Persistent persistent;
    auto inst =
        logtest::compile(*factory_, json::object{{"path", path}, {"reopen", true}}, persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    QVERIFY(QFile::rename(QString::fromStdString(path), QString::fromStdString(path + ".1")));
    inst->log(x.ctx);
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    QCOMPARE(lines(path + ".1").size(), std::size_t(1));
    QCOMPARE(lines(path).size(), std::size_t(1));
  }

  void withoutReopenKeepsWritingTheOpenFile() {
    std::string path = file("keep.log");
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, json::object{{"path", path}}, persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    QVERIFY(QFile::rename(QString::fromStdString(path), QString::fromStdString(path + ".1")));
    inst->log(x.ctx);
    QVERIFY(logtest::queueOf(*inst).waitIdle(5s));
    QCOMPARE(lines(path + ".1").size(), std::size_t(2));
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
  }

  void unopenableFileCountsTheLoss() {
    std::string path = file("missing-dir/sub/a.log");
    plugins::Persistent persistent;
    auto inst = logtest::compile(*factory_, json::object{{"path", path}}, persistent);
    logtest::Exchange x;
    inst->log(x.ctx);
    QTRY_COMPARE_WITH_TIMEOUT(logtest::queueOf(*inst).stats().lost, std::uint64_t(1), 5000);
  }

  void reloadKeepsTheQueue() {
    std::string path = file("reload.log");
    plugins::Persistent persistent;
    auto a = logtest::compile(*factory_, json::object{{"path", path}}, persistent);
    auto b = logtest::compile(*factory_, json::object{{"path", path}}, persistent);
    QCOMPARE(&logtest::queueOf(*a), &logtest::queueOf(*b));
  }
};

QTEST_GUILESS_MAIN(FileLogTest)
#include "file_log_test.moc"
