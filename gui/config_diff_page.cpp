#include "gui/config_diff_page.h"

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QStyledItemDelegate>
#include <QTreeView>
#include <QVBoxLayout>
#include <algorithm>
#include <utility>

#include "models/config_diff_model.h"
#include "models/config_diff_runner.h"

namespace archway::gui {

namespace {

// The colours of a diff on the kind and name columns: green created, amber updated, red deleted
// (readable on light and dark palettes).
class ChangeKindDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
    QStyledItemDelegate::initStyleOption(option, index);
    if (index.column() > models::ConfigDiffModel::kNameColumn) return;
    static const QColor colours[] = {QColor(0x2e, 0x9e, 0x4f), QColor(0xc0, 0x7a, 0x00),
                                     QColor(0xd0, 0x3a, 0x3a)};
    const int kind = index.data(models::ConfigDiffModel::kKindRole).toInt();
    if (kind >= 0 && kind < 3) option->palette.setColor(QPalette::Text, colours[kind]);
  }
};

}  // namespace

ConfigDiffPage::ConfigDiffPage(models::ConfigDiffModel* model, models::ConfigDiffRunner* runner,
                               QWidget* parent)
    : QWidget(parent), model_(model), runner_(runner) {
  auto* layout = new QVBoxLayout(this);

  node_ = new QLabel;
  node_->setObjectName(QStringLiteral("configNode"));
  node_->setWordWrap(true);
  node_->setForegroundRole(QPalette::PlaceholderText);
  layout->addWidget(node_);

  open_ = new QPushButton(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open file…"));
  open_->setObjectName(QStringLiteral("configOpen"));
  open_->setShortcut(QKeySequence::Open);
  open_->setToolTip(tr("Open a kong.yml or JSON configuration (Ctrl+O)"));
  load_ = new QPushButton(style()->standardIcon(QStyle::SP_BrowserReload), tr("Load from node"));
  load_->setObjectName(QStringLiteral("configLoad"));
  load_->setToolTip(tr("Put the configuration the node serves now into the editor"));
  diff_ =
      new QPushButton(style()->standardIcon(QStyle::SP_FileDialogContentsView), tr("Show diff"));
  diff_->setObjectName(QStringLiteral("configDiff"));
  diff_->setShortcut(QKeySequence(Qt::Key_F5));
  diff_->setToolTip(tr("Compare the text with the node's live configuration (F5)"));
  apply_ = new QPushButton(style()->standardIcon(QStyle::SP_DialogApplyButton), tr("Apply"));
  apply_->setObjectName(QStringLiteral("configApply"));
  apply_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  apply_->setToolTip(tr("Send these changes to the node's Admin API (Ctrl+Enter)"));
  file_ = new QLabel;
  file_->setObjectName(QStringLiteral("configFile"));
  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {open_, load_, diff_}) buttons->addWidget(b);
  buttons->addWidget(file_, 1);
  buttons->addWidget(apply_);
  layout->addLayout(buttons);

  editor_ = new QPlainTextEdit;
  editor_->setObjectName(QStringLiteral("configEditor"));
  editor_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  editor_->setLineWrapMode(QPlainTextEdit::NoWrap);
  editor_->setPlaceholderText(
      tr("Open a kong.yml, load the node's configuration, or type one here, then Show diff."));

  summary_ = new QLabel;
  summary_->setObjectName(QStringLiteral("configSummary"));
  summary_->setWordWrap(true);
  tree_ = new QTreeView;
  tree_->setObjectName(QStringLiteral("configDiffTree"));
  tree_->setModel(model_);
  tree_->setItemDelegate(new ChangeKindDelegate(tree_));
  tree_->setAlternatingRowColors(true);
  tree_->setUniformRowHeights(true);
  tree_->header()->setStretchLastSection(true);
  errors_ = new QListWidget;
  errors_->setObjectName(QStringLiteral("configErrors"));
  errors_->hide();
  message_ = new QLabel;
  message_->setObjectName(QStringLiteral("configMessage"));
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_->hide();

  auto* right = new QWidget;
  auto* rightLayout = new QVBoxLayout(right);
  rightLayout->setContentsMargins(0, 0, 0, 0);
  rightLayout->addWidget(summary_);
  rightLayout->addWidget(message_);
  rightLayout->addWidget(errors_, 1);
  rightLayout->addWidget(tree_, 3);
  auto* split = new QSplitter;
  split->addWidget(editor_);
  split->addWidget(right);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  split->setSizes({420, 780});
  layout->addWidget(split, 1);

  progress_ = new QProgressBar;
  progress_->setObjectName(QStringLiteral("configProgress"));
  progress_->setFormat(tr("%v of %m calls"));
  cancel_ = new QPushButton(style()->standardIcon(QStyle::SP_DialogCancelButton), tr("Cancel"));
  cancel_->setObjectName(QStringLiteral("configCancel"));
  cancel_->setShortcut(QKeySequence(Qt::Key_Escape));
  cancel_->setToolTip(tr("Stop before the next Admin API call (Esc)"));
  auto* bottom = new QHBoxLayout;
  bottom->addWidget(progress_, 1);
  bottom->addWidget(cancel_);
  layout->addLayout(bottom);
  progress_->hide();
  cancel_->hide();

  connect(open_, &QPushButton::clicked, this, &ConfigDiffPage::chooseFile);
  connect(load_, &QPushButton::clicked, this, [this] { runner_->loadLive(); });
  connect(diff_, &QPushButton::clicked, this, &ConfigDiffPage::runDiff);
  connect(apply_, &QPushButton::clicked, this, &ConfigDiffPage::runApply);
  connect(cancel_, &QPushButton::clicked, this, [this] {
    runner_->cancel();
    cancel_->setEnabled(false);
  });
  connect(editor_, &QPlainTextEdit::textChanged, this, [this] {
    diffCurrent_ = false;
    updateButtons();
  });
  connect(runner_, &models::ConfigDiffRunner::busyChanged, this, &ConfigDiffPage::updateButtons);
  connect(runner_, &models::ConfigDiffRunner::diffReady, this, &ConfigDiffPage::onDiffReady);
  connect(runner_, &models::ConfigDiffRunner::invalid, this, &ConfigDiffPage::onInvalid);
  connect(runner_, &models::ConfigDiffRunner::failed, this, &ConfigDiffPage::onFailed);
  connect(runner_, &models::ConfigDiffRunner::progress, this, &ConfigDiffPage::onProgress);
  connect(runner_, &models::ConfigDiffRunner::applied, this, &ConfigDiffPage::onApplied);
  connect(runner_, &models::ConfigDiffRunner::liveConfigLoaded, this, [this](const QString& t) {
    editor_->setPlainText(t);
    file_->setText(tr("The node's configuration"));
    runDiff();
  });
  summary_->setText(tr("No diff yet."));
  updateButtons();
}

void ConfigDiffPage::setNodeDescription(const QString& text) {
  node_->setText(text);
}

void ConfigDiffPage::chooseFile() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open configuration"), QString(),
      tr("Declarative configuration (*.yml *.yaml *.json);;All files (*)"));
  if (!path.isEmpty()) openFile(path);
}

bool ConfigDiffPage::openFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    showMessage(tr("Cannot read %1: %2").arg(path, f.errorString()), true);
    return false;
  }
  editor_->setPlainText(QString::fromUtf8(f.readAll()));
  file_->setText(QFileInfo(path).fileName());
  file_->setToolTip(path);
  runDiff();
  return true;
}

void ConfigDiffPage::runDiff() {
  applyResult_.clear();
  if (runner_->diff(editor_->toPlainText())) {
    summary_->setText(tr("Comparing with the node…"));
    message_->hide();
  }
}

void ConfigDiffPage::runApply() {
  if (!diffCurrent_ || model_->diff().empty()) return;
  const int total = model_->callCount();
  if (!runner_->apply()) return;
  applying_ = true;
  progress_->setRange(0, total);
  progress_->setValue(0);
  progress_->show();
  cancel_->setEnabled(true);
  cancel_->show();
  message_->hide();
  updateButtons();
}

void ConfigDiffPage::onDiffReady() {
  // Edited while the diff ran: shown, but not applicable until diffed again.
  diffCurrent_ = editor_->toPlainText() == runner_->lastText();
  errors_->clear();
  errors_->hide();
  tree_->show();
  tree_->expandAll();
  // Whole kinds, names and field paths (they are short); values keep the rest of the width.
  // Capped, so a long credential id cannot push the values out of sight.
  const int width = tree_->viewport()->width();
  for (auto [c, share] : {std::pair{models::ConfigDiffModel::kEntityColumn, 5},
                          std::pair{models::ConfigDiffModel::kNameColumn, 3},
                          std::pair{models::ConfigDiffModel::kFieldColumn, 5}}) {
    tree_->resizeColumnToContents(c);
    if (width > 0) tree_->setColumnWidth(c, std::min(tree_->columnWidth(c), width / share));
  }
  using Kind = config::ChangeKind;
  if (model_->diff().empty()) {
    summary_->setText(tr("No differences: the node already serves this configuration."));
  } else {
    summary_->setText(tr("%1 to create, %2 to update, %3 to delete — %4 Admin API calls.")
                          .arg(model_->count(Kind::create))
                          .arg(model_->count(Kind::update))
                          .arg(model_->count(Kind::remove))
                          .arg(model_->callCount()));
  }
  if (!applyResult_.isEmpty()) showMessage(applyResult_, false);
  updateButtons();
}

void ConfigDiffPage::onInvalid(const QStringList& errors) {
  diffCurrent_ = false;
  summary_->setText(tr("The configuration is not valid (%1 errors):").arg(errors.size()));
  errors_->clear();
  errors_->addItems(errors);
  errors_->show();
  tree_->hide();
  updateButtons();
}

void ConfigDiffPage::onFailed(const QString& message) {
  diffCurrent_ = false;
  summary_->setText(tr("No diff."));
  showMessage(message, true);
  updateButtons();
}

void ConfigDiffPage::onProgress(int done, int total) {
  progress_->setRange(0, total);
  progress_->setValue(done);
}

void ConfigDiffPage::onApplied(int done, int total, const QString& error, bool cancelled) {
  applying_ = false;
  progress_->hide();
  cancel_->hide();
  if (!error.isEmpty()) {
    applyResult_ = tr("Stopped after %1 of %2 calls: %3").arg(done).arg(total).arg(error);
  } else if (cancelled) {
    applyResult_ = tr("Cancelled after %1 of %2 calls.").arg(done).arg(total);
  } else {
    applyResult_ = tr("Applied: %1 of %2 calls.").arg(done).arg(total);
  }
  showMessage(applyResult_, !error.isEmpty());
  updateButtons();
}

void ConfigDiffPage::updateButtons() {
  const bool busy = runner_->busy();
  for (QPushButton* b : {open_, load_, diff_}) b->setEnabled(!busy);
  editor_->setReadOnly(busy && applying_);
  apply_->setEnabled(!busy && diffCurrent_ && !model_->diff().empty());
  apply_->setText(apply_->isEnabled() ? tr("Apply %1 changes").arg(model_->diff().changes.size())
                                      : tr("Apply"));
}

void ConfigDiffPage::showMessage(const QString& text, bool error) {
  message_->setText(text);
  QPalette p = palette();
  if (error) p.setColor(QPalette::WindowText, QColor(0xd0, 0x3a, 0x3a));
  message_->setPalette(p);
  message_->show();
}

}  // namespace archway::gui
