#include "gui/log_table.h"

#include <QHeaderView>
#include <QLabel>
#include <QScrollBar>
#include <QTableView>
#include <memory>

namespace archway::gui {

QTableView* makeLiveLogTable(QAbstractItemModel* model) {
  auto* table = new QTableView;
  table->setModel(model);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setAlternatingRowColors(true);
  table->setWordWrap(false);
  table->verticalHeader()->hide();
  table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);

  auto* bar = table->verticalScrollBar();
  auto atBottom = std::make_shared<bool>(true);
  QObject::connect(bar, &QScrollBar::valueChanged, table,
                   [bar, atBottom](int v) { *atBottom = v >= bar->maximum(); });
  QObject::connect(model, &QAbstractItemModel::rowsInserted, table, [table, atBottom] {
    if (*atBottom) table->scrollToBottom();
  });
  return table;
}

QLabel* makeNotice(const QString& objectName) {
  auto* notice = new QLabel;
  notice->setObjectName(objectName);
  notice->setWordWrap(true);
  notice->setTextInteractionFlags(Qt::TextSelectableByMouse);
  notice->hide();
  return notice;
}

}  // namespace archway::gui
