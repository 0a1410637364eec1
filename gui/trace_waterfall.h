#pragma once
// One request's trace as a waterfall: a row per span (the whole request first, then the spans
// by start time), each a horizontal bar on a shared time axis from the request's first byte,
// with its name on the left and its duration next to the bar; hovering a row shows the span's
// numbers. Colours follow the palette (light and dark); only the bar colours are fixed.
#include <QRectF>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <optional>
#include <vector>

#include "trace/finished_trace.h"

namespace archway::gui {

class TraceWaterfall : public QWidget {
  Q_OBJECT
 public:
  // A bar's horizontal extent in pixels.
  struct Extent {
    double x = 0;
    double width = 0;
  };
  static constexpr double kMinBarWidth = 2;  // a 0 µs span still shows as a mark

  // The bar of a span starting `startUs` after the request's first byte and lasting
  // `durationUs`, on an axis that maps 0..totalUs onto axisLeft..axisLeft+axisWidth. Clamped to
  // the axis; at least kMinBarWidth wide (moved left if that would cross the axis end).
  static Extent barExtent(std::uint64_t startUs, std::uint64_t durationUs, std::uint64_t totalUs,
                          double axisLeft, double axisWidth);
  // A round tick spacing in µs (1, 2 or 5 times a power of ten) giving at most `maxTicks`
  // intervals over totalUs.
  static std::uint64_t tickStepUs(std::uint64_t totalUs, int maxTicks);
  // "850 µs", "1.25 ms", "12.3 ms", "1.20 s".
  static QString formatDuration(std::uint64_t us);
  // A tick label on an axis with ticks every `stepUs`: µs for steps under 100 µs, s from
  // 100 ms up, ms between; no needless decimals ("0", "50 µs", "2.5 ms", "10 ms", "1.5 s").
  static QString formatTick(std::uint64_t us, std::uint64_t stepUs);

  explicit TraceWaterfall(QWidget* parent = nullptr);

  void setTrace(const trace::FinishedTrace& trace);
  void clear();
  bool hasTrace() const { return trace_.has_value(); }
  const trace::FinishedTrace* trace() const { return trace_ ? &*trace_ : nullptr; }

  // Rows: 0 is the whole request, then one per span in start order. 0 without a trace.
  int rowCount() const;
  QString rowName(int row) const;
  // Where row `row`'s bar is drawn at the widget's current size (empty when out of range), and
  // the time axis's extent; for tests and tooltips.
  QRectF barRect(int row) const;
  QRectF axisRect() const;
  // The row under a widget position, or -1.
  int rowAt(const QPointF& pos) const;
  // The axis's full length in µs: the request's duration, or the latest span end if later.
  std::uint64_t axisTotalUs() const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  struct Row {
    QString name;
    std::uint64_t startUs = 0;
    std::uint64_t durationUs = 0;
    int kind = 0;  // 0 request, 1 gateway phase, 2 plugin, 3 upstream
  };
  struct Metrics {
    int margin, headerHeight, axisHeight, rowHeight, nameWidth;
  };
  Metrics layoutMetrics() const;
  QRectF rowRect(int row) const;
  QString tooltipFor(int row) const;
  QString headerText() const;

  std::optional<trace::FinishedTrace> trace_;
  std::vector<Row> rows_;
  int hoverRow_ = -1;
};

}  // namespace archway::gui
