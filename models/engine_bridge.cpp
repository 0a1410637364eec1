#include "models/engine_bridge.h"

#include <QMetaObject>

#include "demo/demo_server.h"

namespace archway::models {

namespace {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// "ADDR:PORT" (IPv6 as "[::1]:PORT"); false when malformed.
bool splitHostPort(const std::string& text, HostPort& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string portText = text.substr(colon + 1);
  unsigned long port = 0;
  for (char c : portText) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + static_cast<unsigned long>(c - '0');
    if (port > 65535) return false;
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

bool isLoopbackName(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

QString joinHostPort(const QString& host, std::uint16_t port) {
  const QString h = host.contains(u':') ? QStringLiteral("[%1]").arg(host) : host;
  return QStringLiteral("%1:%2").arg(h).arg(port);
}

}  // namespace

EngineBridge::EngineBridge(QObject* parent)
    : QObject(parent), engine_(std::make_unique<runtime::Engine>()) {
  qRegisterMetaType<std::shared_ptr<const archway::metrics::StatsFrame>>();
  qRegisterMetaType<archway::models::EngineBridge::State>();
  errorLogToken_ = engine_->subscribeErrorLog([this](const core::log::Record& record) {
    if (errorRecords_.add(record))
      QMetaObject::invokeMethod(this, &EngineBridge::deliverErrorLog, Qt::QueuedConnection);
  });
}

EngineBridge::~EngineBridge() {
  // First: the callback uses members destroyed before engine_.
  engine_->unsubscribe(errorLogToken_);
  stop();
}

void EngineBridge::deliverErrorLog() {
  auto records = errorRecords_.take();
  if (!records.empty()) emit errorLogRecords(records);
}

QString EngineBridge::start(const BridgeOptions& options) {
  if (state_ == State::running) return {};
  options_ = options;

  std::uint16_t demoPort = 0;
  if (options.demoListen != "off" && !options.demoListen.empty()) {
    HostPort listen;
    if (!splitHostPort(options.demoListen, listen)) {
      setState(State::failed, QStringLiteral("demo-listen: expected ADDR:PORT or off, got '%1'")
                                  .arg(QString::fromStdString(options.demoListen)));
      return lastError_;
    }
    demo_ = std::make_unique<demo::DemoServer>();
    auto bound = demo_->start(listen.host, listen.port);
    if (!bound) {
      demo_.reset();
      setState(State::failed,
               QStringLiteral("demo-listen: %1").arg(QString::fromStdString(bound.errorText())));
      return lastError_;
    }
    demoPort = *bound;
  }

  auto loaded = runtime::loadInitialConfig(options.source);
  if (!loaded) {
    if (demo_) demo_->stop();
    demo_.reset();
    setState(State::failed, QString::fromStdString(loaded.errorText()));
    return lastError_;
  }
  core::Config config = std::move(loaded.value());
  runtime::EngineOptions engineOptions = options.engine;
  if (options.source.configFile.empty()) {
    // The console's store: changes made through the Admin API are kept across restarts.
    engineOptions.store =
        options.source.db.empty() ? "sqlite:" + runtime::defaultDatabasePath() : options.source.db;
  }

  HostPort named;
  if (demoPort != 0 && splitHostPort(options.demoConfigAddress, named) && named.port != demoPort) {
    for (auto& service : config.services) {
      if (service.port == named.port && isLoopbackName(service.host) &&
          isLoopbackName(named.host)) {
        service.port = demoPort;
      }
    }
  }

  // Subscriptions before start so the first frames and the `started` event are not missed.
  statsToken_ = engine_->subscribeStats(
      [this](std::shared_ptr<const metrics::StatsFrame> frame) { onStatsFrame(std::move(frame)); });
  eventsToken_ = engine_->subscribeEvents([this](const runtime::EngineEvent& event) {
    const int kind = static_cast<int>(event.kind);
    const QString message = QString::fromStdString(event.message);
    // `this` as context: if the bridge is gone the call is dropped, never run on a dead object.
    QMetaObject::invokeMethod(
        this, [this, kind, message] { emit engineEvent(kind, message); }, Qt::QueuedConnection);
  });

  accessToken_ = engine_->subscribeAccessLog([this](std::string_view line) { onAccessLine(line); });

  auto started = engine_->start(engineOptions, std::move(config));
  if (!started) {
    engine_->unsubscribe(statsToken_);
    engine_->unsubscribe(eventsToken_);
    engine_->unsubscribe(accessToken_);
    statsToken_ = eventsToken_ = accessToken_ = -1;
    if (demo_) demo_->stop();
    demo_.reset();
    setState(State::failed, QString::fromStdString(started.errorText()));
    return lastError_;
  }
  setState(State::running);
  return {};
}

void EngineBridge::stop(std::chrono::milliseconds drain) {
  // Order: the engine first (joins the stats thread, so no callback runs after this), then the
  // demo upstream it was proxying to.
  if (engine_->running()) engine_->stop(drain);
  if (statsToken_ >= 0) engine_->unsubscribe(statsToken_);
  if (eventsToken_ >= 0) engine_->unsubscribe(eventsToken_);
  if (accessToken_ >= 0) engine_->unsubscribe(accessToken_);
  statsToken_ = eventsToken_ = accessToken_ = -1;
  if (demo_) {
    demo_->stop();
    demo_.reset();
  }
  {
    std::lock_guard lock(pendingMutex_);
    pending_.reset();
  }
  {
    std::lock_guard lock(linesMutex_);
    lines_.clear();
  }
  if (state_ == State::running) setState(State::stopped);
}

void EngineBridge::onStatsFrame(std::shared_ptr<const metrics::StatsFrame> frame) {
  {
    std::lock_guard lock(pendingMutex_);
    pending_ = std::move(frame);
    if (posted_) return;
    posted_ = true;
  }
  QMetaObject::invokeMethod(this, &EngineBridge::deliverStats, Qt::QueuedConnection);
}

void EngineBridge::deliverStats() {
  std::shared_ptr<const metrics::StatsFrame> frame;
  {
    std::lock_guard lock(pendingMutex_);
    frame = std::move(pending_);
    pending_.reset();
    posted_ = false;
  }
  if (frame) emit statsUpdated(frame);
}

void EngineBridge::onAccessLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  QString text = QString::fromUtf8(line.data(), static_cast<qsizetype>(line.size()));
  {
    std::lock_guard lock(linesMutex_);
    lines_.push_back(std::move(text));
    while (lines_.size() > kMaxPendingLines) lines_.pop_front();
    if (linesPosted_) return;
    linesPosted_ = true;
  }
  QMetaObject::invokeMethod(this, &EngineBridge::deliverAccessLog, Qt::QueuedConnection);
}

void EngineBridge::deliverAccessLog() {
  QStringList lines;
  {
    std::lock_guard lock(linesMutex_);
    lines.reserve(static_cast<qsizetype>(lines_.size()));
    for (auto& l : lines_) lines.push_back(std::move(l));
    lines_.clear();
    linesPosted_ = false;
  }
  if (!lines.isEmpty()) emit accessLogLines(lines);
}

void EngineBridge::setState(State state, const QString& error) {
  lastError_ = error;
  if (state_ == state) return;
  state_ = state;
  emit stateChanged(state);
}

QString EngineBridge::hostOf(const std::string& listen) {
  // The first listener of a comma-separated list; the bridge shows where the console can reach
  // the gateway, so a wildcard bind is shown as loopback.
  std::string first = listen.substr(0, listen.find(','));
  HostPort hp;
  if (!splitHostPort(first.substr(0, first.find(' ')), hp)) return QStringLiteral("127.0.0.1");
  if (hp.host == "0.0.0.0" || hp.host.empty()) return QStringLiteral("127.0.0.1");
  if (hp.host == "::") return QStringLiteral("::1");
  return QString::fromStdString(hp.host);
}

QString EngineBridge::proxyAddress() const {
  if (state_ != State::running) return {};
  return joinHostPort(hostOf(options_.engine.proxyListen), engine_->proxyPort());
}

QString EngineBridge::adminAddress() const {
  if (state_ != State::running || engine_->adminPort() == 0) return {};
  return joinHostPort(hostOf(options_.engine.adminListen), engine_->adminPort());
}

QString EngineBridge::demoAddress() const {
  if (!demo_) return {};
  return joinHostPort(hostOf(options_.demoListen), demo_->port());
}

std::vector<trace::FinishedTrace> EngineBridge::recentTraces(const trace::TraceQuery& query) const {
  if (state_ != State::running) return {};
  return engine_->recentTraces(query);
}

std::uint16_t EngineBridge::proxyPort() const {
  return state_ == State::running ? engine_->proxyPort() : 0;
}

std::uint16_t EngineBridge::demoPort() const {
  return demo_ ? demo_->port() : 0;
}

}  // namespace archway::models
