#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "models/access_log_model.h"

using archway::models::AccessLogModel;

namespace {

// An access log line as the engine formats it (proxy/access_log.cpp).
QString line(const QString& path, int status, const QString& consumer = {},
             const QString& time = QStringLiteral("1700000000.250")) {
  QString s = QStringLiteral(
                  "{\"time\":%3,\"type\":\"access\",\"client_ip\":\"127.0.0.1\","
                  "\"method\":\"GET\",\"path\":\"%1\",\"status\":%2,\"bytes_in\":70,"
                  "\"bytes_out\":120,\"latency_ms\":1.250,\"upstream_ms\":1.000,"
                  "\"route\":\"demo\",\"service\":\"svc\"")
                  .arg(path)
                  .arg(status)
                  .arg(time);
  if (!consumer.isEmpty()) s += QStringLiteral(",\"consumer\":\"%1\"").arg(consumer);
  return s + QStringLiteral("}\n");
}

}  // namespace

class AccessLogModelTest : public QObject {
  Q_OBJECT

 private slots:
  void init() {
    model_ = std::make_unique<AccessLogModel>(nullptr, 3);
    tester_ = std::make_unique<QAbstractItemModelTester>(
        model_.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
  }
  void cleanup() {
    tester_.reset();
    model_.reset();
  }

  void parsesTheFieldsOfALine() {
    model_->append({line("/a", 200, "alice")});
    QCOMPARE(model_->rowCount(), 1);
    QCOMPARE(model_->columnCount(), int(AccessLogModel::kColumnCount));
    auto cell = [&](int c) { return model_->index(0, c).data().toString(); };
    QCOMPARE(cell(AccessLogModel::kMethodColumn), QStringLiteral("GET"));
    QCOMPARE(cell(AccessLogModel::kPathColumn), QStringLiteral("/a"));
    QCOMPARE(cell(AccessLogModel::kStatusColumn), QStringLiteral("200"));
    QCOMPARE(cell(AccessLogModel::kLatencyColumn), QStringLiteral("1.25"));
    QCOMPARE(cell(AccessLogModel::kRouteColumn), QStringLiteral("demo"));
    QCOMPARE(cell(AccessLogModel::kConsumerColumn), QStringLiteral("alice"));
    QVERIFY(cell(AccessLogModel::kTimeColumn).endsWith(QStringLiteral(".250")));
    QVERIFY(model_->index(0, 0).data(AccessLogModel::kLineRole).toString().contains("\"/a\""));
    // Filters match the request's fields, not its time (".250" would match a status 250).
    const QString filterText = model_->index(0, 0).data(AccessLogModel::kFilterRole).toString();
    QCOMPARE(filterText, QStringLiteral("GET\n/a\n200\ndemo\nalice"));
    QCOMPARE(model_->index(0, AccessLogModel::kTimeColumn).data(AccessLogModel::kFilterRole),
             model_->index(0, AccessLogModel::kConsumerColumn).data(AccessLogModel::kFilterRole));
  }

  void skipsLinesThatAreNotAccessEntries() {
    model_->append({QStringLiteral("not json"), QStringLiteral("{\"type\":\"error\"}"),
                    line("/ok", 204)});
    QCOMPARE(model_->rowCount(), 1);
    QCOMPARE(model_->index(0, AccessLogModel::kConsumerColumn).data().toString(), QString());
  }

  void keepsTheNewestRowsUpToItsCapacity() {
    QSignalSpy removed(model_.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(model_.get(), &QAbstractItemModel::modelReset);
    model_->append({line("/1", 200), line("/2", 200)});
    model_->append({line("/3", 200), line("/4", 200)});
    QCOMPARE(model_->rowCount(), 3);
    QCOMPARE(model_->index(0, AccessLogModel::kPathColumn).data().toString(), "/2");
    QCOMPARE(model_->index(2, AccessLogModel::kPathColumn).data().toString(), "/4");
    QCOMPARE(removed.count(), 1);
    QCOMPARE(reset.count(), 0);
    model_->append({line("/5", 200), line("/6", 200), line("/7", 200), line("/8", 200)});
    QCOMPARE(model_->rowCount(), 3);
    QCOMPARE(model_->index(0, AccessLogModel::kPathColumn).data().toString(), "/6");
  }

  void pausedLinesWaitAndShowOnResume() {
    QSignalSpy pending(model_.get(), &AccessLogModel::pendingChanged);
    model_->append({line("/before", 200)});
    model_->setPaused(true);
    model_->append({line("/p1", 200), line("/p2", 500)});
    QCOMPARE(model_->rowCount(), 1);
    QCOMPARE(model_->pendingCount(), 2);
    QCOMPARE(pending.last().at(0).toInt(), 2);
    model_->setPaused(false);
    QCOMPARE(model_->pendingCount(), 0);
    QCOMPARE(model_->rowCount(), 3);
    QCOMPARE(model_->index(2, AccessLogModel::kStatusColumn).data().toString(), "500");
  }

  void putsABatchInTimeOrder() {
    model_->append({line("/late", 200, {}, "1700000001.500"), line("/early", 200, {}, "1700000001.100")});
    QCOMPARE(model_->index(0, AccessLogModel::kPathColumn).data().toString(), "/early");
    QCOMPARE(model_->index(1, AccessLogModel::kPathColumn).data().toString(), "/late");
  }

  void clearDropsRowsAndWaitingLines() {
    model_->append({line("/a", 200)});
    model_->setPaused(true);
    model_->append({line("/b", 200)});
    model_->clear();
    QCOMPARE(model_->rowCount(), 0);
    QCOMPARE(model_->pendingCount(), 0);
    model_->setPaused(false);
    QCOMPARE(model_->rowCount(), 0);
  }

 private:
  std::unique_ptr<AccessLogModel> model_;
  std::unique_ptr<QAbstractItemModelTester> tester_;
};

QTEST_GUILESS_MAIN(AccessLogModelTest)
#include "access_log_model_test.moc"
