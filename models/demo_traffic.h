#pragma once
// "Send demo traffic": a few constant-rate (open model) load generator runs against the
// embedded proxy, shaped so the dashboard shows something worth looking at: a busy fast route,
// a slow one and a trickle of errors. Owned by the GUI thread; the runs have their own threads.
#include <QObject>
#include <QString>
#include <QTimer>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace archway::loadgen {
class Run;
}

namespace archway::models {

struct DemoStream {
  std::string path;  // request path on the proxy, e.g. "/anything"
  double rate = 1;   // requests per second
  int connections = 2;
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
};

class DemoTraffic : public QObject {
  Q_OBJECT
 public:
  explicit DemoTraffic(QObject* parent = nullptr);
  ~DemoTraffic() override;  // cancels the runs

  // The streams started by start(); the defaults match resources/demo/kong.yml.
  static std::vector<DemoStream> defaultStreams();
  void setStreams(std::vector<DemoStream> streams) { streams_ = std::move(streams); }
  // How long each run lasts before it ends by itself (a guard for a forgotten toggle).
  void setDuration(std::chrono::milliseconds duration) { duration_ = duration; }

  // Starts one run per stream against http://host:port. Returns an error (a plan that cannot
  // start) or an empty string. Does nothing when already running.
  QString start(const QString& host, std::uint16_t port);
  // Cancels every run; returns within a few milliseconds.
  void stop();
  bool isRunning() const { return !runs_.empty(); }

 signals:
  void running(bool on);
  // A run ended on its own with an error (the proxy went away, a plan was refused).
  void failed(const QString& message);

 private:
  void poll();
  QString finish();  // cancels and joins every run; returns the first run's error

  std::vector<DemoStream> streams_;
  std::chrono::milliseconds duration_{std::chrono::hours(4)};
  std::vector<std::unique_ptr<loadgen::Run>> runs_;
  QTimer pollTimer_;
};

}  // namespace archway::models
