#include "gui/trace_waterfall.h"

#include <QEvent>
#include <QFontMetrics>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "trace/trace_context.h"

namespace archway::gui {

namespace {

// Bar colours by what the time was spent on; picked to read on light and dark backgrounds.
const QColor kRequestColor(0x6b, 0x7f, 0x99);
const QColor kGatewayColor(0x2e, 0xa0, 0x43);
const QColor kPluginColor(0x9b, 0x59, 0xd0);
const QColor kUpstreamColor(0x20, 0x89, 0xd8);

QColor colorOf(int kind) {
  switch (kind) {
    case 0:
      return kRequestColor;
    case 2:
      return kPluginColor;
    case 3:
      return kUpstreamColor;
    default:
      return kGatewayColor;
  }
}

QString text(std::string_view s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

int kindOf(std::string_view name) {
  if (name.starts_with("plugin ")) return 2;
  if (name.starts_with("upstream")) return 3;
  return 1;
}

}  // namespace

TraceWaterfall::Extent TraceWaterfall::barExtent(std::uint64_t startUs, std::uint64_t durationUs,
                                                 std::uint64_t totalUs, double axisLeft,
                                                 double axisWidth) {
  if (totalUs == 0 || axisWidth <= 0) {
    return {axisLeft, std::max(0.0, std::min(kMinBarWidth, axisWidth))};
  }
  const double scale = axisWidth / static_cast<double>(totalUs);
  const double start = std::min(static_cast<double>(startUs), static_cast<double>(totalUs));
  const double end = std::min(static_cast<double>(startUs) + static_cast<double>(durationUs),
                              static_cast<double>(totalUs));
  double x = axisLeft + start * scale;
  double width = (end - start) * scale;
  if (width < kMinBarWidth) {
    width = std::min(kMinBarWidth, axisWidth);
    x = std::min(x, axisLeft + axisWidth - width);
  }
  return {x, width};
}

std::uint64_t TraceWaterfall::tickStepUs(std::uint64_t totalUs, int maxTicks) {
  if (maxTicks < 1) maxTicks = 1;
  std::uint64_t magnitude = 1;
  for (;;) {
    for (std::uint64_t m : {1, 2, 5}) {
      const std::uint64_t step = m * magnitude;
      if (totalUs <= step * static_cast<std::uint64_t>(maxTicks)) return step;
    }
    magnitude *= 10;
  }
}

QString TraceWaterfall::formatDuration(std::uint64_t us) {
  if (us < 1000) return tr("%1 µs").arg(us);
  const double ms = static_cast<double>(us) / 1000.0;
  if (ms < 10) return tr("%1 ms").arg(QString::number(ms, 'f', 2));
  if (ms < 1000) return tr("%1 ms").arg(QString::number(ms, 'f', 1));
  return tr("%1 s").arg(QString::number(ms / 1000.0, 'f', 2));
}

QString TraceWaterfall::formatTick(std::uint64_t us, std::uint64_t stepUs) {
  if (us == 0) return QStringLiteral("0");
  if (stepUs < 100) return tr("%1 µs").arg(us);
  if (stepUs < 100000) return tr("%1 ms").arg(QString::number(static_cast<double>(us) / 1e3));
  return tr("%1 s").arg(QString::number(static_cast<double>(us) / 1e6));
}

TraceWaterfall::TraceWaterfall(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setBackgroundRole(QPalette::Base);
  setAutoFillBackground(true);
}

void TraceWaterfall::setTrace(const trace::FinishedTrace& t) {
  trace_ = t;
  rows_.clear();
  rows_.push_back({tr("Whole request"), 0, t.durationUs, 0});
  const std::size_t n = std::min<std::size_t>(t.spanCount, trace::FinishedTrace::kMaxSpans);
  std::vector<Row> spans;
  spans.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = t.spans[i];
    spans.push_back({text(s.name), s.startUs, s.durationUs, kindOf(s.name)});
  }
  // Recorded in the order spans ended; a waterfall reads in the order they started.
  std::stable_sort(spans.begin(), spans.end(),
                   [](const Row& a, const Row& b) { return a.startUs < b.startUs; });
  rows_.insert(rows_.end(), spans.begin(), spans.end());
  hoverRow_ = -1;
  updateGeometry();
  update();
}

void TraceWaterfall::clear() {
  trace_.reset();
  rows_.clear();
  hoverRow_ = -1;
  updateGeometry();
  update();
}

int TraceWaterfall::rowCount() const {
  return static_cast<int>(rows_.size());
}

QString TraceWaterfall::rowName(int row) const {
  if (row < 0 || row >= rowCount()) return {};
  return rows_[static_cast<std::size_t>(row)].name;
}

std::uint64_t TraceWaterfall::axisTotalUs() const {
  std::uint64_t total = trace_ ? trace_->durationUs : 0;
  for (const Row& r : rows_) total = std::max(total, r.startUs + r.durationUs);
  return total;
}

TraceWaterfall::Metrics TraceWaterfall::layoutMetrics() const {
  const QFontMetrics fm(font());
  Metrics m{};
  m.margin = 8;
  m.headerHeight = fm.height() + 10;
  m.axisHeight = fm.height() + 6;
  m.rowHeight = fm.height() + 8;
  int widest = 0;
  for (const Row& r : rows_) widest = std::max(widest, fm.horizontalAdvance(r.name));
  // The names get what they need, up to 40% of the width; longer ones are elided.
  m.nameWidth = std::min(widest + 16, std::max(80, width() * 2 / 5));
  return m;
}

QRectF TraceWaterfall::axisRect() const {
  const Metrics m = layoutMetrics();
  const QFontMetrics fm(font());
  // Room on the right for the last tick label and a duration label after a bar that ends late.
  const int right = fm.horizontalAdvance(QStringLiteral("00.00 ms")) / 2 + m.margin;
  const double left = m.margin + m.nameWidth;
  const double top = m.margin + m.headerHeight;
  return QRectF(left, top, std::max(10.0, width() - right - left),
                m.axisHeight + m.rowHeight * static_cast<double>(rows_.size()));
}

QRectF TraceWaterfall::rowRect(int row) const {
  const Metrics m = layoutMetrics();
  const double top = m.margin + m.headerHeight + m.axisHeight + row * m.rowHeight;
  return QRectF(0, top, width(), m.rowHeight);
}

QRectF TraceWaterfall::barRect(int row) const {
  if (row < 0 || row >= rowCount()) return {};
  const Row& r = rows_[static_cast<std::size_t>(row)];
  const QRectF axis = axisRect();
  const Extent e = barExtent(r.startUs, r.durationUs, axisTotalUs(), axis.left(), axis.width());
  const QRectF line = rowRect(row);
  const double inset = std::max(3.0, line.height() * 0.2);
  return QRectF(e.x, line.top() + inset, e.width, line.height() - 2 * inset);
}

int TraceWaterfall::rowAt(const QPointF& pos) const {
  for (int i = 0; i < rowCount(); ++i) {
    if (rowRect(i).contains(pos)) return i;
  }
  return -1;
}

QSize TraceWaterfall::sizeHint() const {
  return QSize(640, minimumSizeHint().height());
}

QSize TraceWaterfall::minimumSizeHint() const {
  const Metrics m = layoutMetrics();
  const int rows = std::max(1, rowCount());
  return QSize(320, 2 * m.margin + m.headerHeight + m.axisHeight + rows * m.rowHeight);
}

QString TraceWaterfall::headerText() const {
  if (!trace_) return {};
  const auto& t = *trace_;
  QString header = tr("%1 %2 → %3 in %4")
                       .arg(text(t.method.view()), text(t.path.view()))
                       .arg(t.status)
                       .arg(formatDuration(t.durationUs));
  if (!t.route().empty()) header += tr(" · route %1").arg(text(t.route()));
  if (t.droppedSpans > 0) header += tr(" · %n span(s) not recorded", nullptr, t.droppedSpans);
  return header;
}

QString TraceWaterfall::tooltipFor(int row) const {
  if (row < 0 || row >= rowCount()) return {};
  const Row& r = rows_[static_cast<std::size_t>(row)];
  const std::uint64_t total = trace_ ? trace_->durationUs : 0;
  const double share =
      total ? 100.0 * static_cast<double>(r.durationUs) / static_cast<double>(total) : 0.0;
  return tr("%1\nStarts at %2, takes %3 (%4% of the request)")
      .arg(r.name, formatDuration(r.startUs), formatDuration(r.durationUs),
           QString::number(share, 'f', 1));
}

void TraceWaterfall::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QPalette& pal = palette();
  const QFontMetrics fm(font());

  if (!trace_) {
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, tr("Select a trace to see where its time went."));
    return;
  }

  const Metrics m = layoutMetrics();
  const QRectF axis = axisRect();
  const std::uint64_t total = axisTotalUs();

  // Header: what the request was, then a legend of the bar colours on the right.
  QRectF header(m.margin, m.margin, width() - 2 * m.margin, m.headerHeight);
  int legendX = static_cast<int>(header.right());
  const int swatch = fm.height() / 2 + 2;
  const std::pair<QString, QColor> legend[] = {{tr("Upstream"), kUpstreamColor},
                                               {tr("Plugins"), kPluginColor},
                                               {tr("Gateway"), kGatewayColor}};
  p.setPen(pal.color(QPalette::Text));
  for (const auto& [label, color] : legend) {
    const int w = fm.horizontalAdvance(label);
    legendX -= w;
    p.drawText(QRectF(legendX, header.top(), w, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
               label);
    legendX -= swatch + 4;
    p.fillRect(QRectF(legendX, header.top() + (fm.height() - swatch) / 2.0, swatch, swatch), color);
    legendX -= 14;
  }
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  const QFontMetrics boldFm(bold);
  p.drawText(QRectF(header.left(), header.top(), legendX - header.left(), fm.height()),
             Qt::AlignLeft | Qt::AlignVCenter,
             boldFm.elidedText(headerText(), Qt::ElideRight, legendX - int(header.left())));
  p.setFont(font());

  // Time axis: round ticks, labels above, faint grid lines down through the rows.
  const double rowsTop = axis.top() + m.axisHeight;
  const double rowsBottom = rowsTop + m.rowHeight * static_cast<double>(rows_.size());
  const int maxTicks = std::max(
      1, static_cast<int>(axis.width()) / (fm.horizontalAdvance(QStringLiteral("000.0 ms")) + 16));
  const std::uint64_t step = tickStepUs(std::max<std::uint64_t>(total, 1), maxTicks);
  QColor grid = pal.color(QPalette::Text);
  grid.setAlpha(40);
  for (std::uint64_t t = 0; t <= total; t += step) {
    const double x =
        axis.left() +
        (total ? axis.width() * static_cast<double>(t) / static_cast<double>(total) : 0.0);
    p.setPen(grid);
    p.drawLine(QPointF(x, rowsTop - 3), QPointF(x, rowsBottom));
    p.setPen(pal.color(QPalette::PlaceholderText));
    const QString label = formatTick(t, step);
    const int w = fm.horizontalAdvance(label);
    const double lx = std::clamp(x - w / 2.0, axis.left() - 4.0, double(width()) - w - 2);
    p.drawText(QRectF(lx, axis.top(), w, m.axisHeight - 3), Qt::AlignCenter, label);
  }

  // Rows: hover highlight, name, bar, duration label.
  for (int i = 0; i < rowCount(); ++i) {
    const Row& r = rows_[static_cast<std::size_t>(i)];
    const QRectF line = rowRect(i);
    if (i == hoverRow_) p.fillRect(line, pal.color(QPalette::AlternateBase));
    p.setPen(pal.color(QPalette::Text));
    QFont nameFont = font();
    nameFont.setBold(i == 0);
    p.setFont(nameFont);
    const QRectF nameRect(m.margin, line.top(), m.nameWidth - 8, line.height());
    p.drawText(nameRect, Qt::AlignLeft | Qt::AlignVCenter,
               QFontMetrics(nameFont).elidedText(r.name, Qt::ElideMiddle, int(nameRect.width())));
    p.setFont(font());

    const QRectF bar = barRect(i);
    p.setPen(Qt::NoPen);
    p.setBrush(colorOf(r.kind));
    p.drawRoundedRect(bar, 2, 2);

    // The duration next to the bar: after it when it fits, else before it, else inside.
    const QString label = formatDuration(r.durationUs);
    const int w = fm.horizontalAdvance(label);
    QRectF labelRect;
    QColor labelColor = pal.color(QPalette::Text);
    if (bar.right() + 6 + w <= width() - 2) {
      labelRect = QRectF(bar.right() + 6, line.top(), w, line.height());
    } else if (bar.left() - 6 - w >= axis.left()) {
      labelRect = QRectF(bar.left() - 6 - w, line.top(), w, line.height());
    } else {
      labelRect = QRectF(bar.right() - 4 - w, line.top(), w, line.height());
      labelColor = Qt::white;
    }
    p.setPen(labelColor);
    p.drawText(labelRect, Qt::AlignLeft | Qt::AlignVCenter, label);
  }
}

bool TraceWaterfall::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const int row = rowAt(help->pos());
    if (row >= 0) {
      QToolTip::showText(help->globalPos(), tooltipFor(row), this, rowRect(row).toRect());
    } else {
      QToolTip::hideText();
      e->ignore();
    }
    return true;
  }
  return QWidget::event(e);
}

void TraceWaterfall::mouseMoveEvent(QMouseEvent* e) {
  const int row = rowAt(e->position());
  if (row != hoverRow_) {
    hoverRow_ = row;
    update();
  }
  QWidget::mouseMoveEvent(e);
}

void TraceWaterfall::leaveEvent(QEvent* e) {
  if (hoverRow_ >= 0) {
    hoverRow_ = -1;
    update();
  }
  QWidget::leaveEvent(e);
}

}  // namespace archway::gui
