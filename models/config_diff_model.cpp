#include "models/config_diff_model.h"

namespace archway::models {

namespace {

int kindOf(const config::Change& c) {
  return static_cast<int>(c.kind);
}

}  // namespace

ConfigDiffModel::ConfigDiffModel(QObject* parent) : QAbstractItemModel(parent) {}

void ConfigDiffModel::setDiff(config::ConfigDiff diff) {
  beginResetModel();
  diff_ = std::move(diff);
  groups_.clear();
  for (auto& m : members_) m.clear();
  rowInGroup_.assign(diff_.changes.size(), 0);
  for (std::size_t i = 0; i < diff_.changes.size(); ++i) {
    auto& group = members_[static_cast<std::size_t>(kindOf(diff_.changes[i]))];
    rowInGroup_[i] = static_cast<int>(group.size());
    group.push_back(static_cast<int>(i));
  }
  for (int k = 0; k < 3; ++k) {
    if (!members_[static_cast<std::size_t>(k)].empty()) groups_.push_back(k);
  }
  endResetModel();
}

void ConfigDiffModel::clear() {
  setDiff({});
}

int ConfigDiffModel::count(config::ChangeKind kind) const {
  return static_cast<int>(members_[static_cast<std::size_t>(kind)].size());
}

int ConfigDiffModel::callCount() const {
  int n = 0;
  for (const auto& c : diff_.changes) n += static_cast<int>(c.calls.size());
  return n;
}

QModelIndex ConfigDiffModel::index(int row, int column, const QModelIndex& parent) const {
  if (row < 0 || column < 0 || column >= kColumnCount || rowCount(parent) <= row) return {};
  if (!parent.isValid()) return createIndex(row, column, quintptr(0));
  if (parent.internalId() == 0) {
    return createIndex(row, column, quintptr(1 + groups_[static_cast<std::size_t>(parent.row())]));
  }
  // A field row: its parent is a change row.
  const int group = static_cast<int>(parent.internalId()) - 1;
  const int change =
      members_[static_cast<std::size_t>(group)][static_cast<std::size_t>(parent.row())];
  return createIndex(row, column, kFieldBase + static_cast<quintptr>(change));
}

QModelIndex ConfigDiffModel::parent(const QModelIndex& child) const {
  if (!child.isValid() || child.internalId() == 0) return {};
  if (child.internalId() < kFieldBase) {
    const int kind = static_cast<int>(child.internalId()) - 1;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g] == kind) return createIndex(static_cast<int>(g), 0, quintptr(0));
    }
    return {};
  }
  const auto change = static_cast<std::size_t>(child.internalId() - kFieldBase);
  return createIndex(rowInGroup_[change], 0, quintptr(1 + kindOf(diff_.changes[change])));
}

int ConfigDiffModel::rowCount(const QModelIndex& parent) const {
  if (!parent.isValid()) return static_cast<int>(groups_.size());
  if (parent.column() != 0) return 0;
  if (parent.internalId() == 0) {
    return static_cast<int>(
        members_[static_cast<std::size_t>(groups_[static_cast<std::size_t>(parent.row())])].size());
  }
  if (parent.internalId() < kFieldBase) {
    const auto& group = members_[static_cast<std::size_t>(parent.internalId() - 1)];
    const auto& change =
        diff_.changes[static_cast<std::size_t>(group[static_cast<std::size_t>(parent.row())])];
    return static_cast<int>(change.fields.size());
  }
  return 0;
}

int ConfigDiffModel::columnCount(const QModelIndex&) const {
  return kColumnCount;
}

QVariant ConfigDiffModel::groupData(int kind, int column, int role) const {
  const int n = count(static_cast<config::ChangeKind>(kind));
  if (role == Qt::DisplayRole && column == kEntityColumn) {
    switch (static_cast<config::ChangeKind>(kind)) {
      case config::ChangeKind::create:
        return tr("Create (%1)").arg(n);
      case config::ChangeKind::update:
        return tr("Update (%1)").arg(n);
      case config::ChangeKind::remove:
        return tr("Delete (%1)").arg(n);
    }
  }
  return {};
}

QVariant ConfigDiffModel::changeData(const config::Change& change, int column, int role) const {
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  switch (column) {
    case kEntityColumn:
      return QString::fromStdString(change.entity);
    case kNameColumn:
      return QString::fromStdString(change.name);
    case kFieldColumn: {
      QStringList fields;
      for (const auto& f : change.fields) fields << QString::fromStdString(f.field);
      return fields.join(QStringLiteral(", "));
    }
    default:
      return role == Qt::ToolTipRole ? QString::fromStdString(config::describe(change))
                                     : QVariant();
  }
}

QVariant ConfigDiffModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  int kind = 0;
  if (index.internalId() == 0) {
    kind = groups_[static_cast<std::size_t>(index.row())];
  } else if (index.internalId() < kFieldBase) {
    kind = static_cast<int>(index.internalId()) - 1;
  } else {
    kind = kindOf(diff_.changes[static_cast<std::size_t>(index.internalId() - kFieldBase)]);
  }
  if (role == kKindRole) return kind;
  if (index.internalId() == 0) return groupData(kind, index.column(), role);
  if (index.internalId() < kFieldBase) {
    const auto& group = members_[static_cast<std::size_t>(kind)];
    return changeData(
        diff_.changes[static_cast<std::size_t>(group[static_cast<std::size_t>(index.row())])],
        index.column(), role);
  }
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  const auto& change = diff_.changes[static_cast<std::size_t>(index.internalId() - kFieldBase)];
  const auto& field = change.fields[static_cast<std::size_t>(index.row())];
  switch (index.column()) {
    case kFieldColumn:
      return QString::fromStdString(field.field);
    case kBeforeColumn:
      return QString::fromStdString(field.before);
    case kAfterColumn:
      return QString::fromStdString(field.after);
    default:
      return {};
  }
}

QVariant ConfigDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kEntityColumn:
      return tr("Entity");
    case kNameColumn:
      return tr("Name");
    case kFieldColumn:
      return tr("Changed fields");
    case kBeforeColumn:
      return tr("Before");
    case kAfterColumn:
      return tr("After");
    default:
      return {};
  }
}

}  // namespace archway::models
