#pragma once
// Recent traces as a table, newest first: one row per kept request. setTraces() is called on
// the GUI thread with what Engine::recentTraces() returned (newest first); rows that are still
// there keep their place (and the view its selection), gone rows are removed and new ones
// inserted, so a periodic refresh never resets the view.
#include <QAbstractTableModel>
#include <QString>
#include <cstdint>
#include <vector>

#include "trace/finished_trace.h"

namespace archway::models {

class TraceListModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kIdColumn,
    kTimeColumn,
    kMethodColumn,
    kPathColumn,
    kRouteColumn,
    kStatusColumn,
    kDurationColumn,
    kColumnCount
  };
  // The raw value behind a cell (start time in ns, status, duration in µs as qulonglong; text
  // otherwise), for QSortFilterProxyModel::setSortRole.
  static constexpr int kSortRole = Qt::UserRole + 1;
  // The full trace id, 32 hex digits.
  static constexpr int kTraceIdRole = Qt::UserRole + 2;

  explicit TraceListModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  // `traces` newest first, as the trace store returns them.
  void setTraces(std::vector<trace::FinishedTrace> traces);
  void clear();

  // The trace behind a row of this model (not of a proxy); null when out of range. The pointer
  // is valid until the next setTraces() or clear().
  const trace::FinishedTrace* traceAt(int row) const;
  // The row holding the trace `key()` names, or -1.
  int rowOf(const QString& key) const;
  // A request's identity across refreshes: trace id and root span id (one trace id can span
  // several requests).
  static QString key(const trace::FinishedTrace& t);

 private:
  std::vector<trace::FinishedTrace> rows_;
  std::vector<QString> keys_;  // key(rows_[i])
};

}  // namespace archway::models
