#pragma once
// The console's handle on a remote node (`archway --connect ADMIN_URL`), the counterpart of
// EngineBridge for a node reached only through its Admin API: stats frames from the server-sent
// events of GET /archway/stats/stream (re-emitted with the same signal as EngineBridge, so the
// same models take them), recent traces polled from GET /archway/traces, the newest access and
// error log lines polled from GET /archway/logs/access and /archway/logs/error (each poll asks
// only for what is newer than the last), and the connection's state. The network I/O runs on
// two threads of this object's own (stream; polls one after the other) with AdminClient;
// results reach the thread this object lives in (the GUI thread) as queued calls.
// A lost or refused connection is retried with exponential backoff until stop().
#include <QObject>
#include <QString>
#include <QStringList>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apps/admin_client.h"
#include "core/log.h"
#include "metrics/stats_frame.h"
#include "trace/finished_trace.h"
#include "trace/sampler.h"
#include "trace/trace_store.h"

namespace boost::json {
class object;
}

namespace archway::models {

struct RemoteOptions {
  std::string url;  // http[s]://HOST:PORT of the Admin API
  std::string token;
  apps::TlsOptions tls;
  std::chrono::milliseconds minBackoff{500};    // first wait before a reconnect
  std::chrono::milliseconds maxBackoff{10000};  // doubling up to this
  std::chrono::milliseconds poll{1000};         // between polls while traces or logs are wanted
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
  // Polls GET /archway/logs/access (error) only while wanted (its page is shown), asking for
  // the lines after the newest one already delivered (the first poll: the node's last 1000).
  // New lines arrive as accessLogLines() (error: errorLogRecords()), oldest first.
  void setAccessLogWanted(bool wanted);
  void setErrorLogWanted(bool wanted);

 signals:
  // The same contract as EngineBridge::statsUpdated: at most one frame in flight.
  void statsUpdated(std::shared_ptr<const archway::metrics::StatsFrame> frame);
  void stateChanged(archway::models::RemoteNode::State state, const QString& message);
  void tracesUpdated();
  void tracingLoaded(const archway::trace::SamplingPolicy& policy);
  void tracingFailed(const QString& message);
  // The same contracts as EngineBridge's: JSON access log lines (as the node's --access-log
  // writes them) and error log records, each batch oldest first.
  void accessLogLines(const QStringList& lines);
  void errorLogRecords(const std::vector<archway::core::log::Record>& records);
  // What the console should know about a log page's lines (the node kept no access log before
  // it was first read; the node has no such endpoint), or "" once it no longer applies.
  void accessLogNotice(const QString& notice);
  void errorLogNotice(const QString& notice);

 private:
  void streamLoop();  // stream thread
  void pollLoop();    // poll thread: traces, tracing calls, logs
  // Sends the queued tracing call, if any, and reports its answer. Trace thread.
  void runTracingCall(apps::AdminClient& client);
  void pollTraces(apps::AdminClient& client);
  // Fetches the access (error) log lines newer than the last poll's and delivers them. Poll
  // thread.
  void pollAccessLog(apps::AdminClient& client);
  void pollErrorLog(apps::AdminClient& client);
  // GETs a log endpoint's `target`: true with its body and the body as an object when it
  // answered {"data":[...],"next_since":N}; else false, with `notice` saying why when the page
  // should (not for no answer or a refused token: the stream reports those). Poll thread.
  bool fetchLog(apps::AdminClient& client, const std::string& target, std::string& body,
                boost::json::object& answer, QString& notice);
  // Hands `notice` to `signal` on the GUI thread when it changed since the last time. Poll
  // thread.
  void postNotice(void (RemoteNode::*signal)(const QString&), QString& last, const QString& notice);
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
  std::thread streamThread_, pollThread_;
  // The poll thread's cursors (next_since of the last answer) and last notices.
  std::uint64_t accessSince_ = 0, errorSince_ = 0;
  QString accessNotice_, errorNotice_;
  QString accessFrom_;  // since when the node keeps access entries for us ("": always)

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool tracesWanted_ = false, accessWanted_ = false, errorsWanted_ = false;
  apps::AdminClient* active_[2] = {nullptr, nullptr};  // in use by the two threads
  std::shared_ptr<const metrics::StatsFrame> pending_;
  bool posted_ = false;
  std::vector<trace::FinishedTrace> traces_;
  // The tracing call waiting for the trace thread: "GET", or the PATCH body.
  std::optional<std::string> tracingCall_;
};

}  // namespace archway::models
