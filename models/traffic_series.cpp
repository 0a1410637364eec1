#include "models/traffic_series.h"

#include <algorithm>

#include "metrics/stats_frame.h"

namespace archway::models {

TrafficSeries::TrafficSeries(double windowSeconds) : window_(windowSeconds) {}

void TrafficSeries::add(const metrics::StatsFrame& frame) {
  TrafficPoint p;
  p.t = static_cast<double>(frame.timestampMs) / 1000.0;
  p.rps = frame.total.rps;
  // Percentiles of an empty second are meaningless; 0 keeps the line on the floor.
  const bool any = frame.total.latency1s.count > 0;
  p.p50Ms = any ? frame.total.latency1s.p50 : 0;
  p.p99Ms = any ? frame.total.latency1s.p99 : 0;
  addPoint(p);
}

void TrafficSeries::addPoint(const TrafficPoint& point) {
  if (!points_.empty() && point.t < points_.back().t) points_.clear();
  points_.push_back(point);
  const double oldest = point.t - window_;
  while (!points_.empty() && points_.front().t < oldest) points_.pop_front();
}

void TrafficSeries::clear() {
  points_.clear();
}

template <class Get>
QList<QPointF> TrafficSeries::pointsOf(double span, Get get) const {
  QList<QPointF> out;
  if (points_.empty()) return out;
  const double now = points_.back().t;
  // Points are time-ordered: find the first inside the span and copy from there.
  auto first = std::lower_bound(points_.begin(), points_.end(), now - span,
                                [](const TrafficPoint& p, double t) { return p.t < t; });
  out.reserve(static_cast<qsizetype>(std::distance(first, points_.end())));
  for (auto it = first; it != points_.end(); ++it) out.append(QPointF(it->t - now, get(*it)));
  return out;
}

QList<QPointF> TrafficSeries::rpsPoints(double span) const {
  return pointsOf(span, [](const TrafficPoint& p) { return p.rps; });
}

QList<QPointF> TrafficSeries::p50Points(double span) const {
  return pointsOf(span, [](const TrafficPoint& p) { return p.p50Ms; });
}

QList<QPointF> TrafficSeries::p99Points(double span) const {
  return pointsOf(span, [](const TrafficPoint& p) { return p.p99Ms; });
}

double TrafficSeries::maxRps(double span) const {
  double m = 0;
  for (const auto& p : rpsPoints(span)) m = std::max(m, p.y());
  return m;
}

double TrafficSeries::maxLatencyMs(double span) const {
  double m = 0;
  for (const auto& p : p50Points(span)) m = std::max(m, p.y());
  for (const auto& p : p99Points(span)) m = std::max(m, p.y());
  return m;
}

}  // namespace archway::models
