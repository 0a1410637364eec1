#pragma once
// A config::ConfigDiff (engine/config/diff.h, the same one `archwayd config diff` prints) as a
// tree for the console: the groups "Create", "Update" and "Delete" (only those with changes),
// one row per changed entity (kind, name, changed fields) and, under an update, one row per
// changed field with its value before and after. Secrets read "(hidden)" as in the CLI. GUI
// thread only.
#include <QAbstractItemModel>
#include <array>
#include <vector>

#include "config/diff.h"

namespace archway::models {

class ConfigDiffModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { kEntityColumn, kNameColumn, kFieldColumn, kBeforeColumn, kAfterColumn };
  static constexpr int kColumnCount = 5;
  // Data role of every row: its config::ChangeKind as int (the page colours rows by it).
  static constexpr int kKindRole = Qt::UserRole + 1;

  explicit ConfigDiffModel(QObject* parent = nullptr);

  void setDiff(config::ConfigDiff diff);
  void clear();
  const config::ConfigDiff& diff() const { return diff_; }
  int count(config::ChangeKind kind) const;
  // The Admin API calls the diff takes, in order (what "Apply" sends).
  int callCount() const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  // internalId of an index names its parent: 0 the root (a group row), 1..3 group g-1 (a change
  // row), kFieldBase + i change i of diff_.changes (a field row).
  static constexpr quintptr kFieldBase = 4;
  QVariant groupData(int group, int column, int role) const;
  QVariant changeData(const config::Change& change, int column, int role) const;

  config::ConfigDiff diff_;
  std::vector<int> groups_;                  // ChangeKind of each shown group, in order
  std::array<std::vector<int>, 3> members_;  // per ChangeKind: indexes into diff_.changes
  std::vector<int> rowInGroup_;              // per change: its row under its group
};

}  // namespace archway::models
