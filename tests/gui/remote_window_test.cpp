// `archway --connect`: a MainWindow managing a real Engine (Admin API and proxy on port 0, the
// demo upstream behind it) through its Admin API only: stats and traces arrive, sampling changes
// reach the node, the Config page diffs against that node, the log pages show the node's access
// and error logs, and a refused token is shown on the dashboard.
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTest>

#include "apps/admin_client.h"
#include "config/declarative.h"
#include "core/log.h"
#include "demo/demo_server.h"
#include "gui/access_log_page.h"
#include "gui/dashboard_page.h"
#include "gui/error_log_page.h"
#include "gui/main_window.h"
#include "gui/traces_page.h"
#include "models/access_log_model.h"
#include "models/config_diff_runner.h"
#include "models/error_log_model.h"
#include "models/trace_list_model.h"
#include "runtime/engine.h"

using namespace archway;
using gui::MainWindow;
using models::RemoteNode;

class RemoteWindowTest : public QObject {
  Q_OBJECT
 private:
  demo::DemoServer upstream_;
  std::unique_ptr<runtime::Engine> engine_;

  models::RemoteOptions remote(const std::string& token) const {
    models::RemoteOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(engine_->adminPort());
    o.token = token;
    o.minBackoff = std::chrono::milliseconds(50);
    o.maxBackoff = std::chrono::milliseconds(500);
    return o;
  }

  int get(const std::string& path) const {
    auto client =
        apps::AdminClient::create("http://127.0.0.1:" + std::to_string(engine_->proxyPort()), "");
    if (!client) return -1;
    auto r = (*client)->request("GET", path);
    return r ? r->status : -1;
  }

 private slots:
  void initTestCase() {
    auto port = upstream_.start("127.0.0.1", 0);
    QVERIFY2(port.ok(), port.errorText().c_str());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    o.adminToken = "s3cret";
    o.workers = 1;
    o.tracingSampleRate = 1.0;
    auto config = config::parseDeclarative(
        "_format_version: '3.0'\nservices:\n- name: remote-demo\n  url: http://127.0.0.1:" +
        std::to_string(*port) + "\n  routes:\n  - {name: remote-route, paths: [/r]}\n");
    QVERIFY2(config.ok(), config.errorText().c_str());
    engine_ = std::make_unique<runtime::Engine>();
    auto started = engine_->start(o, *config);
    QVERIFY2(started.ok(), started.errorText().c_str());
  }

  void cleanupTestCase() {
    if (engine_) engine_->stop(std::chrono::milliseconds(200));
    upstream_.stop();
  }

  void showsTheRemoteNodesStatsTracesAndConfig() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.connectRemote(remote("s3cret")), QString());
    QVERIFY(window.remote());
    QTRY_COMPARE_WITH_TIMEOUT(window.remote()->state(), RemoteNode::State::connected, 10000);
    QVERIFY(window.findChild<QLabel*>("stateLabel")->text().contains("Connected"));
    QVERIFY(window.findChild<QLabel*>("proxyLabel")->text().contains(window.remote()->url()));
    QVERIFY(window.windowTitle().contains(window.remote()->url()));
    // Nothing embedded runs.
    QCOMPARE(window.bridge().state(), models::EngineBridge::State::stopped);
    QVERIFY(!window.demoTrafficAction()->isEnabled());

    for (int i = 0; i < 20; ++i) QCOMPARE(get("/r/anything"), 200);
    QCOMPARE(get("/r/status/503"), 503);
    QTRY_VERIFY_WITH_TIMEOUT(window.routeStats().rowCount() == 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(window.traffic().maxRps(60) > 0, 10000);
    QCOMPARE(window.routeStats().index(0, 0).data().toString(), QStringLiteral("remote-route"));

    QVERIFY(window.showPage("traces"));
    QTRY_VERIFY_WITH_TIMEOUT(window.tracesPage()->model()->rowCount() > 0, 10000);
    // The sampling controls show the node's settings and change them on the node.
    QTRY_VERIFY_WITH_TIMEOUT(window.tracesPage()->tracingBox()->isEnabled(), 10000);
    QCOMPARE(window.tracesPage()->sampleRateBox()->value(), 100.0);
    window.tracesPage()->sampleRateBox()->setValue(25);
    QTRY_COMPARE_WITH_TIMEOUT(engine_->tracing().rate, 0.25, 10000);
    window.tracesPage()->sampleRateBox()->setValue(100);
    QTRY_COMPARE_WITH_TIMEOUT(engine_->tracing().rate, 1.0, 10000);

    // The Config page works against the remote node.
    QCOMPARE(window.configRunner().target().url, remote("").url);
    QCOMPARE(window.configRunner().target().token, std::string("s3cret"));
  }

  // The Access log and Error log pages poll the node's /archway/logs/access and /error while
  // shown: the node's requests and records in the same columns, not this process's.
  void showsTheRemoteNodesLogs() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.connectRemote(remote("s3cret")), QString());
    QTRY_COMPARE_WITH_TIMEOUT(window.remote()->state(), RemoteNode::State::connected, 10000);

    QVERIFY(window.showPage("log"));
    QCOMPARE(window.pages()->currentWidget(), window.accessLogPage());
    // The node has no --access-log file: the page says from when its requests are shown.
    QTRY_VERIFY_WITH_TIMEOUT(window.accessLogPage()->notice()->isVisible(), 10000);
    QVERIFY(window.accessLogPage()->notice()->text().contains("--access-log"));
    QCOMPARE(get("/r/anything/logged"), 200);
    QCOMPARE(get("/r/status/502"), 502);
    QTRY_COMPARE_WITH_TIMEOUT(window.accessLogPage()->proxy()->rowCount(), 2, 10000);
    const auto cell = [&](int row, int column) {
      return window.accessLogPage()->proxy()->index(row, column).data().toString();
    };
    QCOMPARE(cell(0, models::AccessLogModel::kPathColumn), QStringLiteral("/r/anything/logged"));
    QCOMPARE(cell(1, models::AccessLogModel::kStatusColumn), QStringLiteral("502"));
    QCOMPARE(cell(1, models::AccessLogModel::kRouteColumn), QStringLiteral("remote-route"));
    window.accessLogPage()->filter()->setText(QStringLiteral("502"));
    QCOMPARE(window.accessLogPage()->proxy()->rowCount(), 1);
    window.accessLogPage()->filter()->clear();

    core::log::warn("remote window log marker", {});
    QVERIFY(window.showPage("errors"));
    QVERIFY(window.errorLogPage()->engineLevel()->isHidden());
    const auto markers = [&window] {
      const auto& log = window.errorLog();
      int n = 0;
      for (int row = 0; row < log.rowCount(); ++row)
        n += log.index(row, models::ErrorLogModel::kMessageColumn).data().toString() ==
             QLatin1String("remote window log marker");
      return n;
    };
    QTRY_COMPARE_WITH_TIMEOUT(markers(), 1, 10000);
    // Hidden, the access log page is not polled; shown again, it continues where it stopped.
    QCOMPARE(get("/r/anything/while-hidden"), 200);
    QVERIFY(window.showPage("log"));
    QTRY_COMPARE_WITH_TIMEOUT(window.accessLogPage()->proxy()->rowCount(), 3, 10000);
    QCOMPARE(cell(2, models::AccessLogModel::kPathColumn),
             QStringLiteral("/r/anything/while-hidden"));
    QCOMPARE(markers(), 1);  // the console's own error log is not shown
  }

  void aRefusedTokenIsShownOnTheDashboard() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.connectRemote(remote("wrong")), QString());
    QTRY_COMPARE_WITH_TIMEOUT(window.remote()->state(), RemoteNode::State::unauthorized, 10000);
    QVERIFY(window.findChild<QLabel*>("stateLabel")->text().contains("Token refused"));
    const QString banner = window.dashboard()->errorLabel()->text();
    QVERIFY2(banner.contains("401"), qPrintable(banner));
  }

  void anUnreachableNodeIsShownOnTheDashboard() {
    MainWindow window;
    models::RemoteOptions o;
    o.url = "http://127.0.0.1:1";
    QCOMPARE(window.connectRemote(o), QString());
    QTRY_COMPARE_WITH_TIMEOUT(window.remote()->state(), RemoteNode::State::unreachable, 10000);
    QVERIFY2(window.dashboard()->errorLabel()->text().contains("127.0.0.1:1"),
             qPrintable(window.dashboard()->errorLabel()->text()));
  }
};

QTEST_MAIN(RemoteWindowTest)
#include "remote_window_test.moc"
