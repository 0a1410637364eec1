#include "gui/dashboard_page.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "gui/traffic_chart.h"
#include "metrics/stats_frame.h"
#include "models/route_stats_model.h"
#include "models/traffic_series.h"

namespace archway::gui {

namespace {

// Series colours are the only fixed colours of the console: picked to read on light and dark.
const QColor kRpsColor(0x20, 0x89, 0xd8);
const QColor kP50Color(0x2e, 0xa0, 0x43);
const QColor kP99Color(0xe0, 0x6c, 0x1f);

QString formatMs(double ms) {
  return ms < 10 ? QString::number(ms, 'f', 2) : QString::number(ms, 'f', 1);
}

}  // namespace

DashboardPage::DashboardPage(const models::TrafficSeries* traffic, models::RouteStatsModel* routes,
                             models::RouteStatsModel* consumers, models::RouteStatsModel* targets,
                             QWidget* parent)
    : QWidget(parent), traffic_(traffic) {
  auto* layout = new QVBoxLayout(this);

  errorBanner_ = new QFrame;
  static_cast<QFrame*>(errorBanner_)->setFrameShape(QFrame::StyledPanel);
  errorBanner_->setObjectName(QStringLiteral("errorBanner"));
  auto* bannerLayout = new QHBoxLayout(errorBanner_);
  auto* icon = new QLabel;
  const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize);
  icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(iconSize, iconSize));
  errorText_ = new QLabel;
  errorText_->setObjectName(QStringLiteral("errorLabel"));
  errorText_->setWordWrap(true);
  errorText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  bannerLayout->addWidget(icon, 0, Qt::AlignTop);
  bannerLayout->addWidget(errorText_, 1);
  errorBanner_->hide();
  layout->addWidget(errorBanner_);

  auto* figures = new QHBoxLayout;
  figures->addWidget(makeFigure(tr("Requests per second"), &rpsValue_));
  figures->addWidget(makeFigure(tr("Latency p50"), &p50Value_));
  figures->addWidget(makeFigure(tr("Latency p99"), &p99Value_));
  figures->addWidget(makeFigure(tr("Errors since start (4xx / 5xx)"), &errorsValue_));
  figures->addWidget(makeFigure(tr("Open connections"), &connectionsValue_));
  layout->addLayout(figures);

  rpsChart_ = new TrafficChart(tr("Requests per second"), tr("req/s"), 10);
  rpsChart_->addSeries(tr("Requests/s"), kRpsColor);
  latencyChart_ = new TrafficChart(tr("Latency (ms)"), tr("ms"), 1);
  latencyChart_->addSeries(tr("p50"), kP50Color);
  latencyChart_->addSeries(tr("p99"), kP99Color);

  auto* charts = new QWidget;
  auto* chartsLayout = new QHBoxLayout(charts);
  chartsLayout->setContentsMargins(0, 0, 0, 0);
  chartsLayout->addWidget(rpsChart_);
  chartsLayout->addWidget(latencyChart_);

  table_ = makeTable(routes, QStringLiteral("routeTable"));
  consumerTable_ = makeTable(consumers, QStringLiteral("consumerTable"));
  targetTable_ = makeTable(targets, QStringLiteral("targetTable"));
  // Busy consumers first: the frame carries the top consumers by requests.
  consumerTable_->sortByColumn(models::RouteStatsModel::kRequestsColumn, Qt::DescendingOrder);
  tableTabs_ = new QTabWidget;
  tableTabs_->setObjectName(QStringLiteral("statsTables"));
  tableTabs_->setDocumentMode(true);
  tableTabs_->addTab(table_, tr("Routes"));
  tableTabs_->addTab(consumerTable_, tr("Consumers"));
  tableTabs_->addTab(targetTable_, tr("Upstream targets"));
  tableTabs_->setMinimumHeight(150);

  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(charts);
  splitter->addWidget(tableTabs_);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  splitter->setChildrenCollapsible(false);
  layout->addWidget(splitter, 1);

  refresh(metrics::StatsFrame{});
}

QTableView* DashboardPage::makeTable(models::RouteStatsModel* model, const QString& objectName) {
  auto* sorted = new QSortFilterProxyModel(this);
  sorted->setSourceModel(model);
  sorted->setSortRole(models::RouteStatsModel::kSortRole);
  auto* table = new QTableView;
  table->setObjectName(objectName);
  table->setModel(sorted);
  table->setSortingEnabled(true);
  table->sortByColumn(models::RouteStatsModel::kRouteColumn, Qt::AscendingOrder);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setAlternatingRowColors(true);
  table->verticalHeader()->hide();
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table->setMinimumHeight(120);
  return table;
}

QWidget* DashboardPage::makeFigure(const QString& caption, QLabel** value) {
  auto* box = new QFrame;
  box->setFrameShape(QFrame::StyledPanel);
  auto* boxLayout = new QVBoxLayout(box);
  boxLayout->setSpacing(2);
  auto* captionLabel = new QLabel(caption);
  captionLabel->setForegroundRole(QPalette::PlaceholderText);
  *value = new QLabel;
  QFont big = (*value)->font();
  big.setPointSizeF(big.pointSizeF() * 1.6);
  big.setBold(true);
  (*value)->setFont(big);
  boxLayout->addWidget(captionLabel);
  boxLayout->addWidget(*value);
  return box;
}

void DashboardPage::refresh(const metrics::StatsFrame& frame) {
  const double span = rpsChart_->windowSeconds();
  rpsChart_->setPoints(0, traffic_->rpsPoints(span));
  rpsChart_->fitY(traffic_->maxRps(span));
  latencyChart_->setPoints(0, traffic_->p50Points(span));
  latencyChart_->setPoints(1, traffic_->p99Points(span));
  latencyChart_->fitY(traffic_->maxLatencyMs(span));

  const auto& t = frame.total;
  const bool hasLatency = t.latency1s.count > 0;
  rpsValue_->setText(QString::number(t.rps, 'f', 1));
  p50Value_->setText(hasLatency ? tr("%1 ms").arg(formatMs(t.latency1s.p50)) : QStringLiteral("–"));
  p99Value_->setText(hasLatency ? tr("%1 ms").arg(formatMs(t.latency1s.p99)) : QStringLiteral("–"));
  errorsValue_->setText(tr("%1 / %2").arg(t.status4xx).arg(t.status5xx));
  connectionsValue_->setText(QString::number(frame.activeConnections));
}

void DashboardPage::showError(const QString& message) {
  errorText_->setText(message);
  errorBanner_->setVisible(!message.isEmpty());
}

}  // namespace archway::gui
