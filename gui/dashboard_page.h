#pragma once
// The dashboard: headline numbers, the traffic and latency charts and the per-route, per-consumer
// and per-target tables (tabs).
// It only reads the models the main window owns; refresh() is called once per stats frame on
// the GUI thread.
#include <QWidget>
#include <memory>

class QLabel;
class QSortFilterProxyModel;
class QTabWidget;
class QTableView;

namespace archway::metrics {
struct StatsFrame;
}
namespace archway::models {
class RouteStatsModel;
class TrafficSeries;
}  // namespace archway::models

namespace archway::gui {

class TrafficChart;

class DashboardPage : public QWidget {
  Q_OBJECT
 public:
  // `consumers` and `targets` are RouteStatsModels of those sources.
  DashboardPage(const models::TrafficSeries* traffic, models::RouteStatsModel* routes,
                models::RouteStatsModel* consumers, models::RouteStatsModel* targets,
                QWidget* parent = nullptr);

  void refresh(const metrics::StatsFrame& frame);
  // Shows (non-empty) or hides the error banner above the charts.
  void showError(const QString& message);

  TrafficChart* rpsChart() const { return rpsChart_; }
  TrafficChart* latencyChart() const { return latencyChart_; }
  QTableView* routeTable() const { return table_; }
  QTableView* consumerTable() const { return consumerTable_; }
  QTableView* targetTable() const { return targetTable_; }
  QTabWidget* tableTabs() const { return tableTabs_; }
  QLabel* errorLabel() const { return errorText_; }

 private:
  QWidget* makeFigure(const QString& caption, QLabel** value);
  QTableView* makeTable(models::RouteStatsModel* model, const QString& objectName);

  const models::TrafficSeries* traffic_;
  TrafficChart* rpsChart_;
  TrafficChart* latencyChart_;
  QTableView* table_;
  QTableView* consumerTable_;
  QTableView* targetTable_;
  QTabWidget* tableTabs_;
  QWidget* errorBanner_;
  QLabel* errorText_;
  QLabel* rpsValue_ = nullptr;
  QLabel* p50Value_ = nullptr;
  QLabel* p99Value_ = nullptr;
  QLabel* errorsValue_ = nullptr;
  QLabel* connectionsValue_ = nullptr;
};

}  // namespace archway::gui
