#pragma once
// The console's one handle on the embedded gateway: owns the runtime::Engine and the built-in
// demo upstream, and turns engine callbacks (engine threads) into Qt signals emitted on the
// thread this object lives in (the GUI thread), so models are only ever touched there.
#include <QObject>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/stats_frame.h"
#include "models/batch_queue.h"
#include "runtime/config_source.h"
#include "runtime/engine.h"

namespace archway::demo {
class DemoServer;
}

namespace archway::models {

struct BridgeOptions {
  runtime::EngineOptions engine;
  runtime::ConfigSource source;
  // ADDR:PORT of the built-in demo upstream, or "off". Port 0 picks a free port.
  std::string demoListen = "127.0.0.1:9080";
  // The address the demo config names for the demo upstream. When the demo server ends up on a
  // different port (port 0, or another --demo-listen), services pointing at this address are
  // pointed at the real one, so the demo config works wherever the demo server runs.
  std::string demoConfigAddress = "127.0.0.1:9080";
};

class EngineBridge : public QObject {
  Q_OBJECT
 public:
  enum class State { stopped, running, failed };
  Q_ENUM(State)

  explicit EngineBridge(QObject* parent = nullptr);
  ~EngineBridge() override;  // stops the engine and the demo server

  // Starts the demo server (unless off), loads the initial config and starts the engine.
  // Blocks briefly (binding, loading the store). Returns an empty string on success or a one-line
  // error naming the option ("proxy-listen: address already in use"); on error nothing is left
  // running and the state is `failed`.
  QString start(const BridgeOptions& options);
  // Stops the engine (draining in-flight requests up to `drain`) and the demo server. Blocks.
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds(500));

  State state() const { return state_; }
  QString lastError() const { return lastError_; }
  // Bound addresses, "127.0.0.1:8000"; empty when not running (admin: also when off).
  QString proxyAddress() const;
  QString adminAddress() const;
  QString demoAddress() const;
  std::uint16_t proxyPort() const;
  std::uint16_t demoPort() const;

  // The engine itself, for reads the bridge does not wrap (config(), latestStats()).
  runtime::Engine& engine() { return *engine_; }

  // Recent kept traces, newest first; empty when the engine is not running. Lock-free and
  // cheap (copies out of the trace ring), so the GUI thread may poll it.
  std::vector<trace::FinishedTrace> recentTraces(const trace::TraceQuery& query) const;
  // The engine's trace sampling policy; changes apply to the next requests (any thread).
  trace::SamplingPolicy tracing() const { return engine_->tracing(); }
  void setTracing(const trace::SamplingPolicy& policy) { engine_->setTracing(policy); }

 signals:
  // At most one frame is in flight to the GUI thread: when the GUI falls behind, older frames
  // are dropped in favour of the newest (frames are cumulative, nothing is lost but points).
  void statsUpdated(std::shared_ptr<const archway::metrics::StatsFrame> frame);
  void engineEvent(int kind, const QString& message);  // runtime::EngineEvent::Kind as int
  // Access log lines (JSON) since the previous signal, oldest first; delivered in batches, at
  // most one batch in flight. When the GUI falls behind, only the newest kMaxPendingLines wait.
  void accessLogLines(const QStringList& lines);
  // Error log records (core::log, the process's) since the previous signal, oldest first; the
  // same batching as accessLogLines. Subscribed from construction on, running or not, so a
  // failed start's records arrive too.
  void errorLogRecords(const std::vector<archway::core::log::Record>& records);
  void stateChanged(archway::models::EngineBridge::State state);

 private:
  void onStatsFrame(std::shared_ptr<const metrics::StatsFrame> frame);  // stats thread
  void deliverStats();                                                  // GUI thread
  void onAccessLine(std::string_view line);                             // log thread
  void deliverAccessLog();                                              // GUI thread
  void deliverErrorLog();                                               // GUI thread
  void setState(State state, const QString& error = {});
  static QString hostOf(const std::string& listen);

  std::unique_ptr<runtime::Engine> engine_;
  std::unique_ptr<demo::DemoServer> demo_;
  BridgeOptions options_;
  State state_ = State::stopped;
  QString lastError_;
  int statsToken_ = -1;
  int eventsToken_ = -1;
  int accessToken_ = -1;
  int errorLogToken_ = -1;

  std::mutex pendingMutex_;  // guards pending_ and posted_ (stats thread vs GUI thread)
  std::shared_ptr<const metrics::StatsFrame> pending_;
  bool posted_ = false;

 public:
  static constexpr std::size_t kMaxPendingLines = 1000;

 private:
  std::mutex linesMutex_;  // guards lines_ and linesPosted_ (log thread vs GUI thread)
  std::deque<QString> lines_;
  bool linesPosted_ = false;
  BatchQueue<core::log::Record> errorRecords_{kMaxPendingLines};  // log thread -> GUI thread
};

}  // namespace archway::models

Q_DECLARE_METATYPE(std::shared_ptr<const archway::metrics::StatsFrame>)
