#pragma once
// The Plugins page: how long each plugin takes per request on each route (mean, p99 and max
// over the last 10 s), the view of per-plugin latency that Kong keeps to its Enterprise
// edition. Reads the PluginStatsModel the main window feeds with every stats frame.
#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace archway::models {
class PluginStatsModel;
}

namespace archway::gui {

class PluginsPage : public QWidget {
  Q_OBJECT
 public:
  explicit PluginsPage(models::PluginStatsModel* plugins, QWidget* parent = nullptr);

  QTableView* table() const { return table_; }
  QLineEdit* filter() const { return filter_; }
  QSortFilterProxyModel* proxy() const { return sorted_; }

 private:
  QLineEdit* filter_;
  QTableView* table_;
  QSortFilterProxyModel* sorted_;
};

}  // namespace archway::gui
