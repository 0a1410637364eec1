#include "models/route_stats_model.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace archway::models {

RouteStatsModel::RouteStatsModel(QObject* parent, Source source)
    : QAbstractTableModel(parent), source_(source) {}

const metrics::EntityList& RouteStatsModel::entities(
    const metrics::StatsFrame& frame) const {
  switch (source_) {
    case Source::consumers:
      return frame.consumers;
    case Source::targets:
      return frame.targets;
    case Source::routes:
      break;
  }
  return frame.routes;
}

QString RouteStatsModel::displayName(Source source, const metrics::EntityStats& e) {
  if (source == Source::consumers && e.id == "(other)") return tr("(other consumers)");
  if (source == Source::targets && !e.upstream.empty()) {
    return tr("%1 (%2)").arg(QString::fromStdString(e.name), QString::fromStdString(e.upstream));
  }
  return QString::fromStdString(e.name);
}

int RouteStatsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int RouteStatsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant RouteStatsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const Row& row = rows_[static_cast<std::size_t>(index.row())];
  const auto& s = row.stats;
  const bool hasLatency = s.latency1s.count > 0;
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kRouteColumn:
          return row.name;
        case kRequestsColumn:
          return QString::number(s.requests);
        case kRpsColumn:
          return QString::number(s.rps, 'f', 1);
        case k4xxColumn:
          return QString::number(s.status4xx);
        case k5xxColumn:
          return QString::number(s.status5xx);
        // An idle route has no percentiles; a dash says so instead of a misleading 0.
        case kP50Column:
          return hasLatency ? QString::number(s.latency1s.p50, 'f', 1) : QStringLiteral("–");
        case kP95Column:
          return hasLatency ? QString::number(s.latency1s.p95, 'f', 1) : QStringLiteral("–");
        case kP99Column:
          return hasLatency ? QString::number(s.latency1s.p99, 'f', 1) : QStringLiteral("–");
      }
      break;
    case kSortRole:
      switch (index.column()) {
        case kRouteColumn:
          return row.name;
        case kRequestsColumn:
          return QVariant::fromValue<qulonglong>(s.requests);
        case kRpsColumn:
          return s.rps;
        case k4xxColumn:
          return QVariant::fromValue<qulonglong>(s.status4xx);
        case k5xxColumn:
          return QVariant::fromValue<qulonglong>(s.status5xx);
        case kP50Column:
          return hasLatency ? s.latency1s.p50 : -1.0;
        case kP95Column:
          return hasLatency ? s.latency1s.p95 : -1.0;
        case kP99Column:
          return hasLatency ? s.latency1s.p99 : -1.0;
      }
      break;
    case kIdRole:
      return QString::fromStdString(row.id);
    case Qt::ToolTipRole:
      if (index.column() == kRouteColumn) return QString::fromStdString(row.id);
      break;
    case Qt::TextAlignmentRole:
      if (index.column() != kRouteColumn) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      break;
  }
  return {};
}

QVariant RouteStatsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
    return QAbstractTableModel::headerData(section, orientation, role);
  }
  switch (section) {
    case kRouteColumn:
      switch (source_) {
        case Source::consumers:
          return tr("Consumer");
        case Source::targets:
          return tr("Target (upstream)");
        case Source::routes:
          break;
      }
      return tr("Route");
    case kRequestsColumn:
      return tr("Requests");
    case kRpsColumn:
      return tr("Req/s");
    case k4xxColumn:
      return tr("4xx");
    case k5xxColumn:
      return tr("5xx");
    case kP50Column:
      return tr("p50 (ms)");
    case kP95Column:
      return tr("p95 (ms)");
    case kP99Column:
      return tr("p99 (ms)");
  }
  return {};
}

bool RouteStatsModel::sameNumbers(const metrics::EntityStats& a, const metrics::EntityStats& b) {
  return a.requests == b.requests && a.rps == b.rps && a.status4xx == b.status4xx &&
         a.status5xx == b.status5xx && a.latency1s.count == b.latency1s.count &&
         a.latency1s.p50 == b.latency1s.p50 && a.latency1s.p95 == b.latency1s.p95 &&
         a.latency1s.p99 == b.latency1s.p99;
}

void RouteStatsModel::update(const metrics::StatsFrame& frame) {
  const auto& list = entities(frame);
  std::unordered_map<std::string, const metrics::EntityStats*> incoming;
  incoming.reserve(list.size());
  for (const auto& r : list) incoming.emplace(r.id, &r);

  // Routes gone from the config: remove their rows, back to front so indexes stay valid.
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0; --i) {
    if (!incoming.count(rows_[static_cast<std::size_t>(i)].id)) {
      beginRemoveRows({}, i, i);
      rows_.erase(rows_.begin() + i);
      endRemoveRows();
    }
  }

  // Update in place; one dataChanged per contiguous run of changed rows.
  std::unordered_set<std::string> known;
  int runStart = -1;
  auto flush = [&](int end) {
    if (runStart >= 0) {
      emit dataChanged(index(runStart, 0), index(end, kColumnCount - 1));
      runStart = -1;
    }
  };
  for (int i = 0; i < static_cast<int>(rows_.size()); ++i) {
    Row& row = rows_[static_cast<std::size_t>(i)];
    known.insert(row.id);
    const metrics::EntityStats& next = *incoming.at(row.id);
    const QString nextName = displayName(source_, next);
    if (sameNumbers(row.stats, next) && row.name == nextName) {
      flush(i - 1);
      continue;
    }
    row.stats = next;
    row.name = nextName;
    if (runStart < 0) runStart = i;
  }
  flush(static_cast<int>(rows_.size()) - 1);

  // New routes, appended in the frame's order.
  std::vector<Row> added;
  for (const auto& r : list) {
    if (known.insert(r.id).second) added.push_back({r.id, displayName(source_, r), r});
  }
  if (!added.empty()) {
    const int first = static_cast<int>(rows_.size());
    beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
    for (auto& r : added) rows_.push_back(std::move(r));
    endInsertRows();
  }
}

void RouteStatsModel::clear() {
  if (rows_.empty()) return;
  beginRemoveRows({}, 0, static_cast<int>(rows_.size()) - 1);
  rows_.clear();
  endRemoveRows();
}

}  // namespace archway::models
