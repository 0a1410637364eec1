#include "models/trace_list_model.h"

#include <QDateTime>
#include <QLocale>
#include <QSet>

#include "trace/trace_context.h"

namespace archway::models {

namespace {

QString text(std::string_view s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

QString durationMs(std::uint64_t us) {
  const double ms = static_cast<double>(us) / 1000.0;
  return ms < 10 ? QString::number(ms, 'f', 2) : QString::number(ms, 'f', 1);
}

}  // namespace

TraceListModel::TraceListModel(QObject* parent) : QAbstractTableModel(parent) {}

int TraceListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int TraceListModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant TraceListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const trace::FinishedTrace& t = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kIdColumn:
          // The first 16 hex digits tell traces apart; the tooltip has all 32.
          return QString::fromStdString(trace::toHex(t.traceId)).left(16);
        case kTimeColumn:
          return QDateTime::fromMSecsSinceEpoch(t.startUnixNs / 1000000)
              .toString(QStringLiteral("HH:mm:ss.zzz"));
        case kMethodColumn:
          return text(t.method.view());
        case kPathColumn:
          return text(t.path.view());
        case kRouteColumn:
          return t.route().empty() ? tr("(none)") : text(t.route());
        case kStatusColumn:
          return QString::number(t.status);
        case kDurationColumn:
          return durationMs(t.durationUs);
      }
      break;
    case kSortRole:
      switch (index.column()) {
        case kTimeColumn:
          return QVariant::fromValue<qlonglong>(t.startUnixNs);
        case kStatusColumn:
          return QVariant::fromValue<qulonglong>(t.status);
        case kDurationColumn:
          return QVariant::fromValue<qulonglong>(t.durationUs);
        default:
          return data(index, Qt::DisplayRole);
      }
    case kTraceIdRole:
      return QString::fromStdString(trace::toHex(t.traceId));
    case Qt::ToolTipRole:
      switch (index.column()) {
        case kIdColumn:
          return QString::fromStdString(trace::toHex(t.traceId));
        case kTimeColumn:
          return QLocale().toString(QDateTime::fromMSecsSinceEpoch(t.startUnixNs / 1000000),
                                    QLocale::LongFormat);
        case kPathColumn:
          return QStringLiteral("%1://%2%3")
              .arg(text(t.scheme.view()), text(t.host.view()), text(t.path.view()));
        case kRouteColumn:
          return t.serviceName.empty() ? QVariant()
                                       : tr("Service: %1").arg(text(t.serviceName.view()));
        case kStatusColumn:
          return t.upstreamStatus ? tr("Upstream answered %1").arg(t.upstreamStatus)
                                  : tr("The upstream was not reached");
      }
      break;
    case Qt::TextAlignmentRole:
      if (index.column() == kStatusColumn || index.column() == kDurationColumn) {
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      }
      break;
  }
  return {};
}

QVariant TraceListModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
    return QAbstractTableModel::headerData(section, orientation, role);
  }
  switch (section) {
    case kIdColumn:
      return tr("Trace ID");
    case kTimeColumn:
      return tr("Time");
    case kMethodColumn:
      return tr("Method");
    case kPathColumn:
      return tr("Path");
    case kRouteColumn:
      return tr("Route");
    case kStatusColumn:
      return tr("Status");
    case kDurationColumn:
      return tr("Duration (ms)");
  }
  return {};
}

QString TraceListModel::key(const trace::FinishedTrace& t) {
  return QString::fromStdString(trace::toHex(t.traceId) + '-' + trace::spanIdHex(t.rootSpanId));
}

void TraceListModel::setTraces(std::vector<trace::FinishedTrace> traces) {
  std::vector<QString> nextKeys;
  nextKeys.reserve(traces.size());
  for (const auto& t : traces) nextKeys.push_back(key(t));
  const QSet<QString> next(nextKeys.begin(), nextKeys.end());

  // Rows gone (aged out of the ring, or filtered away): removed back to front in runs.
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0;) {
    if (next.contains(keys_[static_cast<std::size_t>(i)])) {
      --i;
      continue;
    }
    int first = i;
    while (first > 0 && !next.contains(keys_[static_cast<std::size_t>(first - 1)])) --first;
    beginRemoveRows({}, first, i);
    rows_.erase(rows_.begin() + first, rows_.begin() + i + 1);
    keys_.erase(keys_.begin() + first, keys_.begin() + i + 1);
    endRemoveRows();
    i = first - 1;
  }

  // The rows left are in the order `traces` has them (both newest first), so one walk merges:
  // a trace that is not the current row is new and goes in before it. Runs are inserted at once.
  std::size_t row = 0;
  for (std::size_t j = 0; j < traces.size();) {
    if (row < keys_.size() && keys_[row] == nextKeys[j]) {
      ++row;
      ++j;
      continue;
    }
    std::size_t end = j;
    while (end < traces.size() && (row >= keys_.size() || keys_[row] != nextKeys[end])) ++end;
    const int first = static_cast<int>(row);
    const int count = static_cast<int>(end - j);
    beginInsertRows({}, first, first + count - 1);
    rows_.insert(rows_.begin() + static_cast<std::ptrdiff_t>(row), traces.begin() + j,
                 traces.begin() + end);
    keys_.insert(keys_.begin() + static_cast<std::ptrdiff_t>(row), nextKeys.begin() + j,
                 nextKeys.begin() + end);
    endInsertRows();
    row += static_cast<std::size_t>(count);
    j = end;
  }

  // Only if the store's order ever disagreed with ours (or a trace came twice): start over.
  if (keys_ != nextKeys) {
    beginResetModel();
    rows_ = std::move(traces);
    keys_ = std::move(nextKeys);
    endResetModel();
  }
}

void TraceListModel::clear() {
  if (rows_.empty()) return;
  beginRemoveRows({}, 0, static_cast<int>(rows_.size()) - 1);
  rows_.clear();
  keys_.clear();
  endRemoveRows();
}

const trace::FinishedTrace* TraceListModel::traceAt(int row) const {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return nullptr;
  return &rows_[static_cast<std::size_t>(row)];
}

int TraceListModel::rowOf(const QString& k) const {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == k) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace archway::models
