#pragma once
// The dashboard: headline numbers, the traffic and latency charts and the per-route table.
// It only reads the models the main window owns; refresh() is called once per stats frame on
// the GUI thread.
#include <QWidget>
#include <memory>

class QLabel;
class QSortFilterProxyModel;
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
  DashboardPage(const models::TrafficSeries* traffic, models::RouteStatsModel* routes,
                QWidget* parent = nullptr);

  void refresh(const metrics::StatsFrame& frame);
  // Shows (non-empty) or hides the error banner above the charts.
  void showError(const QString& message);

  TrafficChart* rpsChart() const { return rpsChart_; }
  TrafficChart* latencyChart() const { return latencyChart_; }
  QTableView* routeTable() const { return table_; }
  QLabel* errorLabel() const { return errorText_; }

 private:
  QWidget* makeFigure(const QString& caption, QLabel** value);

  const models::TrafficSeries* traffic_;
  TrafficChart* rpsChart_;
  TrafficChart* latencyChart_;
  QTableView* table_;
  QSortFilterProxyModel* sorted_;
  QWidget* errorBanner_;
  QLabel* errorText_;
  QLabel* rpsValue_ = nullptr;
  QLabel* p50Value_ = nullptr;
  QLabel* p99Value_ = nullptr;
  QLabel* errorsValue_ = nullptr;
  QLabel* connectionsValue_ = nullptr;
};

}  // namespace archway::gui
