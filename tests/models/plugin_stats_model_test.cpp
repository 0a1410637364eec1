#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "metrics/stats_frame.h"
#include "models/plugin_stats_model.h"

using archway::metrics::PluginStats;
using archway::metrics::StatsFrame;
using archway::models::PluginStatsModel;

namespace {

PluginStats plugin(const std::string& routeId, const std::string& name, std::uint64_t requests,
                   double meanUs = 0, double p99Us = 0, double maxUs = 0) {
  PluginStats s;
  s.routeId = routeId;
  s.route = routeId + "-name";
  s.plugin = name;
  s.requests = requests;
  s.meanUs = meanUs;
  s.p99Us = p99Us;
  s.maxUs = maxUs;
  s.sumUs = meanUs * static_cast<double>(requests);
  return s;
}

StatsFrame frameOf(std::vector<PluginStats> plugins) {
  StatsFrame f;
  f.plugins = std::move(plugins);
  return f;
}

}  // namespace

class PluginStatsModelTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() {
    model_ = std::make_unique<PluginStatsModel>();
    tester_ = std::make_unique<QAbstractItemModelTester>(
        model_.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
  }
  void cleanup() {
    tester_.reset();
    model_.reset();
  }

  void insertsARowPerRouteAndPlugin() {
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    model_->update(
        frameOf({plugin("a", "key-auth", 1), plugin("a", "cors", 1), plugin("b", "key-auth", 2)}));
    QCOMPARE(model_->rowCount(), 3);
    QCOMPARE(model_->columnCount(), int(PluginStatsModel::kColumnCount));
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(model_->index(2, PluginStatsModel::kRouteColumn).data().toString(), "b-name");
    QCOMPARE(model_->index(2, PluginStatsModel::kPluginColumn).data().toString(), "key-auth");
    QCOMPARE(model_->index(2, PluginStatsModel::kRouteColumn)
                 .data(PluginStatsModel::kRouteIdRole)
                 .toString(),
             "b");
  }

  void headersNameTheColumns() {
    const QStringList expected = {"Route", "Plugin", "Requests", "Mean µs", "p99 µs", "Max µs"};
    for (int c = 0; c < PluginStatsModel::kColumnCount; ++c) {
      QCOMPARE(model_->headerData(c, Qt::Horizontal).toString(), expected[c]);
    }
  }

  void newNumbersUpdateRowsInPlace() {
    model_->update(frameOf(
        {plugin("a", "key-auth", 1, 5), plugin("a", "cors", 1, 2), plugin("b", "key-auth", 2, 3)}));
    const QPersistentModelIndex cors = model_->index(1, PluginStatsModel::kPluginColumn);
    QSignalSpy changed(model_.get(), &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(model_.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(model_.get(), &QAbstractItemModel::modelReset);
    // Same pairs in another order, one with new numbers.
    model_->update(frameOf({plugin("b", "key-auth", 2, 3), plugin("a", "cors", 9, 4, 8, 12),
                            plugin("a", "key-auth", 1, 5)}));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);
    QCOMPARE(reset.size(), 0);
    QVERIFY(cors.isValid());
    QCOMPARE(cors.row(), 1);
    QCOMPARE(model_->index(1, PluginStatsModel::kRequestsColumn).data().toString(), "9");
    QCOMPARE(model_->columnMax(PluginStatsModel::kP99Column), 8.0);
    QCOMPARE(model_->columnMax(PluginStatsModel::kMaxColumn), 12.0);
    QCOMPARE(model_->columnMax(PluginStatsModel::kMeanColumn), 5.0);
    QCOMPARE(model_->columnMax(PluginStatsModel::kRequestsColumn), 0.0);
  }

  void unchangedFrameEmitsNothing() {
    model_->update(frameOf({plugin("a", "key-auth", 1, 5)}));
    QSignalSpy changed(model_.get(), &QAbstractItemModel::dataChanged);
    model_->update(frameOf({plugin("a", "key-auth", 1, 5)}));
    QCOMPARE(changed.size(), 0);
  }

  void removesPairsThatDisappearAndAddsNewOnes() {
    model_->update(frameOf({plugin("a", "key-auth", 1), plugin("a", "cors", 1),
                            plugin("b", "key-auth", 2), plugin("c", "acl", 1)}));
    QSignalSpy removed(model_.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    model_->update(
        frameOf({plugin("a", "key-auth", 1), plugin("c", "acl", 1), plugin("c", "cors", 1)}));
    QCOMPARE(removed.size(), 1);  // one contiguous run: rows 1..2
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(model_->rowCount(), 3);
    QCOMPARE(model_->index(1, PluginStatsModel::kPluginColumn).data().toString(), "acl");
    QCOMPARE(model_->index(2, PluginStatsModel::kPluginColumn).data().toString(), "cors");
    QCOMPARE(model_->index(2, PluginStatsModel::kRouteColumn).data().toString(), "c-name");
  }

  void formatsCells_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("display");
    QTest::addColumn<QVariant>("sortValue");
    QTest::newRow("requests") << int(PluginStatsModel::kRequestsColumn) << "1234"
                              << QVariant::fromValue<qulonglong>(1234);
    QTest::newRow("mean") << int(PluginStatsModel::kMeanColumn) << "4.5" << QVariant(4.5);
    QTest::newRow("p99") << int(PluginStatsModel::kP99Column) << "38" << QVariant(37.6);
    QTest::newRow("max") << int(PluginStatsModel::kMaxColumn) << "1210" << QVariant(1210.0);
  }
  void formatsCells() {
    QFETCH(int, column);
    QFETCH(QString, display);
    QFETCH(QVariant, sortValue);
    model_->update(frameOf({plugin("a", "rate-limiting", 1234, 4.5, 37.6, 1210)}));
    const QModelIndex cell = model_->index(0, column);
    QCOMPARE(cell.data().toString(), display);
    QCOMPARE(cell.data(PluginStatsModel::kSortRole), sortValue);
    QCOMPARE(cell.data(Qt::TextAlignmentRole).toInt(), int(Qt::AlignRight | Qt::AlignVCenter));
  }

  void idlePluginShowsNoTimes() {
    model_->update(frameOf({plugin("a", "key-auth", 10)}));
    QCOMPARE(model_->index(0, PluginStatsModel::kP99Column).data().toString(), QStringLiteral("–"));
    QCOMPARE(model_->index(0, PluginStatsModel::kP99Column).data(PluginStatsModel::kSortRole),
             QVariant(-1.0));
  }

  void globalPluginOnUnmatchedRequestsSaysNoRoute() {
    PluginStats s = plugin("", "correlation-id", 3, 1, 2, 3);
    s.route.clear();
    model_->update(frameOf({s}));
    QCOMPARE(model_->index(0, PluginStatsModel::kRouteColumn).data().toString(), "(no route)");
  }

  void clearRemovesEveryRow() {
    model_->update(frameOf({plugin("a", "key-auth", 1, 1, 2), plugin("b", "cors", 2)}));
    model_->clear();
    QCOMPARE(model_->rowCount(), 0);
    QCOMPARE(model_->columnMax(PluginStatsModel::kP99Column), 0.0);
  }

 private:
  std::unique_ptr<PluginStatsModel> model_;
  std::unique_ptr<QAbstractItemModelTester> tester_;
};

QTEST_GUILESS_MAIN(PluginStatsModelTest)
#include "plugin_stats_model_test.moc"
