#include "gui/error_log_page.h"

#include <QBrush>
#include <QColor>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "gui/log_table.h"
#include "models/engine_bridge.h"
#include "models/error_log_model.h"

namespace archway::gui {

namespace {

using Level = core::log::Level;

constexpr Level kLevels[] = {Level::debug, Level::info, Level::warn, Level::error, Level::off};

// The filter, with errors and warnings coloured in the level column (colours readable on the
// light and the dark palette alike; the model stays free of QtGui).
class ColouredFilter : public models::ErrorLogFilter {
 public:
  using ErrorLogFilter::ErrorLogFilter;
  QVariant data(const QModelIndex& index, int role) const override {
    if (role == Qt::ForegroundRole && index.column() == models::ErrorLogModel::kLevelColumn) {
      const int level = index.data(models::ErrorLogModel::kLevelRole).toInt();
      if (level == static_cast<int>(Level::error)) return QBrush(QColor(0xe0, 0x40, 0x40));
      if (level == static_cast<int>(Level::warn)) return QBrush(QColor(0xd0, 0x8a, 0x10));
    }
    return ErrorLogFilter::data(index, role);
  }
};

}  // namespace

ErrorLogPage::ErrorLogPage(models::ErrorLogModel* log, models::EngineBridge* bridge,
                           QWidget* parent)
    : QWidget(parent), log_(log), bridge_(bridge) {
  auto* layout = new QVBoxLayout(this);

  auto* caption = new QLabel(tr("What the gateway logs (errors, warnings, lifecycle), newest at "
                                "the bottom (the last %1).")
                                 .arg(log->capacity()));
  caption->setWordWrap(true);
  caption->setForegroundRole(QPalette::PlaceholderText);

  engineLevel_ = new QComboBox;
  engineLevel_->setObjectName(QStringLiteral("errorLogEngineLevel"));
  for (Level l : kLevels)
    engineLevel_->addItem(models::ErrorLogModel::levelText(l), static_cast<int>(l));
  engineLevel_->setToolTip(
      tr("What the gateway logs at all, from now on (the whole process; "
         "the Admin API's /debug/node/log-level sets the same)"));
  engineLabel_ = new QLabel(tr("&Log level:"));
  engineLabel_->setBuddy(engineLevel_);

  shownLevel_ = new QComboBox;
  shownLevel_->setObjectName(QStringLiteral("errorLogShownLevel"));
  shownLevel_->addItem(tr("All levels"), static_cast<int>(Level::debug));
  shownLevel_->addItem(tr("Info and above"), static_cast<int>(Level::info));
  shownLevel_->addItem(tr("Warnings and errors"), static_cast<int>(Level::warn));
  shownLevel_->addItem(tr("Errors only"), static_cast<int>(Level::error));
  shownLevel_->setToolTip(tr("Which of the records received the table shows"));
  auto* shownLabel = new QLabel(tr("&Show:"));
  shownLabel->setBuddy(shownLevel_);

  filter_ = new QLineEdit;
  filter_->setObjectName(QStringLiteral("errorLogFilter"));
  filter_->setPlaceholderText(tr("Filter by message, service, host…"));
  filter_->setClearButtonEnabled(true);
  filter_->setMinimumWidth(filter_->fontMetrics().horizontalAdvance(filter_->placeholderText()) +
                           48);

  pause_ = new QPushButton;
  pause_->setObjectName(QStringLiteral("errorLogPause"));
  pause_->setCheckable(true);
  pause_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));  // only the shown page's fires
  clear_ = new QPushButton(style()->standardIcon(QStyle::SP_DialogResetButton), tr("Clear"));
  clear_->setObjectName(QStringLiteral("errorLogClear"));
  status_ = new QLabel;
  status_->setObjectName(QStringLiteral("errorLogStatus"));

  auto* controls = new QHBoxLayout;
  controls->addWidget(engineLabel_);
  controls->addWidget(engineLevel_);
  controls->addSpacing(12);
  controls->addWidget(shownLabel);
  controls->addWidget(shownLevel_);
  controls->addStretch(1);
  controls->addWidget(status_);
  controls->addWidget(filter_);
  controls->addWidget(pause_);
  controls->addWidget(clear_);
  layout->addWidget(caption);
  layout->addLayout(controls);
  notice_ = makeNotice(QStringLiteral("errorLogNotice"));
  layout->addWidget(notice_);

  filtered_ = new ColouredFilter(this);
  filtered_->setSourceModel(log);
  connect(filter_, &QLineEdit::textChanged, filtered_, &models::ErrorLogFilter::setText);
  connect(shownLevel_, &QComboBox::currentIndexChanged, this, [this] {
    filtered_->setMinimumLevel(static_cast<Level>(shownLevel_->currentData().toInt()));
  });

  table_ = makeLiveLogTable(filtered_);
  table_->setObjectName(QStringLiteral("errorLogTable"));
  table_->horizontalHeader()->setSectionResizeMode(models::ErrorLogModel::kMessageColumn,
                                                   QHeaderView::Stretch);
  const int padding = 24;
  table_->setColumnWidth(
      models::ErrorLogModel::kTimeColumn,
      table_->fontMetrics().horizontalAdvance(QStringLiteral("00:00:00.000")) + padding);
  table_->setColumnWidth(models::ErrorLogModel::kLevelColumn,
                         table_->fontMetrics().horizontalAdvance(tr("Level")) + 2 * padding);
  table_->setColumnWidth(models::ErrorLogModel::kFieldsColumn,
                         table_->fontMetrics().averageCharWidth() * 48);
  layout->addWidget(table_, 1);

  connect(engineLevel_, &QComboBox::activated, this, [this](int index) {
    bridge_->engine().setLogLevel(static_cast<Level>(engineLevel_->itemData(index).toInt()));
  });
  // The Admin API may change the level too: keep the choice in step while the page is shown.
  levelTimer_ = new QTimer(this);
  levelTimer_->setInterval(1000);
  connect(levelTimer_, &QTimer::timeout, this, [this] {
    if (isVisible()) refreshEngineLevel();
  });
  levelTimer_->start();

  connect(pause_, &QPushButton::toggled, this, [this](bool on) {
    log_->setPaused(on);
    updatePaused();
  });
  connect(log_, &models::ErrorLogModel::pendingChanged, this, &ErrorLogPage::updatePaused);
  connect(clear_, &QPushButton::clicked, log_, &models::ErrorLogModel::clear);
  refreshEngineLevel();
  updatePaused();
}

void ErrorLogPage::refreshEngineLevel() {
  const int index = engineLevel_->findData(static_cast<int>(bridge_->engine().logLevel()));
  if (index == engineLevel_->currentIndex()) return;
  const QSignalBlocker blocker(engineLevel_);
  engineLevel_->setCurrentIndex(index);
}

void ErrorLogPage::showEvent(QShowEvent* event) {
  refreshEngineLevel();
  QWidget::showEvent(event);
  emit shownChanged(true);
}

void ErrorLogPage::hideEvent(QHideEvent* event) {
  QWidget::hideEvent(event);
  emit shownChanged(false);
}

void ErrorLogPage::setNotice(const QString& text) {
  notice_->setText(text);
  notice_->setVisible(!text.isEmpty());
}

void ErrorLogPage::hideEngineLevel() {
  engineLabel_->hide();
  engineLevel_->hide();
  levelTimer_->stop();
}

void ErrorLogPage::updatePaused() {
  const bool paused = log_->paused();
  pause_->setText(paused ? tr("Resume") : tr("Pause"));
  pause_->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
  pause_->setToolTip(paused ? tr("Show the records that arrived while paused, and new ones "
                                 "(Ctrl+P)")
                            : tr("Stop adding new records to the view (Ctrl+P)"));
  status_->setText(paused ? tr("Paused, %n new record(s) waiting", nullptr, log_->pendingCount())
                          : QString());
  status_->setVisible(paused);
}

}  // namespace archway::gui
