#pragma once
// The console's `archwayd config diff|sync`: parses a kong.yml (or JSON) text, reads the live
// configuration of the node the console manages through its Admin API, computes the diff with
// config::diffConfigs into a ConfigDiffModel, and applies it call by call. Every network call
// and the parsing run on a worker thread of this object's own; results arrive as signals on the
// thread the runner lives in (the GUI thread). One job at a time.
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "apps/admin_client.h"

namespace archway::models {

class ConfigDiffModel;

// The Admin API of the node: the embedded engine's, or a remote one (--connect).
struct AdminTarget {
  std::string url;  // http[s]://HOST:PORT; empty: the node has no Admin API the console can use
  std::string token;
  apps::TlsOptions tls;
};

class ConfigDiffRunner : public QObject {
  Q_OBJECT
 public:
  // `model` receives every diff; it must outlive the runner or be its child.
  explicit ConfigDiffRunner(ConfigDiffModel* model, QObject* parent = nullptr);
  ~ConfigDiffRunner() override;  // cancels, then waits for the job in progress

  void setTarget(AdminTarget target) { target_ = std::move(target); }
  const AdminTarget& target() const { return target_; }
  bool busy() const { return busy_; }
  // The text of the last diff() (what the model's diff is of, once diffReady).
  const QString& lastText() const { return lastText_; }

  // Each returns false (doing nothing) while another job runs.
  // Validate `text`, read the node's config and diff: diffReady, invalid or failed.
  bool diff(const QString& text);
  // Read the node's config as kong.yml text (GET /config): liveConfigLoaded or failed.
  bool loadLive();
  // Send the calls of the model's diff in order: progress after each, then applied; then the
  // last diffed text is diffed again (diffReady), so the model shows what is left.
  bool apply();
  // Stops an apply before its next call (the call in flight completes). Any thread.
  void cancel() { cancelled_->store(true); }

 signals:
  void busyChanged(bool busy);
  void diffReady();
  // The text is not a valid configuration: one "path: message" per error.
  void invalid(const QStringList& errors);
  // The node could not be reached, refused the token, or answered something unexpected.
  void failed(const QString& message);
  void liveConfigLoaded(const QString& text);
  // Emitted on the worker thread after each call (queued to GUI-thread receivers as usual); a
  // direct connection runs before the next call, so cancel() there stops exactly after `done`.
  void progress(int done, int total);
  // `error` empty and `done == total`: everything applied. `cancelled`: stopped by cancel().
  void applied(int done, int total, const QString& error, bool cancelled);

 private:
  template <class Job>
  bool start(Job&& job);
  void finish();
  QString noAdminApi() const;

  ConfigDiffModel* model_;
  AdminTarget target_;
  QThread thread_;
  QObject* worker_;  // lives in thread_
  bool busy_ = false;
  QString lastText_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  // The client of the job in progress, so the destructor can abort a call in flight.
  std::mutex activeMutex_;
  apps::AdminClient* active_ = nullptr;
  bool closing_ = false;  // set by the destructor; a client registered after it is cancelled
};

}  // namespace archway::models
