#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "metrics/stats_frame.h"
#include "models/route_stats_model.h"

using archway::metrics::EntityStats;
using archway::metrics::StatsFrame;
using archway::models::RouteStatsModel;

namespace {

EntityStats route(const std::string& id, const std::string& name, std::uint64_t requests,
                  double rps = 0) {
  EntityStats s;
  s.id = id;
  s.name = name;
  s.requests = requests;
  s.rps = rps;
  return s;
}

StatsFrame frameOf(std::vector<EntityStats> routes) {
  StatsFrame f;
  f.routes = std::move(routes);
  return f;
}

}  // namespace

class RouteStatsModelTest : public QObject {
  Q_OBJECT

 private slots:
  void init() {
    model_ = std::make_unique<RouteStatsModel>();
    tester_ = std::make_unique<QAbstractItemModelTester>(
        model_.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
  }
  void cleanup() {
    tester_.reset();
    model_.reset();
  }

  void insertsARowPerNewRoute() {
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(model_.get(), &QAbstractItemModel::modelReset);
    model_->update(frameOf({route("a", "alpha", 1), route("b", "beta", 2)}));
    QCOMPARE(model_->rowCount(), 2);
    QCOMPARE(model_->columnCount(), int(RouteStatsModel::kColumnCount));
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(reset.size(), 0);
    QCOMPARE(model_->index(1, RouteStatsModel::kRouteColumn).data().toString(), "beta");
  }

  void changedRouteEmitsDataChangedForItsRowOnly() {
    model_->update(frameOf({route("a", "alpha", 1), route("b", "beta", 2), route("c", "c", 3)}));
    QSignalSpy changed(model_.get(), &QAbstractItemModel::dataChanged);
    QSignalSpy reset(model_.get(), &QAbstractItemModel::modelReset);
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    model_->update(frameOf({route("a", "alpha", 1), route("b", "beta", 5), route("c", "c", 3)}));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);
    QCOMPARE(reset.size(), 0);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(model_->index(1, RouteStatsModel::kRequestsColumn).data().toString(), "5");
  }

  void unchangedFrameEmitsNothing() {
    model_->update(frameOf({route("a", "alpha", 1)}));
    QSignalSpy changed(model_.get(), &QAbstractItemModel::dataChanged);
    model_->update(frameOf({route("a", "alpha", 1)}));
    QCOMPARE(changed.size(), 0);
  }

  void keepsRowOrderWhenFrameOrderChanges() {
    model_->update(frameOf({route("a", "alpha", 1), route("b", "beta", 2)}));
    model_->update(frameOf({route("b", "beta", 2), route("a", "alpha", 1)}));
    QCOMPARE(model_->index(0, 0).data().toString(), "alpha");
  }

  void removesRoutesThatDisappear() {
    model_->update(frameOf({route("a", "alpha", 1), route("b", "beta", 2), route("c", "c", 3)}));
    QSignalSpy removed(model_.get(), &QAbstractItemModel::rowsRemoved);
    model_->update(frameOf({route("a", "alpha", 1), route("c", "c", 3)}));
    QCOMPARE(removed.size(), 1);
    QCOMPARE(model_->rowCount(), 2);
    QCOMPARE(model_->index(1, 0).data().toString(), "c");
  }

  void formatsCells_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("display");
    QTest::addColumn<QVariant>("sortValue");
    QTest::newRow("requests") << int(RouteStatsModel::kRequestsColumn) << "1234"
                              << QVariant::fromValue<qulonglong>(1234);
    QTest::newRow("rps") << int(RouteStatsModel::kRpsColumn) << "12.5" << QVariant(12.5);
    QTest::newRow("4xx") << int(RouteStatsModel::k4xxColumn) << "7"
                         << QVariant::fromValue<qulonglong>(7);
    QTest::newRow("5xx") << int(RouteStatsModel::k5xxColumn) << "3"
                         << QVariant::fromValue<qulonglong>(3);
    QTest::newRow("p50") << int(RouteStatsModel::kP50Column) << "1.5" << QVariant(1.5);
    QTest::newRow("p99") << int(RouteStatsModel::kP99Column) << "20.0" << QVariant(20.0);
  }
  void formatsCells() {
    QFETCH(int, column);
    QFETCH(QString, display);
    QFETCH(QVariant, sortValue);
    EntityStats s = route("a", "alpha", 1234, 12.5);
    s.status4xx = 7;
    s.status5xx = 3;
    s.latency1s.p50 = 1.5;
    s.latency1s.p99 = 20;
    s.latency1s.count = 10;
    model_->update(frameOf({s}));
    const QModelIndex cell = model_->index(0, column);
    QCOMPARE(cell.data().toString(), display);
    QCOMPARE(cell.data(RouteStatsModel::kSortRole), sortValue);
    QCOMPARE(cell.data(Qt::TextAlignmentRole).toInt(), int(Qt::AlignRight | Qt::AlignVCenter));
  }

  void idleRouteShowsNoPercentiles() {
    model_->update(frameOf({route("a", "alpha", 0)}));
    QCOMPARE(model_->index(0, RouteStatsModel::kP99Column).data().toString(), QStringLiteral("–"));
  }

  void clearRemovesEveryRow() {
    model_->update(frameOf({route("a", "alpha", 1), route("b", "beta", 2)}));
    model_->clear();
    QCOMPARE(model_->rowCount(), 0);
  }

  void showsConsumersOrTargetsOfTheFrame() {
    RouteStatsModel consumers(nullptr, RouteStatsModel::Source::consumers);
    RouteStatsModel targets(nullptr, RouteStatsModel::Source::targets);
    QAbstractItemModelTester t1(&consumers, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&targets, QAbstractItemModelTester::FailureReportingMode::QtTest);
    StatsFrame f = frameOf({route("r", "route", 9)});
    f.consumers = {route("c1", "alice", 5), route("(other)", "(other)", 2)};
    EntityStats t = route("u:10.0.0.1:80", "10.0.0.1:80", 4);
    t.upstream = "pool";
    t.latency1s.count = 4;
    t.latency1s.p95 = 2.5;
    f.targets = {t};
    consumers.update(f);
    targets.update(f);
    QCOMPARE(consumers.rowCount(), 2);
    QCOMPARE(consumers.index(0, RouteStatsModel::kRouteColumn).data().toString(), "alice");
    QCOMPARE(consumers.index(1, RouteStatsModel::kRouteColumn).data().toString(),
             "(other consumers)");
    QCOMPARE(consumers.headerData(RouteStatsModel::kRouteColumn, Qt::Horizontal).toString(),
             "Consumer");
    QCOMPARE(targets.rowCount(), 1);
    QCOMPARE(targets.index(0, RouteStatsModel::kRouteColumn).data().toString(),
             "10.0.0.1:80 (pool)");
    QCOMPARE(targets.index(0, RouteStatsModel::kP95Column).data().toString(), "2.5");
    QCOMPARE(targets.index(0, RouteStatsModel::kRequestsColumn).data().toString(), "4");
    // A consumer leaving the top N leaves the table.
    f.consumers = {route("c1", "alice", 6)};
    consumers.update(f);
    QCOMPARE(consumers.rowCount(), 1);
    QCOMPARE(consumers.index(0, RouteStatsModel::kRequestsColumn).data().toString(), "6");
  }

 private:
  std::unique_ptr<RouteStatsModel> model_;
  std::unique_ptr<QAbstractItemModelTester> tester_;
};

QTEST_GUILESS_MAIN(RouteStatsModelTest)
#include "route_stats_model_test.moc"
