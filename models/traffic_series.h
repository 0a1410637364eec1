#pragma once
// The last `window` seconds of gateway-wide traffic (rps, p50, p99) taken from stats frames.
// Plain data owned by the GUI thread; charts read it through the *Points() helpers, which
// return x relative to the newest point so a chart can keep a fixed "-60 s .. 0" axis and only
// replace() its points (no axis relayout per frame).
#include <QList>
#include <QPointF>
#include <cstddef>
#include <deque>

namespace archway::metrics {
struct StatsFrame;
}

namespace archway::models {

struct TrafficPoint {
  double t = 0;  // seconds (the frame's wall clock)
  double rps = 0;
  double p50Ms = 0;
  double p99Ms = 0;
};

class TrafficSeries {
 public:
  explicit TrafficSeries(double windowSeconds = 120);

  // Appends the frame's totals. A frame older than the newest point (wall clock stepped back)
  // restarts the series rather than drawing a line back in time.
  void add(const metrics::StatsFrame& frame);
  void addPoint(const TrafficPoint& point);
  void clear();

  double windowSeconds() const { return window_; }
  std::size_t size() const { return points_.size(); }
  bool empty() const { return points_.empty(); }
  const std::deque<TrafficPoint>& points() const { return points_; }
  double newestTime() const { return points_.empty() ? 0 : points_.back().t; }

  // Points of the last `span` seconds, x = t - newestTime() (so x is in [-span, 0]).
  QList<QPointF> rpsPoints(double span) const;
  QList<QPointF> p50Points(double span) const;
  QList<QPointF> p99Points(double span) const;
  // Largest value over the last `span` seconds (0 when empty); used to scale the y axis.
  double maxRps(double span) const;
  double maxLatencyMs(double span) const;

 private:
  template <class Get>
  QList<QPointF> pointsOf(double span, Get get) const;

  double window_;
  std::deque<TrafficPoint> points_;
};

}  // namespace archway::models
