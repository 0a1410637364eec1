#pragma once
// What Store::apply() writes: the rows of one entity kind that differ between the config the
// store holds and the new one. Entities are matched by id and compared by value (the entity
// types' operator==), so only changed rows are serialised; an Admin API write on a config of
// 10^5 consumers touches one row, not 10^5. Internal to the store library.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/json_shapes.h"

namespace archway::store {

// One stored row: id, the kind's extra columns (in the kind's column order), the Kong JSON.
struct Row {
  std::string id;
  std::vector<std::optional<std::string>> columns;
  std::string json;
};

// Rows keep the config's order (SQLite: rowid; PostgreSQL: `position`). Rows that keep their
// place are updated in place; `appended` rows go after every kept row, in the new config's
// order: new entities (`existed` false) and kept ones whose place changed (`existed` true:
// their row is moved to the end, not deleted, so nothing cascades).
struct RowChanges {
  std::vector<Row> updated;
  struct Appended {
    Row row;
    bool existed = false;
  };
  std::vector<Appended> appended;
  std::vector<std::string> deleted;  // ids
  std::size_t count() const { return updated.size() + appended.size() + deleted.size(); }
};

// `rowOf(entity)` builds a Row; it runs only for changed entities. Ids are unique per kind.
template <class T, class RowOf>
RowChanges diffRows(const std::vector<T>& before, const std::vector<T>& after, RowOf rowOf) {
  RowChanges out;
  std::size_t i = 0, j = 0;
  // The common case: the same ids in the same order (edits in place), then new entities.
  for (; i < before.size() && j < after.size() && before[i].id == after[j].id; ++i, ++j)
    if (!(before[i] == after[j])) out.updated.push_back(rowOf(after[j]));
  if (i == before.size()) {
    for (; j < after.size(); ++j) out.appended.push_back({rowOf(after[j]), false});
    return out;
  }
  std::unordered_map<std::string_view, std::size_t> rest;  // id -> index in `before`
  rest.reserve(before.size() - i);
  for (std::size_t k = i; k < before.size(); ++k) rest.emplace(before[k].id, k);
  // A kept entity stays in place while kept entities come in their old order and nothing was
  // appended before them; from the first one out of place on, everything is appended.
  bool appending = false;
  std::size_t last = i;
  for (; j < after.size(); ++j) {
    auto it = rest.find(after[j].id);
    if (it == rest.end()) {
      appending = true;
      out.appended.push_back({rowOf(after[j]), false});
      continue;
    }
    const std::size_t k = it->second;
    rest.erase(it);
    if (!appending && k >= last) {
      last = k;
      if (!(before[k] == after[j])) out.updated.push_back(rowOf(after[j]));
    } else {
      appending = true;
      out.appended.push_back({rowOf(after[j]), true});
    }
  }
  for (std::size_t k = i; k < before.size(); ++k)
    if (rest.count(before[k].id)) out.deleted.push_back(before[k].id);
  return out;
}

// diffRows(before, after, rowOf).count() without serialising anything: whether a rewrite is
// cheaper is known before any row is built.
template <class T>
std::size_t changedRows(const std::vector<T>& before, const std::vector<T>& after) {
  return diffRows(before, after, [](const T& e) { return Row{e.id, {}, {}}; }).count();
}

// A Row for one entity: its Kong JSON and the columns `columnsOf` gives.
template <class T, class ColumnsOf>
Row rowOf(const T& entity, const ColumnsOf& columnsOf) {
  return Row{entity.id, columnsOf(entity), boost::json::serialize(config::toJson(entity))};
}

// Past this many changed rows, when they are also most of the config, rewriting everything in
// one pass (PostgreSQL: COPY) is cheaper than row-by-row statements: POST /config, imports.
inline bool rewriteIsCheaper(std::size_t changed, std::size_t rows) {
  return changed > 1000 && changed * 2 > rows;
}

}  // namespace archway::store
