#pragma once
// The console's handle on a remote node (`archway --connect ADMIN_URL`), the counterpart of
// EngineBridge for a node reached only through its Admin API: stats frames from the server-sent
// events of GET /archway/stats/stream (re-emitted with the same signal as EngineBridge, so the
// same models take them), recent traces polled from GET /archway/traces, and the connection's
// state. The network I/O runs on two threads of this object's own (stream, trace poll) with
// AdminClient; results reach the thread this object lives in (the GUI thread) as queued calls.
// A lost or refused connection is retried with exponential backoff until stop().
#include <QObject>
#include <QString>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apps/admin_client.h"
#include "metrics/stats_frame.h"
#include "trace/finished_trace.h"
#include "trace/sampler.h"
#include "trace/trace_store.h"

namespace archway::models {

struct RemoteOptions {
  std::string url;  // http[s]://HOST:PORT of the Admin API
  std::string token;
  apps::TlsOptions tls;
  std::chrono::milliseconds minBackoff{500};    // first wait before a reconnect
  std::chrono::milliseconds maxBackoff{10000};  // doubling up to this
  std::chrono::milliseconds tracePoll{1000};    // while traces are wanted
  std::chrono::milliseconds timeout{10000};     // per step; the stream sends every 250 ms
};

class RemoteNode : public QObject {
  Q_OBJECT
 public:
  enum class State {
    stopped,
    connecting,    // no frame yet since (re)connecting
    connected,     // frames arriving
    unreachable,   // no answer, TLS refused, the stream ended; retrying
    unauthorized,  // HTTP 401: the token is missing or wrong; retrying
    unsupported,   // the node has no stats stream (e.g. a Kong node); retrying
  };
  Q_ENUM(State)

  explicit RemoteNode(QObject* parent = nullptr);
  ~RemoteNode() override;  // stop()

  // Checks the URL and CA file (an error, nothing started) and starts watching the node.
  QString start(const RemoteOptions& options);
  // Ends the threads (aborting calls in flight). Blocks briefly; idempotent.
  void stop();

  State state() const { return state_; }
  // Why the node is not connected (one line), or empty.
  QString message() const { return message_; }
  QString url() const { return QString::fromStdString(options_.url); }
  const RemoteOptions& options() const { return options_; }

  // Traces from the newest poll (newest first) that match `query`, like
  // EngineBridge::recentTraces. Empty until traces are wanted and a poll answered.
  std::vector<trace::FinishedTrace> recentTraces(const trace::TraceQuery& query) const;
  // Polls GET /archway/traces only while wanted (the Traces page is shown).
  void setTracesWanted(bool wanted);
  // The node's sampling settings (GET /archway/tracing) and changes to them (PATCH), sent on
  // the trace thread; the answer comes back as tracingLoaded() (the node's settings after the
  // call) or tracingFailed() (why not: 401, 404 on an older node, a 400's message, no answer).
  // A change queued while another waits replaces it.
  void loadTracing();
  void setTracing(const trace::SamplingPolicy& policy);

 signals:
  // The same contract as EngineBridge::statsUpdated: at most one frame in flight.
  void statsUpdated(std::shared_ptr<const archway::metrics::StatsFrame> frame);
  void stateChanged(archway::models::RemoteNode::State state, const QString& message);
  void tracesUpdated();
  void tracingLoaded(const archway::trace::SamplingPolicy& policy);
  void tracingFailed(const QString& message);

 private:
  void streamLoop();  // stream thread
  void traceLoop();   // trace thread
  // Sends the queued tracing call, if any, and reports its answer. Trace thread.
  void runTracingCall(apps::AdminClient& client);
  // Handles the bytes of the stream; false to end it. Stream thread.
  bool onStreamData(std::string_view data, std::string& pending, bool& connected);
  void post(State state, const QString& message);  // any thread
  void deliverStats();                             // GUI thread
  // Waits up to `d` or until stop(); false when stopping.
  bool sleepFor(std::chrono::milliseconds d);
  std::unique_ptr<apps::AdminClient> newClient() const;
  void setActive(int slot, apps::AdminClient* client);

  RemoteOptions options_;
  State state_ = State::stopped;
  QString message_;
  std::thread streamThread_, traceThread_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool tracesWanted_ = false;
  apps::AdminClient* active_[2] = {nullptr, nullptr};  // in use by the two threads
  std::shared_ptr<const metrics::StatsFrame> pending_;
  bool posted_ = false;
  std::vector<trace::FinishedTrace> traces_;
  // The tracing call waiting for the trace thread: "GET", or the PATCH body.
  std::optional<std::string> tracingCall_;
};

}  // namespace archway::models
