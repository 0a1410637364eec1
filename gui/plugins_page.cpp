#include "gui/plugins_page.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QSortFilterProxyModel>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include "models/plugin_stats_model.h"

namespace archway::gui {

namespace {

const QColor kBarColor(0x9b, 0x59, 0xd0);  // the waterfall's plugin colour

// Draws a faint bar behind a time cell, its length the cell's value against the column's largest,
// so the slow plugins stand out before the numbers are read.
class TimeBarDelegate : public QStyledItemDelegate {
 public:
  TimeBarDelegate(const models::PluginStatsModel* model, QObject* parent)
      : QStyledItemDelegate(parent), model_(model) {}

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override {
    const double value = index.data(models::PluginStatsModel::kSortRole).toDouble();
    const double max = model_->columnMax(index.column());
    if (value > 0 && max > 0) {
      QColor fill = kBarColor;
      fill.setAlpha(70);
      const double share = std::min(1.0, value / max);
      const QRectF r = QRectF(option.rect).adjusted(2, 3, -2, -3);
      painter->fillRect(QRectF(r.left(), r.top(), r.width() * share, r.height()), fill);
    }
    QStyledItemDelegate::paint(painter, option, index);
  }

 private:
  const models::PluginStatsModel* model_;
};

}  // namespace

PluginsPage::PluginsPage(models::PluginStatsModel* plugins, QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);

  auto* caption = new QLabel(
      tr("Time each plugin adds to a request, per route: all its phases together, over the "
         "last 10 seconds."));
  caption->setWordWrap(true);
  caption->setForegroundRole(QPalette::PlaceholderText);

  filter_ = new QLineEdit;
  filter_->setObjectName(QStringLiteral("pluginFilter"));
  filter_->setPlaceholderText(tr("Filter by route or plugin"));
  filter_->setClearButtonEnabled(true);
  filter_->setMinimumWidth(filter_->fontMetrics().horizontalAdvance(filter_->placeholderText()) +
                           48);

  auto* top = new QHBoxLayout;
  top->addWidget(caption, 1);
  top->addWidget(filter_);
  layout->addLayout(top);

  sorted_ = new QSortFilterProxyModel(this);
  sorted_->setSourceModel(plugins);
  sorted_->setSortRole(models::PluginStatsModel::kSortRole);
  sorted_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  sorted_->setFilterKeyColumn(-1);  // route or plugin (numbers never match a name anyway)
  connect(filter_, &QLineEdit::textChanged, sorted_, &QSortFilterProxyModel::setFilterFixedString);

  table_ = new QTableView;
  table_->setObjectName(QStringLiteral("pluginTable"));
  table_->setModel(sorted_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(models::PluginStatsModel::kP99Column, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  QHeaderView* header = table_->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::Stretch);
  // Names get the room they need; the time columns share the rest (their bars need width).
  header->setSectionResizeMode(models::PluginStatsModel::kRequestsColumn,
                               QHeaderView::ResizeToContents);
  auto* bars = new TimeBarDelegate(plugins, this);
  for (int c : {models::PluginStatsModel::kMeanColumn, models::PluginStatsModel::kP99Column,
                models::PluginStatsModel::kMaxColumn}) {
    table_->setItemDelegateForColumn(c, bars);
  }
  // The bars are scaled to each column's largest value, which changes with every frame.
  connect(plugins, &QAbstractItemModel::dataChanged, table_->viewport(),
          qOverload<>(&QWidget::update));
  layout->addWidget(table_, 1);
}

}  // namespace archway::gui
