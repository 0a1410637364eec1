#pragma once
// The Traces page: the engine's recent kept traces (filtered by route, status class and
// duration), a waterfall of the selected one, and the sampling policy that decides which
// requests are kept. While the page is visible (and "Live" is on) the list is refreshed from
// the engine's trace ring every second on the GUI thread; reading the ring is lock-free.
#include <QTimer>
#include <QWidget>
#include <cstddef>

#include "trace/sampler.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QSpinBox;
class QTableView;

namespace archway::models {
class EngineBridge;
class RemoteNode;
class TraceListModel;
}  // namespace archway::models

namespace archway::trace {
struct SamplingPolicy;
}

namespace archway::gui {

class TraceWaterfall;

class TracesPage : public QWidget {
  Q_OBJECT
 public:
  // Rows shown at most (newest first).
  static constexpr std::size_t kMaxRows = 200;

  explicit TracesPage(models::EngineBridge* bridge, QWidget* parent = nullptr);

  // Reads the traces matching the filters from the engine now.
  void refresh();
  // Shows a remote node's traces (polled from its Admin API while the page is shown) instead of
  // the embedded engine's; its sampling policy is read and changed through the node's
  // /archway/tracing (an error under the controls when the node refuses).
  void setRemote(models::RemoteNode* remote);
  // Shows the engine's sampling policy in the controls (after a start, which sets it).
  void loadSampling();

  models::TraceListModel* model() const { return model_; }
  QSortFilterProxyModel* proxy() const { return sorted_; }
  QTableView* table() const { return table_; }
  TraceWaterfall* waterfall() const { return waterfall_; }
  QLineEdit* routeFilter() const { return route_; }
  QComboBox* statusFilter() const { return status_; }
  QDoubleSpinBox* minMsFilter() const { return minMs_; }
  QCheckBox* liveBox() const { return live_; }
  QCheckBox* tracingBox() const { return tracing_; }
  QDoubleSpinBox* sampleRateBox() const { return rate_; }
  QCheckBox* keepServerErrorsBox() const { return keep5xx_; }
  QCheckBox* keepClientErrorsBox() const { return keep4xx_; }
  QSpinBox* slowMsBox() const { return slowMs_; }
  const QTimer& refreshTimer() const { return timer_; }

 protected:
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  QWidget* makeFilters();
  QWidget* makeSampling();
  void applySampling();
  void showSampling(const trace::SamplingPolicy& policy);  // into the controls
  void showCurrent();
  void updateTimer();

  models::EngineBridge* bridge_;
  models::RemoteNode* remote_ = nullptr;
  models::TraceListModel* model_;
  QSortFilterProxyModel* sorted_;
  QTableView* table_;
  TraceWaterfall* waterfall_;
  QLineEdit* route_;
  QComboBox* status_;
  QDoubleSpinBox* minMs_;
  QCheckBox* live_;
  QLabel* countLabel_;
  QCheckBox* tracing_;
  QDoubleSpinBox* rate_;
  QCheckBox* keep5xx_;
  QCheckBox* keep4xx_;
  QSpinBox* slowMs_;
  QTimer timer_;
  bool loadingSampling_ = false;
  trace::SamplingPolicy remotePolicy_;  // a remote node's, as last loaded
  QLabel* samplingError_ = nullptr;  // a remote node's refusal
};

}  // namespace archway::gui
