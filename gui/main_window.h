#pragma once
// The console's main window. Owns the embedded gateway (through EngineBridge), the models fed
// from its stats frames, and the demo traffic. Everything here runs on the GUI thread; engine
// work happens on engine threads and arrives as queued signals.
#include <QMainWindow>
#include <memory>

#include "models/access_log_model.h"
#include "models/config_diff_model.h"
#include "models/config_diff_runner.h"
#include "models/engine_bridge.h"
#include "models/error_log_model.h"
#include "models/plugin_stats_model.h"
#include "models/remote_node.h"
#include "models/route_stats_model.h"
#include "models/traffic_series.h"

class QAction;
class QLabel;
class QTabWidget;

namespace archway::models {
class DemoTraffic;
}

namespace archway::gui {

class AccessLogPage;
class ConfigDiffPage;
class DashboardPage;
class ErrorLogPage;
class PluginsPage;
class TracesPage;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;  // shutdown()

  // Starts the embedded gateway. Returns the error (also shown in the status bar and in a banner
  // on the dashboard) or an empty string; the window stays usable either way.
  QString startEngine(const models::BridgeOptions& options);
  // Manages a remote node through its Admin API instead of an embedded gateway (--connect): its
  // stats stream feeds the dashboard and the Plugins page, its traces the Traces page, its
  // config the Config page; pages that need the embedded gateway say they are unavailable.
  // Call instead of startEngine. Returns an error for a bad URL or CA file (nothing started);
  // a node that cannot be reached is retried and shown in the status bar and on the dashboard.
  QString connectRemote(const models::RemoteOptions& options);
  // Null unless connectRemote succeeded.
  models::RemoteNode* remote() const { return remote_; }
  // Stops demo traffic, then the gateway. Idempotent; also run on close.
  void shutdown();

  models::EngineBridge& bridge() { return *bridge_; }
  models::DemoTraffic& demoTraffic() { return *demo_; }
  const models::TrafficSeries& traffic() const { return traffic_; }
  models::RouteStatsModel& routeStats() { return *routes_; }
  models::PluginStatsModel& pluginStats() { return *plugins_; }
  models::RouteStatsModel& consumerStats() { return *consumers_; }
  models::RouteStatsModel& targetStats() { return *targets_; }
  models::AccessLogModel& accessLog() { return *accessLog_; }
  models::ErrorLogModel& errorLog() { return *errorLog_; }
  DashboardPage* dashboard() const { return dashboard_; }
  PluginsPage* pluginsPage() const { return pluginsPage_; }
  TracesPage* tracesPage() const { return tracesPage_; }
  AccessLogPage* accessLogPage() const { return accessLogPage_; }
  ErrorLogPage* errorLogPage() const { return errorLogPage_; }
  ConfigDiffPage* configPage() const { return configPage_; }
  models::ConfigDiffRunner& configRunner() { return *configRunner_; }
  QTabWidget* pages() const { return pages_; }
  // Shows a page by name: "dashboard", "plugins", "traces", "log" or "errors". False for another
  // name.
  bool showPage(const QString& name);
  QAction* demoTrafficAction() const { return demoAction_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createActions();
  void setDemoTraffic(bool on);
  void updateDemoActionIcon();
  void onStats(std::shared_ptr<const metrics::StatsFrame> frame);
  void onEngineEvent(int kind, const QString& message);
  void updateStatus();
  void showError(const QString& message);
  void updateConfigTarget();
  // main_window_remote.cpp
  void updateRemoteStatus();
  void onRemoteState(models::RemoteNode::State state, const QString& message);
  void connectRemoteLogs();

  models::TrafficSeries traffic_{120};
  models::EngineBridge* bridge_;
  models::RouteStatsModel* routes_;
  models::PluginStatsModel* plugins_;
  models::RouteStatsModel* consumers_;
  models::RouteStatsModel* targets_;
  models::AccessLogModel* accessLog_;
  models::ErrorLogModel* errorLog_;
  models::DemoTraffic* demo_;
  QTabWidget* pages_;
  DashboardPage* dashboard_;
  PluginsPage* pluginsPage_;
  TracesPage* tracesPage_;
  AccessLogPage* accessLogPage_;
  ErrorLogPage* errorLogPage_;
  models::ConfigDiffModel* configDiff_;
  models::ConfigDiffRunner* configRunner_;
  ConfigDiffPage* configPage_;
  std::string embeddedAdminToken_;
  bool embeddedAdminTls_ = false;
  models::RemoteNode* remote_ = nullptr;
  QAction* demoAction_ = nullptr;
  QLabel* proxyLabel_;
  QLabel* adminLabel_;
  QLabel* stateLabel_;
  QString error_;
};

}  // namespace archway::gui
