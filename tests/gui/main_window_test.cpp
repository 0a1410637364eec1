#include <QAction>
#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "gui/access_log_page.h"
#include "gui/dashboard_page.h"
#include "gui/error_log_page.h"
#include "gui/main_window.h"
#include "gui/plugins_page.h"
#include "gui/trace_waterfall.h"
#include "gui/traces_page.h"
#include "gui/traffic_chart.h"
#include "models/demo_traffic.h"
#include "models/error_log_model.h"
#include "models/plugin_stats_model.h"
#include "models/trace_list_model.h"

using archway::gui::MainWindow;
using archway::gui::TracesPage;
using archway::models::BridgeOptions;
using archway::models::EngineBridge;

namespace {

bool anyPointAboveZero(const QLineSeries* series) {
  for (const QPointF& p : series->points()) {
    if (p.y() > 0) return true;
  }
  return false;
}

// One HTTP/1.1 request on a fresh connection; the status code, or 0.
int httpGet(std::uint16_t port, const QByteArray& path, const QByteArray& extraHeaders = {}) {
  QTcpSocket socket;
  socket.connectToHost(QHostAddress::LocalHost, port);
  if (!socket.waitForConnected(3000)) return 0;
  socket.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
               extraHeaders + "\r\n");
  QByteArray all;
  while (socket.waitForReadyRead(5000)) all += socket.readAll();
  const QList<QByteArray> first = all.left(all.indexOf("\r\n")).split(' ');
  return first.size() >= 2 ? first[1].toInt() : 0;
}

// The values of one column of a view's model, top to bottom.
QStringList columnOf(const QAbstractItemModel* model, int column) {
  QStringList out;
  for (int r = 0; r < model->rowCount(); ++r) out << model->index(r, column).data().toString();
  return out;
}

}  // namespace

class MainWindowTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    configFile_ = dir_.filePath("kong.yml");
    QVERIFY(QFile::copy(ARCHWAY_SOURCE_DIR "/resources/demo/kong.yml", configFile_));
  }

  void opensTitledArchway() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.windowTitle(), QStringLiteral("Archway"));
    QVERIFY(!window.demoTrafficAction()->isEnabled());  // nothing to send to yet
    QCOMPARE(window.demoTrafficAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_T));
  }

  void chartsFollowTheWidgetPalette() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QPalette dark = window.palette();
    dark.setColor(QPalette::Window, QColor(0x20, 0x20, 0x20));
    dark.setColor(QPalette::Base, QColor(0x18, 0x18, 0x18));
    dark.setColor(QPalette::Text, QColor(0xee, 0xee, 0xee));
    window.setPalette(dark);
    QChart* chart = window.dashboard()->rpsChart()->chart();
    QTRY_COMPARE(chart->backgroundBrush().color(), QColor(0x18, 0x18, 0x18));
    QCOMPARE(chart->titleBrush().color(), QColor(0xee, 0xee, 0xee));
  }

  void demoTrafficFillsTheChartsAndTheRouteTable() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.startEngine(options()), QString());
    QCOMPARE(window.bridge().state(), EngineBridge::State::running);
    QVERIFY(
        window.findChild<QLabel*>("proxyLabel")->text().contains(window.bridge().proxyAddress()));

    window.demoTrafficAction()->trigger();
    QVERIFY(window.demoTrafficAction()->isChecked());
    QVERIFY(window.demoTraffic().isRunning());

    QLineSeries* rps = window.dashboard()->rpsChart()->series(0);
    QTRY_VERIFY_WITH_TIMEOUT(anyPointAboveZero(rps), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(anyPointAboveZero(window.dashboard()->latencyChart()->series(1)),
                             10000);
    QVERIFY(window.traffic().maxRps(60) > 0);
    QTRY_VERIFY_WITH_TIMEOUT(window.routeStats().rowCount() == 3, 5000);
    // The demo upstream answered (the seed's 127.0.0.1:9080 was pointed at the real port).
    QTRY_VERIFY_WITH_TIMEOUT(window.bridge().engine().latestStats()->total.status2xx > 0, 5000);
    // The slow route has key-auth: the demo traffic sends the demo consumer's key.
    auto slowRoute = [&window]() -> archway::metrics::EntityStats {
      for (const auto& r : window.bridge().engine().latestStats()->routes) {
        if (r.name == "slow") return r;
      }
      return {};
    };
    QTRY_VERIFY_WITH_TIMEOUT(slowRoute().status2xx > 0, 5000);
    QCOMPARE(slowRoute().status4xx, std::uint64_t(0));

    window.demoTrafficAction()->trigger();
    QVERIFY(!window.demoTraffic().isRunning());
    QVERIFY(!window.demoTrafficAction()->isChecked());
  }

  void closingStopsTrafficTheEngineAndTheDemoServer() {
    auto window = std::make_unique<MainWindow>();
    window->show();
    QVERIFY(QTest::qWaitForWindowExposed(window.get()));
    QCOMPARE(window->startEngine(options()), QString());
    const std::uint16_t proxyPort = window->bridge().proxyPort();
    const std::uint16_t demoPort = window->bridge().demoPort();
    window->demoTrafficAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window->traffic().maxRps(60) > 0, 10000);

    QVERIFY(window->close());
    QVERIFY(!window->demoTraffic().isRunning());
    QCOMPARE(window->bridge().state(), EngineBridge::State::stopped);
    QVERIFY(window->findChild<QLabel*>("stateLabel")->text().contains("stopped"));
    window.reset();

    for (std::uint16_t port : {proxyPort, demoPort}) {
      QTcpSocket socket;
      socket.connectToHost(QHostAddress::LocalHost, port);
      QVERIFY2(!socket.waitForConnected(500), qPrintable(QString::number(port)));
    }
  }

  void hasDashboardPluginsAndTracesPages() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTabWidget* pages = window.pages();
    QCOMPARE(pages->count(), 6);
    QCOMPARE(pages->tabText(0).remove(u'&'), QStringLiteral("Dashboard"));
    QCOMPARE(pages->tabText(1).remove(u'&'), QStringLiteral("Plugins"));
    QCOMPARE(pages->tabText(2).remove(u'&'), QStringLiteral("Traces"));
    QCOMPARE(pages->tabText(3).remove(u'&'), QStringLiteral("Access log"));
    QCOMPARE(pages->tabText(4).remove(u'&'), QStringLiteral("Error log"));
    QCOMPARE(pages->currentWidget(), window.dashboard());
    QVERIFY(window.showPage("errors"));
    QCOMPARE(pages->currentWidget(), window.errorLogPage());
    QVERIFY(window.showPage("traces"));
    QCOMPARE(pages->currentWidget(), window.tracesPage());
    QVERIFY(window.tracesPage()->refreshTimer().isActive());  // polls only while shown
    QVERIFY(window.showPage("plugins"));
    QCOMPARE(pages->currentWidget(), window.pluginsPage());
    QVERIFY(!window.tracesPage()->refreshTimer().isActive());
    QVERIFY(!window.showPage("nowhere"));
    QCOMPARE(pages->currentWidget(), window.pluginsPage());
    // Ctrl+3 goes to the traces.
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key_3, Qt::ControlModifier);
    QCOMPARE(pages->currentWidget(), window.tracesPage());
  }

  void accessLogPageShowsRealTrafficAndFilters() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.startEngine(options()), QString());
    QVERIFY(window.showPage("log"));
    QCOMPARE(window.pages()->currentWidget(), window.accessLogPage());
    const std::uint16_t port = window.bridge().proxyPort();
    QCOMPARE(httpGet(port, "/anything/first"), 200);
    QCOMPARE(httpGet(port, "/slow/0.01", "apikey: demo-key\r\n"), 200);
    QCOMPARE(httpGet(port, "/nowhere"), 404);

    using archway::models::AccessLogModel;
    QTableView* table = window.accessLogPage()->table();
    QTRY_COMPARE_WITH_TIMEOUT(table->model()->rowCount(), 3, 5000);
    const QStringList paths = columnOf(table->model(), AccessLogModel::kPathColumn);
    QVERIFY2(paths.contains("/anything/first") && paths.contains("/slow/0.01"),
             qPrintable(paths.join(',')));
    QVERIFY(columnOf(table->model(), AccessLogModel::kConsumerColumn).contains("demo"));
    QVERIFY(columnOf(table->model(), AccessLogModel::kStatusColumn).contains("404"));
    QVERIFY(columnOf(table->model(), AccessLogModel::kMethodColumn).contains("GET"));

    // The filter narrows to matching rows (any column).
    window.accessLogPage()->filter()->setText("DEMO");
    QCOMPARE(columnOf(table->model(), AccessLogModel::kPathColumn), QStringList({"/slow/0.01"}));
    window.accessLogPage()->filter()->clear();

    // Paused, new lines wait; resumed, they show.
    window.accessLogPage()->pauseButton()->click();
    QVERIFY(window.accessLog().paused());
    QCOMPARE(httpGet(port, "/anything/while-paused"), 200);
    QTRY_COMPARE_WITH_TIMEOUT(window.accessLog().pendingCount(), 1, 5000);
    QCOMPARE(table->model()->rowCount(), 3);
    window.accessLogPage()->pauseButton()->click();
    QCOMPARE(table->model()->rowCount(), 4);
    QVERIFY(columnOf(table->model(), AccessLogModel::kPathColumn).contains("/anything/while-paused"));

    window.accessLogPage()->clearButton()->click();
    QCOMPARE(table->model()->rowCount(), 0);

    // The dashboard's consumer and target tabs are fed from the same engine.
    QTRY_VERIFY_WITH_TIMEOUT(
        columnOf(window.dashboard()->consumerTable()->model(), 0).contains("demo"), 5000);
  }

  void errorLogPageShowsEngineRecordsAndItsLevel() {
    using archway::core::log::Level;
    using archway::models::ErrorLogModel;
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.showPage("errors"));
    archway::gui::ErrorLogPage* page = window.errorLogPage();
    QTableView* table = page->table();
    QCOMPARE(window.startEngine(options()), QString());

    // The engine's own records, live: its start-up line names the bound proxy port.
    const QString port = QString::number(window.bridge().proxyPort());
    QTRY_VERIFY_WITH_TIMEOUT(
        columnOf(table->model(), ErrorLogModel::kMessageColumn).contains("engine started"), 5000);
    QVERIFY(columnOf(table->model(), ErrorLogModel::kFieldsColumn)
                .filter("proxy_port=" + port)
                .size() == 1);
    QCOMPARE(page->engineLevel()->currentData().toInt(), int(Level::info));

    // The level box changes the engine's level (and the change is logged).
    const int warn = page->engineLevel()->findData(int(Level::warn));
    page->engineLevel()->setCurrentIndex(warn);
    emit page->engineLevel()->activated(warn);
    QCOMPARE(window.bridge().engine().logLevel(), Level::warn);
    QTRY_VERIFY_WITH_TIMEOUT(
        columnOf(table->model(), ErrorLogModel::kMessageColumn).contains("log level changed"),
        5000);

    // A change through the Admin API shows in the box.
    QTcpSocket admin;
    const QString adminAddress = window.bridge().adminAddress();
    admin.connectToHost(QHostAddress::LocalHost,
                        adminAddress.mid(adminAddress.lastIndexOf(u':') + 1).toUShort());
    QVERIFY(admin.waitForConnected(3000));
    admin.write("PUT /debug/node/log-level/error HTTP/1.1\r\nHost: localhost\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n");
    QByteArray reply;
    while (admin.waitForReadyRead(5000)) reply += admin.readAll();
    QVERIFY2(reply.startsWith("HTTP/1.1 200"), reply.constData());
    QTRY_COMPARE_WITH_TIMEOUT(page->engineLevel()->currentData().toInt(), int(Level::error), 5000);

    // What the table shows: at or above a level, containing a text.
    page->shownLevel()->setCurrentIndex(page->shownLevel()->findData(int(Level::warn)));
    QVERIFY(!columnOf(table->model(), ErrorLogModel::kMessageColumn).contains("engine started"));
    page->shownLevel()->setCurrentIndex(page->shownLevel()->findData(int(Level::debug)));
    page->filter()->setText("PROXY_PORT");
    QCOMPARE(columnOf(table->model(), ErrorLogModel::kMessageColumn),
             QStringList({"engine started"}));
    page->filter()->clear();

    // Paused, records wait; resumed, they show; cleared, none.
    page->pauseButton()->click();
    QVERIFY(window.errorLog().paused());
    const int shown = table->model()->rowCount();
    archway::core::log::error("while paused");
    QTRY_COMPARE_WITH_TIMEOUT(window.errorLog().pendingCount(), 1, 5000);
    QCOMPARE(table->model()->rowCount(), shown);
    page->pauseButton()->click();
    QVERIFY(columnOf(table->model(), ErrorLogModel::kMessageColumn).contains("while paused"));
    page->clearButton()->click();
    QCOMPARE(table->model()->rowCount(), 0);

    window.bridge().engine().setLogLevel(Level::info);  // the level is the process's
  }

  void demoConfigPluginsAnswerAndShowOnThePluginsPage() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.startEngine(options()), QString());
    const std::uint16_t port = window.bridge().proxyPort();
    QCOMPARE(httpGet(port, "/anything/x"), 200);
    QCOMPARE(httpGet(port, "/slow/0.01"), 401);  // key-auth on the slow route
    QCOMPARE(httpGet(port, "/slow/0.01", "apikey: demo-key\r\n"), 200);

    window.showPage("plugins");
    QTableView* table = window.pluginsPage()->table();
    const int pluginColumn = archway::models::PluginStatsModel::kPluginColumn;
    QTRY_VERIFY_WITH_TIMEOUT(columnOf(table->model(), pluginColumn).contains("key-auth"), 5000);
    const QStringList plugins = columnOf(table->model(), pluginColumn);
    for (const char* name : {"correlation-id", "rate-limiting", "response-transformer"}) {
      QVERIFY2(plugins.contains(name), qPrintable(plugins.join(',')));
    }
    // The filter narrows the table to matching rows.
    window.pluginsPage()->filter()->setText("KEY-AU");
    QCOMPARE(columnOf(table->model(), pluginColumn), QStringList({"key-auth"}));
    window.pluginsPage()->filter()->clear();
    QCOMPARE(table->model()->rowCount(), window.pluginStats().rowCount());
  }

  void tracesPageFiltersAndShowsAWaterfall() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.startEngine(options()), QString());
    TracesPage* page = window.tracesPage();
    window.showPage("traces");

    // The sampling controls show the engine's policy and change it.
    QVERIFY(page->tracingBox()->isChecked());
    QCOMPARE(page->sampleRateBox()->value(), window.bridge().tracing().rate * 100);
    page->sampleRateBox()->setValue(100);
    QCOMPARE(window.bridge().tracing().rate, 1.0);
    page->keepClientErrorsBox()->setChecked(true);
    QVERIFY(window.bridge().tracing().keepClientErrors);
    page->slowMsBox()->setValue(250);
    QCOMPARE(window.bridge().tracing().slowMs, std::uint32_t(250));

    const std::uint16_t port = window.bridge().proxyPort();
    QCOMPARE(httpGet(port, "/anything/a"), 200);
    QCOMPARE(httpGet(port, "/demo/status/503"), 503);
    QCOMPARE(httpGet(port, "/demo/status/404"), 404);
    QCOMPARE(httpGet(port, "/slow/0.02", "apikey: demo-key\r\n"), 200);

    QAbstractItemModel* list = page->table()->model();
    QTRY_COMPARE_WITH_TIMEOUT(list->rowCount(), 4, 5000);
    // The newest is selected and drawn.
    QTRY_VERIFY(page->waterfall()->hasTrace());
    QVERIFY(page->waterfall()->rowCount() > 3);

    const int status = archway::models::TraceListModel::kStatusColumn;
    const int route = archway::models::TraceListModel::kRouteColumn;
    page->statusFilter()->setCurrentIndex(page->statusFilter()->findText("5xx"));
    QCOMPARE(columnOf(list, status), QStringList({"503"}));
    page->statusFilter()->setCurrentIndex(page->statusFilter()->findText("2xx"));
    QCOMPARE(list->rowCount(), 2);
    page->routeFilter()->setText("SLO");  // a few letters, any case
    QCOMPARE(columnOf(list, route), QStringList({"slow"}));
    page->minMsFilter()->setValue(10000);
    QCOMPARE(list->rowCount(), 0);
    QVERIFY(!page->waterfall()->hasTrace());
    page->minMsFilter()->setValue(0);
    page->routeFilter()->clear();
    page->statusFilter()->setCurrentIndex(0);
    QCOMPARE(list->rowCount(), 4);

    // Selecting a trace draws it.
    const int notFound = columnOf(list, status).indexOf("404");
    QVERIFY(notFound >= 0);
    page->table()->selectRow(notFound);
    QVERIFY(page->waterfall()->trace());
    QCOMPARE(page->waterfall()->trace()->status, std::uint16_t(404));
    QCOMPARE(page->waterfall()->rowName(0), QStringLiteral("Whole request"));

    // Turning tracing off keeps no more traces.
    page->tracingBox()->setChecked(false);
    QVERIFY(!window.bridge().tracing().enabled);
    QVERIFY(!page->sampleRateBox()->isEnabled());
  }

  void showsAStartupErrorInTheWindowAndKeepsRunning() {
    QTcpServer busy;
    QVERIFY(busy.listen(QHostAddress::LocalHost, 0));
    BridgeOptions o = options();
    o.engine.proxyListen = "127.0.0.1:" + std::to_string(busy.serverPort());

    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QString error = window.startEngine(o);
    QVERIFY(!error.isEmpty());
    QLabel* label = window.findChild<QLabel*>("errorLabel");
    QVERIFY(label);
    QVERIFY(label->isVisible());
    QVERIFY(label->text().contains(error));
    QVERIFY(window.findChild<QLabel*>("stateLabel")->text().contains("failed"));
    QVERIFY(!window.demoTrafficAction()->isEnabled());
    QVERIFY(window.isVisible());
  }

 private:
  BridgeOptions options() const {
    BridgeOptions o;
    o.engine.proxyListen = "127.0.0.1:0";
    o.engine.adminListen = "127.0.0.1:0";
    o.engine.workers = 1;
    o.demoListen = "127.0.0.1:0";
    o.source.configFile = configFile_.toStdString();
    return o;
  }

  QTemporaryDir dir_;
  QString configFile_;
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
