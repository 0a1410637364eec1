#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QFile>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "models/engine_bridge.h"
#include "models/trace_list_model.h"

using archway::models::BridgeOptions;
using archway::models::EngineBridge;
using archway::models::TraceListModel;
using archway::trace::FinishedTrace;

namespace {

FinishedTrace traceOf(std::uint8_t id, int status = 200, std::uint64_t durationUs = 1500,
                      const char* route = "anything") {
  FinishedTrace t;
  t.traceId[15] = id;
  t.traceId[0] = 0xab;
  t.rootSpanId = 1000 + id;
  t.startUnixNs = 1700000000000000000LL + std::int64_t(id) * 1000000;
  t.durationUs = durationUs;
  t.status = static_cast<std::uint16_t>(status);
  t.method.assign("GET");
  t.path.assign("/anything/" + std::to_string(id));
  t.routeName.assign(route);
  return t;
}

// Newest first, like the trace store.
std::vector<FinishedTrace> tracesOf(std::initializer_list<std::uint8_t> ids) {
  std::vector<FinishedTrace> v;
  for (auto id : ids) v.push_back(traceOf(id));
  return v;
}

QStringList column(const TraceListModel& m, int c) {
  QStringList out;
  for (int r = 0; r < m.rowCount(); ++r) out << m.index(r, c).data().toString();
  return out;
}

struct Response {
  int status = 0;
  QByteArray head;
};

// One HTTP/1.1 request on a fresh connection, read until the server closes it.
Response httpGet(std::uint16_t port, const QByteArray& path) {
  QTcpSocket socket;
  socket.connectToHost(QHostAddress::LocalHost, port);
  if (!socket.waitForConnected(3000)) return {};
  socket.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  QByteArray all;
  while (socket.waitForReadyRead(5000)) all += socket.readAll();
  all += socket.readAll();
  Response r;
  r.head = all.left(all.indexOf("\r\n\r\n"));
  const QList<QByteArray> first = r.head.left(r.head.indexOf("\r\n")).split(' ');
  if (first.size() >= 2) r.status = first[1].toInt();
  return r;
}

}  // namespace

class TraceListModelTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() {
    model_ = std::make_unique<TraceListModel>();
    tester_ = std::make_unique<QAbstractItemModelTester>(
        model_.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
  }
  void cleanup() {
    tester_.reset();
    model_.reset();
  }

  void showsTracesNewestFirst() {
    model_->setTraces(tracesOf({3, 2, 1}));
    QCOMPARE(model_->rowCount(), 3);
    QCOMPARE(model_->columnCount(), int(TraceListModel::kColumnCount));
    QCOMPARE(column(*model_, TraceListModel::kPathColumn),
             QStringList({"/anything/3", "/anything/2", "/anything/1"}));
  }

  void newTracesAreInsertedAboveWithoutTouchingOldRows() {
    model_->setTraces(tracesOf({3, 2, 1}));
    const QPersistentModelIndex two = model_->index(1, 0);
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(model_.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(model_.get(), &QAbstractItemModel::modelReset);
    model_->setTraces(tracesOf({5, 4, 3, 2, 1}));
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(inserted.at(0).at(2).toInt(), 1);
    QCOMPARE(removed.size(), 0);
    QCOMPARE(reset.size(), 0);
    QCOMPARE(two.row(), 3);
    QCOMPARE(column(*model_, TraceListModel::kPathColumn).first(), "/anything/5");
  }

  void agedOutAndFilteredTracesAreRemoved() {
    model_->setTraces(tracesOf({5, 4, 3, 2, 1}));
    QSignalSpy removed(model_.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    model_->setTraces(tracesOf({6, 5, 3}));
    QCOMPARE(removed.size(), 2);  // runs [3..4] and [1]
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(column(*model_, TraceListModel::kPathColumn),
             QStringList({"/anything/6", "/anything/5", "/anything/3"}));
  }

  void sameListEmitsNothing() {
    model_->setTraces(tracesOf({2, 1}));
    QSignalSpy inserted(model_.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(model_.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(model_.get(), &QAbstractItemModel::dataChanged);
    model_->setTraces(tracesOf({2, 1}));
    QCOMPARE(inserted.size() + removed.size() + changed.size(), 0);
  }

  void formatsCells_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("display");
    QTest::addColumn<QVariant>("sortValue");
    QTest::newRow("id") << int(TraceListModel::kIdColumn) << "ab00000000000000"
                        << QVariant("ab00000000000000");
    QTest::newRow("method") << int(TraceListModel::kMethodColumn) << "GET" << QVariant("GET");
    QTest::newRow("route") << int(TraceListModel::kRouteColumn) << "slow" << QVariant("slow");
    QTest::newRow("status") << int(TraceListModel::kStatusColumn) << "503"
                            << QVariant::fromValue<qulonglong>(503);
    QTest::newRow("duration") << int(TraceListModel::kDurationColumn) << "52.3"
                              << QVariant::fromValue<qulonglong>(52345);
  }
  void formatsCells() {
    QFETCH(int, column);
    QFETCH(QString, display);
    QFETCH(QVariant, sortValue);
    model_->setTraces({traceOf(7, 503, 52345, "slow")});
    const QModelIndex cell = model_->index(0, column);
    QCOMPARE(cell.data().toString(), display);
    QCOMPARE(cell.data(TraceListModel::kSortRole), sortValue);
  }

  void timeIsTheLocalClockAndFullIdInTheTooltip() {
    const FinishedTrace t = traceOf(7);
    model_->setTraces({t});
    const QString expected = QDateTime::fromMSecsSinceEpoch(t.startUnixNs / 1000000)
                                 .toString(QStringLiteral("HH:mm:ss.zzz"));
    QCOMPARE(model_->index(0, TraceListModel::kTimeColumn).data().toString(), expected);
    QCOMPARE(model_->index(0, TraceListModel::kIdColumn).data(Qt::ToolTipRole).toString(),
             "ab000000000000000000000000000007");
    QCOMPARE(model_->index(0, 0).data(TraceListModel::kTraceIdRole).toString(),
             "ab000000000000000000000000000007");
    QCOMPARE(model_->traceAt(0)->rootSpanId, t.rootSpanId);
    QCOMPARE(model_->traceAt(1), nullptr);
    QCOMPARE(model_->rowOf(TraceListModel::key(t)), 0);
  }

  void unmatchedRequestShowsNoRoute() {
    model_->setTraces({traceOf(1, 404, 100, "")});
    QCOMPARE(model_->index(0, TraceListModel::kRouteColumn).data().toString(), "(none)");
  }

  void listsTheTraceOfARealRequestThroughTheEngine() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString config = dir.filePath("kong.yml");
    QVERIFY(QFile::copy(ARCHWAY_SOURCE_DIR "/resources/demo/kong.yml", config));
    BridgeOptions o;
    o.engine.proxyListen = "127.0.0.1:0";
    o.engine.adminListen = "off";
    o.engine.workers = 1;
    o.demoListen = "127.0.0.1:0";
    o.source.configFile = config.toStdString();
    EngineBridge bridge;
    QCOMPARE(bridge.start(o), QString());
    QVERIFY(bridge.recentTraces({}).empty());
    auto policy = bridge.tracing();
    policy.rate = 1.0;
    bridge.setTracing(policy);
    QCOMPARE(bridge.tracing().rate, 1.0);

    const Response r = httpGet(bridge.proxyPort(), "/anything/traced?x=1");
    QCOMPARE(r.status, 200);
    // The demo config's plugins ran: response-transformer and correlation-id headers.
    QVERIFY2(r.head.toLower().contains("x-served-by: archway-demo"), r.head.constData());
    QVERIFY2(r.head.toLower().contains("kong-request-id:"), r.head.constData());

    // The worker keeps the trace just after the response left.
    QTRY_VERIFY_WITH_TIMEOUT(!bridge.recentTraces({}).empty(), 5000);
    model_->setTraces(bridge.recentTraces({}));
    QCOMPARE(model_->rowCount(), 1);
    QCOMPARE(model_->index(0, TraceListModel::kMethodColumn).data().toString(), "GET");
    QCOMPARE(model_->index(0, TraceListModel::kPathColumn).data().toString(), "/anything/traced");
    QCOMPARE(model_->index(0, TraceListModel::kRouteColumn).data().toString(), "anything");
    QCOMPARE(model_->index(0, TraceListModel::kStatusColumn).data().toString(), "200");
    QVERIFY(model_->index(0, TraceListModel::kDurationColumn)
                .data(TraceListModel::kSortRole)
                .toULongLong() > 0);
    const FinishedTrace* t = model_->traceAt(0);
    QVERIFY(t);
    QStringList names;
    for (std::size_t i = 0; i < t->spanCount; ++i) {
      names << QString::fromUtf8(t->spans[i].name.data(), qsizetype(t->spans[i].name.size()));
    }
    QVERIFY2(names.join(',').contains("plugin response-transformer"), qPrintable(names.join(',')));
    QVERIFY2(names.contains("upstream connect"), qPrintable(names.join(',')));

    // Stopped: nothing to read.
    bridge.stop();
    QVERIFY(bridge.recentTraces({}).empty());
  }

 private:
  std::unique_ptr<TraceListModel> model_;
  std::unique_ptr<QAbstractItemModelTester> tester_;
};

QTEST_GUILESS_MAIN(TraceListModelTest)
#include "trace_list_model_test.moc"
