#include "models/demo_traffic.h"

#include "loadgen/load_generator.h"

namespace archway::models {

DemoTraffic::DemoTraffic(QObject* parent) : QObject(parent), streams_(defaultStreams()) {
  // Runs end on their own (duration, errors); a slow poll notices it without a callback from
  // the generator threads.
  pollTimer_.setInterval(500);
  connect(&pollTimer_, &QTimer::timeout, this, &DemoTraffic::poll);
}

DemoTraffic::~DemoTraffic() {
  finish();
}

std::vector<DemoStream> DemoTraffic::defaultStreams() {
  return {
      {"/anything", 100, 8, {}},  // the busy, fast route
      // /delay/0.05 upstream: 50 ms of latency; the route has key-auth (the demo consumer's key)
      {"/slow/0.05", 10, 4, {{"apikey", "demo-key"}}},
      {"/demo/status/500", 3, 1, {}},  // a trickle of upstream errors (5xx)
      {"/demo/status/404", 2, 1, {}},  // and of client errors (4xx)
  };
}

QString DemoTraffic::start(const QString& host, std::uint16_t port) {
  if (isRunning()) return {};
  const std::string base =
      "http://" + (host.contains(u':') ? "[" + host.toStdString() + "]" : host.toStdString()) +
      ":" + std::to_string(port);
  std::vector<loadgen::Plan> plans;
  for (const auto& stream : streams_) {
    loadgen::Plan plan;
    plan.url = base + stream.path;
    plan.rate = stream.rate;
    plan.connections = stream.connections;
    plan.threads = 1;
    plan.duration = duration_;
    plan.timeout = std::chrono::seconds(10);
    plan.headers.emplace_back("User-Agent", "archway-console-demo");
    for (const auto& header : stream.headers) plan.headers.push_back(header);
    if (auto valid = loadgen::validatePlan(plan); !valid) {
      return QString::fromStdString(valid.errorText());
    }
    plans.push_back(std::move(plan));
  }
  for (auto& plan : plans) runs_.push_back(loadgen::start(std::move(plan)));
  pollTimer_.start();
  emit running(true);
  return {};
}

void DemoTraffic::stop() {
  if (!isRunning()) return;
  finish();
  emit running(false);
}

QString DemoTraffic::finish() {
  pollTimer_.stop();
  for (auto& run : runs_) run->cancel();
  // cancel() stops a run within a few milliseconds; wait() joins its threads (once per run).
  QString error;
  for (auto& run : runs_) {
    const auto report = run->wait();
    if (!report.error.empty() && error.isEmpty()) error = QString::fromStdString(report.error);
  }
  runs_.clear();
  return error;
}

void DemoTraffic::poll() {
  bool anyDone = false;
  for (const auto& run : runs_) anyDone = anyDone || run->done();
  if (!anyDone) return;
  // One stream ending (duration, error) ends the demo: a partial mix would look like a bug.
  const QString error = finish();
  emit running(false);
  if (!error.isEmpty()) emit failed(error);
}

}  // namespace archway::models
