#include "models/error_log_model.h"

#include <QDateTime>
#include <QStringList>
#include <algorithm>
#include <iterator>
#include <utility>

#include "core/log_writer.h"

namespace archway::models {

ErrorLogModel::ErrorLogModel(QObject* parent, int capacity)
    : QAbstractTableModel(parent), capacity_(std::max(1, capacity)) {}

int ErrorLogModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int ErrorLogModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QString ErrorLogModel::levelText(core::log::Level level) {
  switch (level) {
    case core::log::Level::debug:
      return tr("debug");
    case core::log::Level::info:
      return tr("info");
    case core::log::Level::warn:
      return tr("warn");
    case core::log::Level::error:
      return tr("error");
    case core::log::Level::off:
      break;
  }
  return tr("off");
}

QVariant ErrorLogModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const Row& row = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kTimeColumn:
          return row.time;
        case kLevelColumn:
          return levelText(row.level);
        case kMessageColumn:
          return row.message;
        case kFieldsColumn:
          return row.fields;
      }
      break;
    case kLevelRole:
      return static_cast<int>(row.level);
    case kLineRole:
    case Qt::ToolTipRole:
      return row.line;
  }
  return {};
}

QVariant ErrorLogModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
    return QAbstractTableModel::headerData(section, orientation, role);
  }
  switch (section) {
    case kTimeColumn:
      return tr("Time");
    case kLevelColumn:
      return tr("Level");
    case kMessageColumn:
      return tr("Message");
    case kFieldsColumn:
      return tr("Details");
  }
  return {};
}

ErrorLogModel::Row ErrorLogModel::toRow(const core::log::Record& record) {
  Row row;
  row.level = record.level;
  row.time =
      QDateTime::fromMSecsSinceEpoch(record.timeUs / 1000).toString(QStringLiteral("HH:mm:ss.zzz"));
  row.message = QString::fromStdString(record.message);
  QStringList fields;
  for (const auto& [key, value] : record.fields)
    fields << QStringLiteral("%1=%2").arg(QString::fromStdString(key),
                                          QString::fromStdString(value));
  row.fields = fields.join(QStringLiteral("  "));
  std::string line = core::log::formatJson(record);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  row.line = QString::fromStdString(line);
  return row;
}

void ErrorLogModel::append(const std::vector<core::log::Record>& records) {
  if (records.empty()) return;
  const auto cap = static_cast<std::size_t>(capacity_);
  // Only the newest `capacity` can ever be shown.
  const std::size_t skip = records.size() > cap ? records.size() - cap : 0;
  std::vector<Row> rows;
  rows.reserve(records.size() - skip);
  for (auto it = records.begin() + static_cast<std::ptrdiff_t>(skip); it != records.end(); ++it)
    rows.push_back(toRow(*it));
  if (!paused_) {
    insert(std::move(rows));
    return;
  }
  waiting_.insert(waiting_.end(), std::make_move_iterator(rows.begin()),
                  std::make_move_iterator(rows.end()));
  if (waiting_.size() > cap)
    waiting_.erase(waiting_.begin(),
                   waiting_.begin() + static_cast<std::ptrdiff_t>(waiting_.size() - cap));
  emit pendingChanged(pendingCount());
}

// `rows` holds at most `capacity` rows.
void ErrorLogModel::insert(std::vector<Row> rows) {
  if (rows.empty()) return;
  const auto cap = static_cast<std::size_t>(capacity_);
  const std::size_t excess =
      rows_.size() + rows.size() > cap ? rows_.size() + rows.size() - cap : 0;
  if (excess > 0) {  // make room first: the view never holds more than `capacity` rows
    beginRemoveRows({}, 0, static_cast<int>(excess) - 1);
    rows_.erase(rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(excess));
    endRemoveRows();
  }
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(rows.size()) - 1);
  std::move(rows.begin(), rows.end(), std::back_inserter(rows_));
  endInsertRows();
}

void ErrorLogModel::setPaused(bool paused) {
  if (paused_ == paused) return;
  paused_ = paused;
  if (paused_ || waiting_.empty()) return;
  insert(std::exchange(waiting_, {}));
  emit pendingChanged(0);
}

void ErrorLogModel::clear() {
  if (!rows_.empty()) {
    beginRemoveRows({}, 0, static_cast<int>(rows_.size()) - 1);
    rows_.clear();
    endRemoveRows();
  }
  if (!waiting_.empty()) {
    waiting_.clear();
    emit pendingChanged(0);
  }
}

ErrorLogFilter::ErrorLogFilter(QObject* parent) : QSortFilterProxyModel(parent) {
  setFilterCaseSensitivity(Qt::CaseInsensitive);
  setFilterKeyColumn(-1);
}

void ErrorLogFilter::setMinimumLevel(core::log::Level level) {
  if (minimum_ == level) return;
  minimum_ = level;
  invalidateFilter();
}

void ErrorLogFilter::setText(const QString& text) {
  setFilterFixedString(text);
}

bool ErrorLogFilter::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
  const QModelIndex cell = sourceModel()->index(sourceRow, 0, sourceParent);
  if (cell.data(ErrorLogModel::kLevelRole).toInt() < static_cast<int>(minimum_)) return false;
  return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}

}  // namespace archway::models
