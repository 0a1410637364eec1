#include "models/access_log_model.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>

namespace archway::models {

AccessLogModel::AccessLogModel(QObject* parent, int capacity)
    : QAbstractTableModel(parent), capacity_(std::max(1, capacity)) {}

int AccessLogModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int AccessLogModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant AccessLogModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const Row& row = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kTimeColumn:
          return row.time;
        case kMethodColumn:
          return row.method;
        case kPathColumn:
          return row.path;
        case kStatusColumn:
          return row.status;
        case kLatencyColumn:
          return QString::number(row.latencyMs, 'f', row.latencyMs < 10 ? 2 : 1);
        case kRouteColumn:
          return row.route;
        case kConsumerColumn:
          return row.consumer;
      }
      break;
    case kLineRole:
      return row.line;
    case kFilterRole:
      return QStringList{row.method, row.path, QString::number(row.status), row.route, row.consumer}
          .join(u'\n');
    case Qt::ToolTipRole:
      return row.line;
    case Qt::TextAlignmentRole:
      if (index.column() == kStatusColumn || index.column() == kLatencyColumn)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      break;
  }
  return {};
}

QVariant AccessLogModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
    return QAbstractTableModel::headerData(section, orientation, role);
  }
  switch (section) {
    case kTimeColumn:
      return tr("Time");
    case kMethodColumn:
      return tr("Method");
    case kPathColumn:
      return tr("Path");
    case kStatusColumn:
      return tr("Status");
    case kLatencyColumn:
      return tr("Latency (ms)");
    case kRouteColumn:
      return tr("Route");
    case kConsumerColumn:
      return tr("Consumer");
  }
  return {};
}

bool AccessLogModel::parse(const QString& line, Row& out) {
  const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8());
  if (!doc.isObject()) return false;
  const QJsonObject o = doc.object();
  if (o.value(QLatin1String("type")).toString() != QLatin1String("access")) return false;
  // "time" is seconds since the epoch with milliseconds.
  const auto ms = static_cast<qint64>(o.value(QLatin1String("time")).toDouble() * 1000.0 + 0.5);
  out.timeMs = ms;
  out.time = QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss.zzz"));
  out.method = o.value(QLatin1String("method")).toString();
  out.path = o.value(QLatin1String("path")).toString();
  out.status = o.value(QLatin1String("status")).toInt();
  out.latencyMs = o.value(QLatin1String("latency_ms")).toDouble();
  out.route = o.value(QLatin1String("route")).toString();
  out.consumer = o.value(QLatin1String("consumer")).toString();
  out.line = line;
  return true;
}

void AccessLogModel::append(const QStringList& lines) {
  std::deque<Row> parsed;
  for (const QString& line : lines) {
    Row row;
    if (parse(line.trimmed(), row)) parsed.push_back(std::move(row));
  }
  if (parsed.empty()) return;
  std::stable_sort(parsed.begin(), parsed.end(),
                   [](const Row& a, const Row& b) { return a.timeMs < b.timeMs; });
  if (paused_) {
    for (auto& r : parsed) pending_.push_back(std::move(r));
    while (pending_.size() > static_cast<std::size_t>(capacity_)) pending_.pop_front();
    emit pendingChanged(pendingCount());
    return;
  }
  show(parsed);
}

void AccessLogModel::show(std::deque<Row>& rows) {
  const auto cap = static_cast<std::size_t>(capacity_);
  while (rows.size() > cap) rows.pop_front();
  // Make room first, so the view never holds more than `capacity` rows.
  const std::size_t total = rows_.size() + rows.size();
  if (total > cap) {
    const int drop = static_cast<int>(std::min(rows_.size(), total - cap));
    beginRemoveRows({}, 0, drop - 1);
    rows_.erase(rows_.begin(), rows_.begin() + drop);
    endRemoveRows();
  }
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(rows.size()) - 1);
  for (auto& r : rows) rows_.push_back(std::move(r));
  endInsertRows();
  rows.clear();
}

void AccessLogModel::setPaused(bool paused) {
  if (paused_ == paused) return;
  paused_ = paused;
  if (!paused_ && !pending_.empty()) {
    show(pending_);
    emit pendingChanged(0);
  }
}

void AccessLogModel::clear() {
  if (!rows_.empty()) {
    beginRemoveRows({}, 0, static_cast<int>(rows_.size()) - 1);
    rows_.clear();
    endRemoveRows();
  }
  if (!pending_.empty()) {
    pending_.clear();
    emit pendingChanged(0);
  }
}

}  // namespace archway::models
