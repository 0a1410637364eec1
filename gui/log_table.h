#pragma once
// What the live log pages (Access log, Error log) share: the look of their table and following
// the newest rows.
class QAbstractItemModel;
class QLabel;
class QString;
class QTableView;

namespace archway::gui {

// A table for a live log over `model`: whole-row selection, alternating colours, one line per
// row, no row numbers. While the view is scrolled to the bottom it follows new rows; scrolled
// up, it stays where the user put it.
QTableView* makeLiveLogTable(QAbstractItemModel* model);

// A word-wrapped notice line above a live log's table (a remote node's remark about its lines),
// hidden until given a text.
QLabel* makeNotice(const QString& objectName);

}  // namespace archway::gui
