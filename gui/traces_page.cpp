#include "gui/traces_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "gui/trace_waterfall.h"
#include "models/engine_bridge.h"
#include "models/remote_node.h"
#include "models/trace_list_model.h"

namespace archway::gui {

namespace {

// Traces read per refresh when the route filter (a substring, applied here) may drop many.
constexpr std::size_t kScanLimit = 1000;

QString text(std::string_view s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

}  // namespace

TracesPage::TracesPage(models::EngineBridge* bridge, QWidget* parent)
    : QWidget(parent), bridge_(bridge), model_(new models::TraceListModel(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(makeFilters());
  layout->addWidget(makeSampling());

  sorted_ = new QSortFilterProxyModel(this);
  sorted_->setSourceModel(model_);
  sorted_->setSortRole(models::TraceListModel::kSortRole);

  table_ = new QTableView;
  table_->setObjectName(QStringLiteral("traceTable"));
  table_->setModel(sorted_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(models::TraceListModel::kTimeColumn, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  QHeaderView* header = table_->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::ResizeToContents);
  header->setSectionResizeMode(models::TraceListModel::kPathColumn, QHeaderView::Stretch);
  table_->setMinimumHeight(120);

  waterfall_ = new TraceWaterfall;
  waterfall_->setObjectName(QStringLiteral("traceWaterfall"));
  auto* scroll = new QScrollArea;
  scroll->setWidget(waterfall_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumHeight(160);

  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(table_);
  splitter->addWidget(scroll);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);
  // The list's size hint would take most of the height; the waterfall is what is read.
  splitter->setSizes({280, 420});
  splitter->setChildrenCollapsible(false);
  layout->addWidget(splitter, 1);

  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          &TracesPage::showCurrent);

  timer_.setInterval(1000);
  connect(&timer_, &QTimer::timeout, this, &TracesPage::refresh);
  connect(bridge_, &models::EngineBridge::stateChanged, this, [this] {
    loadSampling();
    refresh();
  });
  loadSampling();
}

QWidget* TracesPage::makeFilters() {
  auto* box = new QWidget;
  auto* row = new QHBoxLayout(box);
  row->setContentsMargins(0, 0, 0, 0);

  route_ = new QLineEdit;
  route_->setObjectName(QStringLiteral("routeFilter"));
  route_->setPlaceholderText(tr("any route"));
  route_->setClearButtonEnabled(true);
  route_->setToolTip(tr("Show traces whose route name or id contains this text"));
  auto* routeLabel = new QLabel(tr("&Route:"));
  routeLabel->setBuddy(route_);

  status_ = new QComboBox;
  status_->setObjectName(QStringLiteral("statusFilter"));
  status_->addItem(tr("Any"), 0);
  status_->addItem(tr("2xx"), 2);
  status_->addItem(tr("3xx"), 3);
  status_->addItem(tr("4xx"), 4);
  status_->addItem(tr("5xx"), 5);
  auto* statusLabel = new QLabel(tr("&Status:"));
  statusLabel->setBuddy(status_);

  minMs_ = new QDoubleSpinBox;
  minMs_->setObjectName(QStringLiteral("minMsFilter"));
  minMs_->setRange(0, 600000);
  minMs_->setDecimals(1);
  minMs_->setSuffix(tr(" ms"));
  minMs_->setSpecialValueText(tr("any"));
  minMs_->setToolTip(tr("Show only requests that took at least this long"));
  auto* minLabel = new QLabel(tr("&At least:"));
  minLabel->setBuddy(minMs_);

  live_ = new QCheckBox(tr("&Live"));
  live_->setObjectName(QStringLiteral("liveBox"));
  live_->setChecked(true);
  live_->setToolTip(tr("Read new traces every second; turn off to hold the list still"));

  countLabel_ = new QLabel;
  countLabel_->setObjectName(QStringLiteral("traceCount"));
  countLabel_->setForegroundRole(QPalette::PlaceholderText);

  row->addWidget(routeLabel);
  row->addWidget(route_, 1);
  row->addSpacing(8);
  row->addWidget(statusLabel);
  row->addWidget(status_);
  row->addSpacing(8);
  row->addWidget(minLabel);
  row->addWidget(minMs_);
  row->addSpacing(8);
  row->addWidget(live_);
  row->addStretch(1);
  row->addWidget(countLabel_);

  connect(route_, &QLineEdit::textChanged, this, &TracesPage::refresh);
  connect(status_, &QComboBox::currentIndexChanged, this, &TracesPage::refresh);
  connect(minMs_, &QDoubleSpinBox::valueChanged, this, &TracesPage::refresh);
  connect(live_, &QCheckBox::toggled, this, [this](bool on) {
    updateTimer();
    if (on) refresh();
  });
  return box;
}

QWidget* TracesPage::makeSampling() {
  auto* box = new QGroupBox(tr("Sampling"));
  box->setObjectName(QStringLiteral("samplingBox"));
  auto* row = new QHBoxLayout(box);

  tracing_ = new QCheckBox(tr("Record &traces"));
  tracing_->setObjectName(QStringLiteral("tracingBox"));
  tracing_->setToolTip(tr("Off: requests are not traced at all"));

  rate_ = new QDoubleSpinBox;
  rate_->setObjectName(QStringLiteral("sampleRate"));
  rate_->setRange(0, 100);
  rate_->setDecimals(1);
  rate_->setSingleStep(1);
  rate_->setSuffix(tr(" %"));
  rate_->setToolTip(tr("Share of requests kept by trace id (Kong's tracing_sampling_rate)"));
  auto* rateLabel = new QLabel(tr("Keep"));
  auto* rateAfter = new QLabel(tr("of requests, and always those with"));

  keep5xx_ = new QCheckBox(tr("5xx"));
  keep5xx_->setObjectName(QStringLiteral("keepServerErrors"));
  keep4xx_ = new QCheckBox(tr("4xx"));
  keep4xx_->setObjectName(QStringLiteral("keepClientErrors"));

  slowMs_ = new QSpinBox;
  slowMs_->setObjectName(QStringLiteral("slowMs"));
  slowMs_->setRange(0, 600000);
  slowMs_->setSingleStep(100);
  slowMs_->setSuffix(tr(" ms"));
  slowMs_->setSpecialValueText(tr("never"));
  slowMs_->setToolTip(tr("Keep every request that takes at least this long"));
  auto* slowLabel = new QLabel(tr("or slower than"));

  row->addWidget(tracing_);
  row->addSpacing(12);
  row->addWidget(rateLabel);
  row->addWidget(rate_);
  row->addWidget(rateAfter);
  row->addWidget(keep5xx_);
  row->addWidget(keep4xx_);
  row->addWidget(slowLabel);
  row->addWidget(slowMs_);
  row->addStretch(1);

  connect(tracing_, &QCheckBox::toggled, this, &TracesPage::applySampling);
  connect(rate_, &QDoubleSpinBox::valueChanged, this, &TracesPage::applySampling);
  connect(keep5xx_, &QCheckBox::toggled, this, &TracesPage::applySampling);
  connect(keep4xx_, &QCheckBox::toggled, this, &TracesPage::applySampling);
  connect(slowMs_, &QSpinBox::valueChanged, this, &TracesPage::applySampling);
  return box;
}

void TracesPage::setRemote(models::RemoteNode* remote) {
  remote_ = remote;
  connect(remote_, &models::RemoteNode::tracesUpdated, this, [this] {
    if (isVisible() && live_->isChecked()) refresh();
  });
  remote_->setTracesWanted(isVisible());
  auto* box = findChild<QGroupBox*>(QStringLiteral("samplingBox"));
  samplingError_ = new QLabel(box);
  samplingError_->setObjectName(QStringLiteral("samplingError"));
  samplingError_->setStyleSheet(QStringLiteral("color: #c62828"));
  samplingError_->setWordWrap(true);
  samplingError_->hide();
  box->layout()->addWidget(samplingError_);
  connect(remote_, &models::RemoteNode::tracingLoaded, this,
          [this, box](const trace::SamplingPolicy& policy) {
            remotePolicy_ = policy;
            samplingError_->hide();
            showSampling(policy);
            box->setEnabled(true);
          });
  connect(remote_, &models::RemoteNode::stateChanged, this, [this](models::RemoteNode::State st) {
    if (st == models::RemoteNode::State::connected) remote_->loadTracing();
  });
  connect(remote_, &models::RemoteNode::tracingFailed, this, [this](const QString& message) {
    samplingError_->setText(message);
    samplingError_->show();
  });
  loadSampling();
}

void TracesPage::loadSampling() {
  if (remote_) {
    // Enabled once the node answered with its settings.
    findChild<QGroupBox*>(QStringLiteral("samplingBox"))->setEnabled(false);
    remote_->loadTracing();
    return;
  }
  showSampling(bridge_->tracing());
  // Before a start the engine takes its policy from its options, so edits would be lost.
  const bool running = bridge_->state() == models::EngineBridge::State::running;
  findChild<QGroupBox*>(QStringLiteral("samplingBox"))->setEnabled(running);
}

void TracesPage::showSampling(const trace::SamplingPolicy& policy) {
  loadingSampling_ = true;
  tracing_->setChecked(policy.enabled);
  rate_->setValue(policy.rate * 100.0);
  keep5xx_->setChecked(policy.keepServerErrors);
  keep4xx_->setChecked(policy.keepClientErrors);
  slowMs_->setValue(static_cast<int>(std::min<std::uint32_t>(policy.slowMs, 600000)));
  loadingSampling_ = false;
  for (QWidget* w : {static_cast<QWidget*>(rate_), static_cast<QWidget*>(keep5xx_),
                     static_cast<QWidget*>(keep4xx_), static_cast<QWidget*>(slowMs_)}) {
    w->setEnabled(policy.enabled);
  }
}

void TracesPage::applySampling() {
  if (loadingSampling_) return;
  // Keeps the fields the page does not show (respect_parent) as the node last reported them.
  trace::SamplingPolicy policy = remote_ ? remotePolicy_ : bridge_->tracing();
  policy.enabled = tracing_->isChecked();
  policy.rate = std::clamp(rate_->value() / 100.0, 0.0, 1.0);
  policy.keepServerErrors = keep5xx_->isChecked();
  policy.keepClientErrors = keep4xx_->isChecked();
  policy.slowMs = static_cast<std::uint32_t>(slowMs_->value());
  if (remote_)
    remote_->setTracing(policy);
  else
    bridge_->setTracing(policy);
  for (QWidget* w : {static_cast<QWidget*>(rate_), static_cast<QWidget*>(keep5xx_),
                     static_cast<QWidget*>(keep4xx_), static_cast<QWidget*>(slowMs_)}) {
    w->setEnabled(policy.enabled);
  }
}

void TracesPage::refresh() {
  trace::TraceQuery query;
  query.statusClass = status_->currentData().toInt();
  query.minUs = static_cast<std::uint64_t>(std::llround(minMs_->value() * 1000.0));
  const QString routeText = route_->text().trimmed();
  query.limit = routeText.isEmpty() ? kMaxRows : kScanLimit;
  std::vector<trace::FinishedTrace> traces =
      remote_ ? remote_->recentTraces(query) : bridge_->recentTraces(query);
  if (!routeText.isEmpty()) {
    // The store matches a route exactly; the console lets a few letters find it.
    std::erase_if(traces, [&](const trace::FinishedTrace& t) {
      return !text(t.routeName.view()).contains(routeText, Qt::CaseInsensitive) &&
             !text(t.routeId.view()).contains(routeText, Qt::CaseInsensitive);
    });
    if (traces.size() > kMaxRows) traces.resize(kMaxRows);
  }
  model_->setTraces(std::move(traces));
  countLabel_->setText(tr("%n trace(s)", nullptr, model_->rowCount()));

  // Show something at once: the newest trace, until the user picks one.
  if (!table_->selectionModel()->currentIndex().isValid() && sorted_->rowCount() > 0) {
    table_->selectionModel()->setCurrentIndex(
        sorted_->index(0, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  }
  if (model_->rowCount() == 0) waterfall_->clear();
}

void TracesPage::showCurrent() {
  const QModelIndex current = sorted_->mapToSource(table_->selectionModel()->currentIndex());
  if (const trace::FinishedTrace* t = model_->traceAt(current.row())) {
    waterfall_->setTrace(*t);
  }
}

void TracesPage::updateTimer() {
  if (isVisible() && live_->isChecked()) {
    timer_.start();
  } else {
    timer_.stop();
  }
}

void TracesPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (remote_) remote_->setTracesWanted(true);
  updateTimer();
  if (live_->isChecked()) refresh();
}

void TracesPage::hideEvent(QHideEvent* event) {
  QWidget::hideEvent(event);
  if (remote_) remote_->setTracesWanted(false);
  timer_.stop();
}

}  // namespace archway::gui
