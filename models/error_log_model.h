#pragma once
// The error log as a table: one row per core::log record (time, level, message, fields), the
// same records the engine writes to its error log (stderr or --error-log). Keeps the newest
// `capacity` rows: appending past it removes the oldest (beginRemoveRows/beginInsertRows, never
// a reset). While paused, new records wait (the newest `capacity` of them) and are shown on
// resume. GUI thread only.
//
// ErrorLogFilter shows the rows at or above a level whose text contains a filter string.
#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <deque>
#include <vector>

#include "core/log.h"

namespace archway::models {

class ErrorLogModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kTimeColumn, kLevelColumn, kMessageColumn, kFieldsColumn, kColumnCount };
  static constexpr int kLevelRole = Qt::UserRole + 1;  // core::log::Level as int
  static constexpr int kLineRole = Qt::UserRole + 2;   // the record as its JSON line
  static constexpr int kDefaultCapacity = 1000;

  explicit ErrorLogModel(QObject* parent = nullptr, int capacity = kDefaultCapacity);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  // Records in log order (the log thread's queue order), as the bridge delivers them.
  void append(const std::vector<core::log::Record>& records);
  void setPaused(bool paused);
  bool paused() const { return paused_; }
  int pendingCount() const { return static_cast<int>(waiting_.size()); }
  int capacity() const { return capacity_; }
  // Removes every row and every waiting record.
  void clear();

  // The level's name as the table shows it ("error", "warn", ...), translated.
  static QString levelText(core::log::Level level);

 signals:
  void pendingChanged(int count);

 private:
  struct Row {
    QString time, message, fields, line;
    core::log::Level level = core::log::Level::info;
  };
  static Row toRow(const core::log::Record& record);
  void insert(std::vector<Row> rows);

  int capacity_;
  bool paused_ = false;
  std::deque<Row> rows_;
  std::vector<Row> waiting_;  // arrived while paused, oldest first
};

class ErrorLogFilter : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  explicit ErrorLogFilter(QObject* parent = nullptr);
  // Rows below `level` are hidden (Level::debug shows all).
  void setMinimumLevel(core::log::Level level);
  core::log::Level minimumLevel() const { return minimum_; }
  // Case-insensitive text every shown row contains in one of its columns ("" shows all).
  void setText(const QString& text);

 protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

 private:
  core::log::Level minimum_ = core::log::Level::debug;
};

}  // namespace archway::models
