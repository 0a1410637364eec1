#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include "models/engine_bridge.h"

using archway::models::BridgeOptions;
using archway::models::EngineBridge;

class EngineBridgeTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    configFile_ = dir_.filePath("kong.yml");
    QVERIFY(QFile::copy(ARCHWAY_SOURCE_DIR "/resources/demo/kong.yml", configFile_));
  }

  void startsOnPortZeroAndDeliversFramesOnTheGuiThread() {
    EngineBridge bridge;
    QSignalSpy frames(&bridge, &EngineBridge::statsUpdated);
    QCOMPARE(bridge.start(options()), QString());
    QCOMPARE(bridge.state(), EngineBridge::State::running);
    QVERIFY(bridge.proxyPort() != 0);
    QVERIFY(bridge.proxyAddress().startsWith("127.0.0.1:"));
    QTRY_VERIFY_WITH_TIMEOUT(frames.size() >= 2, 5000);
    const auto frame =
        frames.last().at(0).value<std::shared_ptr<const archway::metrics::StatsFrame>>();
    QVERIFY(frame != nullptr);
    QCOMPARE(frame->routes.size(), std::size_t(3));
  }

  void pointsTheDemoServiceAtTheDemoServersPort() {
    EngineBridge bridge;
    QCOMPARE(bridge.start(options()), QString());
    QVERIFY(bridge.demoPort() != 0 && bridge.demoPort() != 9080);
    const auto config = bridge.engine().config();
    QCOMPARE(config->services.size(), std::size_t(2));
    for (const auto& service : config->services) QCOMPARE(service.port, bridge.demoPort());
  }

  void reportsABusyProxyPortAndLeavesNothingRunning() {
    QTcpServer busy;
    QVERIFY(busy.listen(QHostAddress::LocalHost, 0));
    BridgeOptions o = options();
    o.engine.proxyListen = "127.0.0.1:" + std::to_string(busy.serverPort());
    EngineBridge bridge;
    QSignalSpy states(&bridge, &EngineBridge::stateChanged);
    const QString error = bridge.start(o);
    QVERIFY(!error.isEmpty());
    QVERIFY2(error.contains("proxy-listen"), qPrintable(error));
    QCOMPARE(bridge.state(), EngineBridge::State::failed);
    QCOMPARE(bridge.demoPort(), std::uint16_t(0));
    QCOMPARE(states.size(), 1);
  }

  void stopEndsFramesAndFreesThePort() {
    EngineBridge bridge;
    QSignalSpy frames(&bridge, &EngineBridge::statsUpdated);
    QCOMPARE(bridge.start(options()), QString());
    const std::uint16_t port = bridge.proxyPort();
    QTRY_VERIFY_WITH_TIMEOUT(frames.size() >= 1, 5000);
    bridge.stop();
    QCOMPARE(bridge.state(), EngineBridge::State::stopped);
    QCOMPARE(bridge.proxyPort(), std::uint16_t(0));
    frames.clear();
    QTest::qWait(600);
    QCOMPARE(frames.size(), 0);
    QTcpServer again;
    QVERIFY(again.listen(QHostAddress::LocalHost, port));
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

QTEST_GUILESS_MAIN(EngineBridgeTest)
#include "engine_bridge_test.moc"
