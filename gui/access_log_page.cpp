#include "gui/access_log_page.h"

#include <QHBoxLayout>
#include <QKeySequence>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStyle>
#include <QTableView>
#include <QVBoxLayout>

#include "gui/log_table.h"
#include "models/access_log_model.h"

namespace archway::gui {

AccessLogPage::AccessLogPage(models::AccessLogModel* log, QWidget* parent)
    : QWidget(parent), log_(log) {
  auto* layout = new QVBoxLayout(this);

  auto* caption = new QLabel(tr("Requests as the gateway logs them, newest at the bottom (the "
                                "last %1).")
                                 .arg(log->capacity()));
  caption->setWordWrap(true);
  caption->setForegroundRole(QPalette::PlaceholderText);

  filter_ = new QLineEdit;
  filter_->setObjectName(QStringLiteral("accessLogFilter"));
  filter_->setPlaceholderText(tr("Filter by path, route, consumer, status…"));
  filter_->setClearButtonEnabled(true);
  filter_->setMinimumWidth(filter_->fontMetrics().horizontalAdvance(filter_->placeholderText()) +
                           48);

  pause_ = new QPushButton;
  pause_->setObjectName(QStringLiteral("accessLogPause"));
  pause_->setCheckable(true);
  pause_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
  clear_ = new QPushButton(style()->standardIcon(QStyle::SP_DialogResetButton), tr("Clear"));
  clear_->setObjectName(QStringLiteral("accessLogClear"));
  status_ = new QLabel;
  status_->setObjectName(QStringLiteral("accessLogStatus"));

  auto* top = new QHBoxLayout;
  top->addWidget(caption, 1);
  top->addWidget(status_);
  top->addWidget(filter_);
  top->addWidget(pause_);
  top->addWidget(clear_);
  layout->addLayout(top);
  notice_ = makeNotice(QStringLiteral("accessLogNotice"));
  layout->addWidget(notice_);

  filtered_ = new QSortFilterProxyModel(this);
  filtered_->setSourceModel(log);
  filtered_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  filtered_->setFilterRole(models::AccessLogModel::kFilterRole);  // the same in every column
  filtered_->setFilterKeyColumn(models::AccessLogModel::kPathColumn);
  connect(filter_, &QLineEdit::textChanged, filtered_,
          &QSortFilterProxyModel::setFilterFixedString);

  table_ = makeLiveLogTable(filtered_);
  table_->setObjectName(QStringLiteral("accessLogTable"));
  table_->horizontalHeader()->setSectionResizeMode(models::AccessLogModel::kPathColumn,
                                                   QHeaderView::Stretch);
  const auto width = [this](const QString& sample) {
    return table_->fontMetrics().horizontalAdvance(sample) + 24;
  };
  table_->setColumnWidth(models::AccessLogModel::kTimeColumn, width(QStringLiteral("00:00:00.000")));
  table_->setColumnWidth(models::AccessLogModel::kMethodColumn, width(QStringLiteral("OPTIONS")));
  table_->setColumnWidth(models::AccessLogModel::kStatusColumn, width(tr("Status")));
  table_->setColumnWidth(models::AccessLogModel::kLatencyColumn, width(tr("Latency (ms)")));
  table_->setColumnWidth(models::AccessLogModel::kRouteColumn, width(QStringLiteral("a-route-name")));
  table_->setColumnWidth(models::AccessLogModel::kConsumerColumn,
                         width(QStringLiteral("a-consumer")));
  layout->addWidget(table_, 1);

  connect(pause_, &QPushButton::toggled, this, [this](bool on) {
    log_->setPaused(on);
    updatePaused();
  });
  connect(log_, &models::AccessLogModel::pendingChanged, this, &AccessLogPage::updatePaused);
  connect(clear_, &QPushButton::clicked, log_, &models::AccessLogModel::clear);
  updatePaused();
}

void AccessLogPage::setNotice(const QString& text) {
  notice_->setText(text);
  notice_->setVisible(!text.isEmpty());
}

void AccessLogPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  emit shownChanged(true);
}

void AccessLogPage::hideEvent(QHideEvent* event) {
  QWidget::hideEvent(event);
  emit shownChanged(false);
}

void AccessLogPage::updatePaused() {
  const bool paused = log_->paused();
  pause_->setText(paused ? tr("Resume") : tr("Pause"));
  pause_->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
  pause_->setToolTip(paused ? tr("Show the lines that arrived while paused, and new ones (Ctrl+P)")
                            : tr("Stop adding new lines to the view (Ctrl+P)"));
  status_->setText(paused ? tr("Paused, %n new line(s) waiting", nullptr, log_->pendingCount())
                          : QString());
  status_->setVisible(paused);
}

}  // namespace archway::gui
