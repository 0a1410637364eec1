#include <QAction>
#include <QChart>
#include <QFile>
#include <QLabel>
#include <QLineSeries>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "gui/dashboard_page.h"
#include "gui/main_window.h"
#include "gui/traffic_chart.h"
#include "models/demo_traffic.h"

using archway::gui::MainWindow;
using archway::models::BridgeOptions;
using archway::models::EngineBridge;

namespace {

bool anyPointAboveZero(const QLineSeries* series) {
  for (const QPointF& p : series->points()) {
    if (p.y() > 0) return true;
  }
  return false;
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
