#pragma once
// The console's main window. Owns the embedded gateway (through EngineBridge), the models fed
// from its stats frames, and the demo traffic. Everything here runs on the GUI thread; engine
// work happens on engine threads and arrives as queued signals.
#include <QMainWindow>
#include <memory>

#include "models/access_log_model.h"
#include "models/engine_bridge.h"
#include "models/plugin_stats_model.h"
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
class DashboardPage;
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
  DashboardPage* dashboard() const { return dashboard_; }
  PluginsPage* pluginsPage() const { return pluginsPage_; }
  TracesPage* tracesPage() const { return tracesPage_; }
  AccessLogPage* accessLogPage() const { return accessLogPage_; }
  QTabWidget* pages() const { return pages_; }
  // Shows a page by name: "dashboard", "plugins", "traces" or "log". False for another name.
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

  models::TrafficSeries traffic_{120};
  models::EngineBridge* bridge_;
  models::RouteStatsModel* routes_;
  models::PluginStatsModel* plugins_;
  models::RouteStatsModel* consumers_;
  models::RouteStatsModel* targets_;
  models::AccessLogModel* accessLog_;
  models::DemoTraffic* demo_;
  QTabWidget* pages_;
  DashboardPage* dashboard_;
  PluginsPage* pluginsPage_;
  TracesPage* tracesPage_;
  AccessLogPage* accessLogPage_;
  QAction* demoAction_ = nullptr;
  QLabel* proxyLabel_;
  QLabel* adminLabel_;
  QLabel* stateLabel_;
  QString error_;
};

}  // namespace archway::gui
