#pragma once
// Time each plugin spends per request, one row per (route, plugin), in the order the pairs
// first appeared. update() is called on the GUI thread with each stats frame; it emits
// dataChanged for rows whose numbers moved and inserts/removes rows as plugins come and go, so
// views keep their selection, sort and scroll position (no reset per frame).
#include <QAbstractTableModel>
#include <QString>
#include <string>
#include <vector>

#include "metrics/stats_frame.h"

namespace archway::models {

class PluginStatsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kRouteColumn,
    kPluginColumn,
    kRequestsColumn,
    kMeanColumn,
    kP99Column,
    kMaxColumn,
    kColumnCount
  };
  // The raw number behind a cell (qulonglong or double; text for the name columns), for
  // QSortFilterProxyModel::setSortRole.
  static constexpr int kSortRole = Qt::UserRole + 1;
  // The route's id (the route column shows its name).
  static constexpr int kRouteIdRole = Qt::UserRole + 2;

  explicit PluginStatsModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  void update(const metrics::StatsFrame& frame);
  void clear();

  // The largest value of a time column (kMeanColumn, kP99Column, kMaxColumn) over every row,
  // in µs, for scaling in-cell bars; 0 for other columns or when there are no rows.
  double columnMax(int column) const;

 private:
  struct Row {
    std::string key;  // routeId + '\n' + plugin
    QString route;
    QString plugin;
    metrics::PluginStats stats;
  };
  static QString routeLabel(const metrics::PluginStats& s);
  static std::string keyOf(const metrics::PluginStats& s);
  static bool sameNumbers(const metrics::PluginStats& a, const metrics::PluginStats& b);

  std::vector<Row> rows_;
  double maxMeanUs_ = 0, maxP99Us_ = 0, maxMaxUs_ = 0;
};

}  // namespace archway::models
