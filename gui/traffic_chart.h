#pragma once
// A line chart over a fixed "last N seconds" x axis (-N .. 0 s). Callers replace() whole series
// each stats frame; the axes only change when the y range needs a new round maximum, so a frame
// costs a repaint, not a relayout. Colours follow the widget palette (light and dark); only the
// series have fixed colours.
#include <QChartView>
#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>
#include <vector>

class QLineSeries;
class QValueAxis;

namespace archway::gui {

class TrafficChart : public QChartView {
  Q_OBJECT
 public:
  TrafficChart(const QString& title, const QString& yTitle, double minYMax,
               QWidget* parent = nullptr);

  // Returns the index for setPoints().
  int addSeries(const QString& name, const QColor& color);
  void setWindowSeconds(double seconds);
  double windowSeconds() const { return window_; }
  void setPoints(int series, const QList<QPointF>& points);
  // Grows (or after a quiet spell shrinks) the y axis to a round value above `maxValue`.
  void fitY(double maxValue);

  QLineSeries* series(int index) const;
  QValueAxis* yAxis() const { return y_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void applyPalette();

  QValueAxis* x_;
  QValueAxis* y_;
  std::vector<std::pair<QLineSeries*, QColor>> series_;
  double window_ = 60;
  double minYMax_;
  double yMax_ = 0;
  bool applyingPalette_ = false;
};

}  // namespace archway::gui
