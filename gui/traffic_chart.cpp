#include "gui/traffic_chart.h"

#include <QChart>
#include <QEvent>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>
#include <cmath>
#include <initializer_list>

namespace archway::gui {

namespace {

// The smallest m x 10^k >= v with m from `steps` (ascending, within [1, 10]).
double roundUpTo(double v, std::initializer_list<double> steps) {
  if (v <= 0) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  for (double step : steps) {
    if (step * magnitude >= v * (1 - 1e-9)) return step * magnitude;
  }
  return 10 * magnitude;
}

}  // namespace

TrafficChart::TrafficChart(const QString& title, const QString& yTitle, double minYMax,
                           QWidget* parent)
    : QChartView(parent), x_(new QValueAxis), y_(new QValueAxis), minYMax_(minYMax) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->setAlignment(Qt::AlignTop);
  chart->setMargins(QMargins(4, 4, 4, 4));
  // Animations would replay on every frame's replace(); a live chart must not animate.
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  x_->setLabelFormat("%d s");
  x_->setTickCount(7);
  y_->setTitleText(yTitle);
  y_->setLabelFormat("%g");
  // Ticks every round interval from 0, whatever the maximum (see fitY()).
  y_->setTickType(QValueAxis::TicksDynamic);
  y_->setTickAnchor(0);
  setChart(chart);  // the view owns the chart
  setRenderHint(QPainter::Antialiasing);
  setMinimumSize(320, 220);
  setWindowSeconds(window_);
  fitY(0);
  applyPalette();
}

int TrafficChart::addSeries(const QString& name, const QColor& color) {
  auto* s = new QLineSeries;
  s->setName(name);
  chart()->addSeries(s);
  s->attachAxis(x_);
  s->attachAxis(y_);
  series_.emplace_back(s, color);
  applyPalette();
  return static_cast<int>(series_.size()) - 1;
}

QLineSeries* TrafficChart::series(int index) const {
  return series_.at(static_cast<std::size_t>(index)).first;
}

void TrafficChart::setWindowSeconds(double seconds) {
  window_ = seconds;
  x_->setRange(-seconds, 0);
}

void TrafficChart::setPoints(int index, const QList<QPointF>& points) {
  series(index)->replace(points);
}

void TrafficChart::fitY(double maxValue) {
  // Maxima of 1, 1.5, 2, ... 8 x 10^k use the plot height better than 1-2-5 alone; the tick
  // interval (1-2-2.5-5 x 10^k, 3 to 6 intervals) keeps the labels round.
  const double wanted =
      std::max(minYMax_, roundUpTo(maxValue * 1.1, {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}));
  if (wanted == yMax_) return;
  yMax_ = wanted;
  y_->setTickInterval(roundUpTo(wanted / 6, {1, 2, 2.5, 5, 10}));
  y_->setRange(0, wanted);
}

void TrafficChart::changeEvent(QEvent* event) {
  QChartView::changeEvent(event);
  if (event->type() == QEvent::PaletteChange && !applyingPalette_) applyPalette();
}

void TrafficChart::applyPalette() {
  applyingPalette_ = true;
  const QPalette pal = palette();
  const bool dark = pal.color(QPalette::Window).lightness() < 128;
  QChart* c = chart();
  // The theme sets sensible fonts and pens for a light or dark palette; the colours that must
  // match the surrounding widgets are then taken from the palette itself.
  c->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
  c->setBackgroundBrush(pal.color(QPalette::Base));
  c->setBackgroundRoundness(0);
  c->setTitleBrush(pal.color(QPalette::Text));
  QFont titleFont = font();
  titleFont.setBold(true);
  c->setTitleFont(titleFont);
  c->legend()->setLabelColor(pal.color(QPalette::Text));
  const QColor grid = pal.color(QPalette::Mid);
  for (QValueAxis* axis : {x_, y_}) {
    axis->setLabelsColor(pal.color(QPalette::Text));
    axis->setTitleBrush(pal.color(QPalette::Text));
    axis->setGridLineColor(grid);
    axis->setLinePenColor(grid);
    axis->setLabelsFont(font());
  }
  setBackgroundBrush(pal.color(QPalette::Base));
  for (auto& [s, color] : series_) {
    QPen pen(color);
    pen.setWidthF(2);
    s->setPen(pen);
  }
  applyingPalette_ = false;
}

}  // namespace archway::gui
