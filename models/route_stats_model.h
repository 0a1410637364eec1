#pragma once
// Per-route traffic as a table: one row per route, in the order routes first appeared. The same
// model shows the frame's consumers or upstream targets (Source), one row per entity.
// update() is called on the GUI thread with each stats frame; it emits dataChanged for the
// rows whose numbers moved and inserts/removes rows as routes come and go, so views keep their
// selection and scroll position (no reset per frame).
#include <QAbstractTableModel>
#include <QString>
#include <vector>

#include "metrics/stats_frame.h"

namespace archway::models {

class RouteStatsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kRouteColumn,
    kRequestsColumn,
    kRpsColumn,
    k4xxColumn,
    k5xxColumn,
    kP50Column,
    kP95Column,
    kP99Column,
    kColumnCount
  };
  // The raw number behind a cell (qulonglong or double; the name for the first column), for
  // sorting with QSortFilterProxyModel::setSortRole.
  static constexpr int kSortRole = Qt::UserRole + 1;
  static constexpr int kIdRole = Qt::UserRole + 2;

  // Which list of the frame the rows come from.
  enum class Source { routes, consumers, targets };

  explicit RouteStatsModel(QObject* parent = nullptr, Source source = Source::routes);
  Source source() const { return source_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  void update(const metrics::StatsFrame& frame);
  void clear();

 private:
  struct Row {
    std::string id;
    QString name;
    metrics::EntityStats stats;
  };
  static bool sameNumbers(const metrics::EntityStats& a, const metrics::EntityStats& b);

  const metrics::EntityList& entities(const metrics::StatsFrame& frame) const;
  static QString displayName(Source source, const metrics::EntityStats& e);

  Source source_;
  std::vector<Row> rows_;
};

}  // namespace archway::models
