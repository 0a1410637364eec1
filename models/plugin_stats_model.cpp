#include "models/plugin_stats_model.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace archway::models {

namespace {

// Microseconds: whole numbers from 10 µs up, one decimal below (a fast plugin takes 2–5 µs).
QString formatUs(double us) {
  return us < 10 ? QString::number(us, 'f', 1) : QString::number(us, 'f', 0);
}

}  // namespace

PluginStatsModel::PluginStatsModel(QObject* parent) : QAbstractTableModel(parent) {}

int PluginStatsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int PluginStatsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant PluginStatsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const Row& row = rows_[static_cast<std::size_t>(index.row())];
  const auto& s = row.stats;
  // No request in the last 10 s: the window's numbers are empty; a dash says so.
  const bool idle = s.meanUs == 0 && s.p99Us == 0 && s.maxUs == 0;
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kRouteColumn:
          return row.route;
        case kPluginColumn:
          return row.plugin;
        case kRequestsColumn:
          return QString::number(s.requests);
        case kMeanColumn:
          return idle ? QStringLiteral("–") : formatUs(s.meanUs);
        case kP99Column:
          return idle ? QStringLiteral("–") : formatUs(s.p99Us);
        case kMaxColumn:
          return idle ? QStringLiteral("–") : formatUs(s.maxUs);
      }
      break;
    case kSortRole:
      switch (index.column()) {
        case kRouteColumn:
          return row.route;
        case kPluginColumn:
          return row.plugin;
        case kRequestsColumn:
          return QVariant::fromValue<qulonglong>(s.requests);
        case kMeanColumn:
          return idle ? -1.0 : s.meanUs;
        case kP99Column:
          return idle ? -1.0 : s.p99Us;
        case kMaxColumn:
          return idle ? -1.0 : s.maxUs;
      }
      break;
    case kRouteIdRole:
      return QString::fromStdString(s.routeId);
    case Qt::ToolTipRole:
      if (index.column() == kRouteColumn) return QString::fromStdString(s.routeId);
      if (index.column() >= kMeanColumn) {
        return tr("%1 on %2: %3 µs in total since start")
            .arg(row.plugin, row.route, QString::number(s.sumUs, 'f', 0));
      }
      break;
    case Qt::TextAlignmentRole:
      if (index.column() >= kRequestsColumn) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      break;
  }
  return {};
}

QVariant PluginStatsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal)
    return QAbstractTableModel::headerData(section, orientation, role);
  if (role == Qt::ToolTipRole) {
    if (section >= kMeanColumn) return tr("Time per request, all phases together, last 10 s");
    if (section == kRequestsColumn) return tr("Requests the plugin ran on since start");
    return {};
  }
  if (role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
    case kRouteColumn:
      return tr("Route");
    case kPluginColumn:
      return tr("Plugin");
    case kRequestsColumn:
      return tr("Requests");
    case kMeanColumn:
      return tr("Mean µs");
    case kP99Column:
      return tr("p99 µs");
    case kMaxColumn:
      return tr("Max µs");
  }
  return {};
}

QString PluginStatsModel::routeLabel(const metrics::PluginStats& s) {
  // Global plugins also run on requests no route matched (Kong's 404s).
  return s.routeId.empty() && s.route.empty() ? tr("(no route)") : QString::fromStdString(s.route);
}

std::string PluginStatsModel::keyOf(const metrics::PluginStats& s) {
  return s.routeId + '\n' + s.plugin;
}

bool PluginStatsModel::sameNumbers(const metrics::PluginStats& a, const metrics::PluginStats& b) {
  return a.requests == b.requests && a.meanUs == b.meanUs && a.p99Us == b.p99Us &&
         a.maxUs == b.maxUs && a.sumUs == b.sumUs && a.route == b.route;
}

void PluginStatsModel::update(const metrics::StatsFrame& frame) {
  std::unordered_map<std::string, const metrics::PluginStats*> incoming;
  incoming.reserve(frame.plugins.size());
  for (const auto& p : frame.plugins) incoming.emplace(keyOf(p), &p);

  // Pairs gone (route removed, plugin disabled): remove their rows, back to front, one
  // beginRemoveRows per contiguous run.
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0;) {
    if (incoming.count(rows_[static_cast<std::size_t>(i)].key)) {
      --i;
      continue;
    }
    int first = i;
    while (first > 0 && !incoming.count(rows_[static_cast<std::size_t>(first - 1)].key)) --first;
    beginRemoveRows({}, first, i);
    rows_.erase(rows_.begin() + first, rows_.begin() + i + 1);
    endRemoveRows();
    i = first - 1;
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
    known.insert(row.key);
    const metrics::PluginStats& next = *incoming.at(row.key);
    if (sameNumbers(row.stats, next)) {
      flush(i - 1);
      continue;
    }
    row.stats = next;
    row.route = routeLabel(next);
    if (runStart < 0) runStart = i;
  }
  flush(static_cast<int>(rows_.size()) - 1);

  // New pairs, appended in the frame's order.
  std::vector<Row> added;
  for (const auto& p : frame.plugins) {
    std::string key = keyOf(p);
    if (known.insert(key).second) {
      added.push_back({std::move(key), routeLabel(p), QString::fromStdString(p.plugin), p});
    }
  }
  if (!added.empty()) {
    const int first = static_cast<int>(rows_.size());
    beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
    for (auto& r : added) rows_.push_back(std::move(r));
    endInsertRows();
  }

  maxMeanUs_ = maxP99Us_ = maxMaxUs_ = 0;
  for (const auto& r : rows_) {
    maxMeanUs_ = std::max(maxMeanUs_, r.stats.meanUs);
    maxP99Us_ = std::max(maxP99Us_, r.stats.p99Us);
    maxMaxUs_ = std::max(maxMaxUs_, r.stats.maxUs);
  }
}

double PluginStatsModel::columnMax(int column) const {
  switch (column) {
    case kMeanColumn:
      return maxMeanUs_;
    case kP99Column:
      return maxP99Us_;
    case kMaxColumn:
      return maxMaxUs_;
  }
  return 0;
}

void PluginStatsModel::clear() {
  maxMeanUs_ = maxP99Us_ = maxMaxUs_ = 0;
  if (rows_.empty()) return;
  beginRemoveRows({}, 0, static_cast<int>(rows_.size()) - 1);
  rows_.clear();
  endRemoveRows();
}

}  // namespace archway::models
