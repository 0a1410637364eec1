// The console's error log table: records become rows (time, level, message, fields), only the
// newest `capacity` stay, pause/resume and clear, the level and text filter; and records logged
// anywhere in the process reach it through the EngineBridge.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "models/engine_bridge.h"
#include "models/error_log_model.h"

using archway::core::log::Level;
using archway::core::log::Record;
using archway::models::ErrorLogFilter;
using archway::models::ErrorLogModel;

namespace {

Record record(const std::string& message, Level level = Level::error,
              std::vector<std::pair<std::string, std::string>> fields = {}) {
  Record r;
  r.timeUs = 1700000000250000;  // .250
  r.level = level;
  r.message = message;
  r.fields = std::move(fields);
  return r;
}

QStringList messages(const QAbstractItemModel& m) {
  QStringList out;
  for (int r = 0; r < m.rowCount(); ++r)
    out << m.index(r, ErrorLogModel::kMessageColumn).data().toString();
  return out;
}

}  // namespace

class ErrorLogModelTest : public QObject {
  Q_OBJECT

 private slots:
  void init() {
    model_ = std::make_unique<ErrorLogModel>(nullptr, 3);
    tester_ = std::make_unique<QAbstractItemModelTester>(
        model_.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
  }
  void cleanup() {
    tester_.reset();
    model_.reset();
  }

  void showsTheFieldsOfARecord() {
    model_->append({record("upstream \"users\" failed", Level::warn,
                           {{"error", "connection refused"}, {"target", "10.0.0.1:80"}})});
    QCOMPARE(model_->rowCount(), 1);
    QCOMPARE(model_->columnCount(), int(ErrorLogModel::kColumnCount));
    auto cell = [&](int c) { return model_->index(0, c).data().toString(); };
    QVERIFY(cell(ErrorLogModel::kTimeColumn).endsWith(QStringLiteral(".250")));
    QCOMPARE(cell(ErrorLogModel::kLevelColumn), QStringLiteral("warn"));
    QCOMPARE(cell(ErrorLogModel::kMessageColumn), QStringLiteral("upstream \"users\" failed"));
    QCOMPARE(cell(ErrorLogModel::kFieldsColumn),
             QStringLiteral("error=connection refused  target=10.0.0.1:80"));
    QCOMPARE(model_->index(0, 0).data(ErrorLogModel::kLevelRole).toInt(), int(Level::warn));
    const QString line = model_->index(0, 0).data(ErrorLogModel::kLineRole).toString();
    QVERIFY2(line.startsWith("{\"time\":1700000000.250,\"level\":\"warn\"") &&
                 line.contains("\"target\":\"10.0.0.1:80\"") && !line.endsWith('\n'),
             qPrintable(line));
    QCOMPARE(model_->headerData(ErrorLogModel::kFieldsColumn, Qt::Horizontal).toString(),
             QStringLiteral("Details"));
  }

  void keepsOnlyTheNewestRows() {
    model_->append({record("a"), record("b")});
    model_->append({record("c"), record("d")});
    QCOMPARE(messages(*model_), QStringList({"b", "c", "d"}));
    model_->append({record("e"), record("f"), record("g"), record("h")});  // more than fit
    QCOMPARE(messages(*model_), QStringList({"f", "g", "h"}));
  }

  void pausedRecordsWaitAndShowOnResume() {
    QSignalSpy pending(model_.get(), &ErrorLogModel::pendingChanged);
    model_->append({record("shown")});
    model_->setPaused(true);
    model_->append({record("w1"), record("w2")});
    QCOMPARE(model_->rowCount(), 1);
    QCOMPARE(model_->pendingCount(), 2);
    QCOMPARE(pending.last().at(0).toInt(), 2);
    model_->append({record("w3"), record("w4")});
    QCOMPARE(model_->pendingCount(), 3);  // only the newest `capacity` wait
    model_->setPaused(false);
    QCOMPARE(messages(*model_), QStringList({"w2", "w3", "w4"}));
    QCOMPARE(model_->pendingCount(), 0);
    QCOMPARE(pending.last().at(0).toInt(), 0);
  }

  void clearRemovesRowsAndWaitingRecords() {
    model_->append({record("a")});
    model_->setPaused(true);
    model_->append({record("b")});
    model_->clear();
    QCOMPARE(model_->rowCount(), 0);
    QCOMPARE(model_->pendingCount(), 0);
    model_->setPaused(false);
    QCOMPARE(model_->rowCount(), 0);
  }

  void filterHidesRowsBelowTheLevelAndWithoutTheText() {
    ErrorLogModel log(nullptr, 10);
    ErrorLogFilter filter;
    filter.setSourceModel(&log);
    QAbstractItemModelTester tester(&filter,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    log.append({record("debug note", Level::debug), record("engine started", Level::info),
                record("dns failure", Level::warn, {{"host", "Users.internal"}}),
                record("accept failed", Level::error)});
    QCOMPARE(filter.rowCount(), 4);
    filter.setMinimumLevel(Level::warn);
    QCOMPARE(messages(filter), QStringList({"dns failure", "accept failed"}));
    filter.setText(QStringLiteral("users.INTERNAL"));  // any column, case-insensitive
    QCOMPARE(messages(filter), QStringList({"dns failure"}));
    filter.setMinimumLevel(Level::error);
    QCOMPARE(filter.rowCount(), 0);
    filter.setText({});
    filter.setMinimumLevel(Level::debug);
    QCOMPARE(filter.rowCount(), 4);
    log.append({record("late", Level::error)});  // new rows pass through the filter too
    QCOMPARE(filter.rowCount(), 5);
  }

  void recordsLoggedInTheProcessArriveThroughTheBridge() {
    archway::models::EngineBridge bridge;  // subscribed from construction, engine not running
    ErrorLogModel log;
    connect(&bridge, &archway::models::EngineBridge::errorLogRecords, &log, &ErrorLogModel::append);
    archway::core::log::warn("bridge check", {{"n", "1"}});
    archway::core::log::error("bridge check", {{"n", "2"}});
    QTRY_COMPARE_WITH_TIMEOUT(log.rowCount(), 2, 5000);
    QCOMPARE(log.index(0, ErrorLogModel::kFieldsColumn).data().toString(), QStringLiteral("n=1"));
    QCOMPARE(log.index(1, ErrorLogModel::kLevelColumn).data().toString(), QStringLiteral("error"));
  }

 private:
  std::unique_ptr<ErrorLogModel> model_;
  std::unique_ptr<QAbstractItemModelTester> tester_;
};

QTEST_GUILESS_MAIN(ErrorLogModelTest)
#include "error_log_model_test.moc"
