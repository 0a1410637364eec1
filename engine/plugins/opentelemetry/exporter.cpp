#include "plugins/opentelemetry/exporter.h"

#include <algorithm>

#include "core/log.h"

namespace archway::plugins::otel {
namespace {
using Clock = std::chrono::steady_clock;

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}
}  // namespace

std::string ExporterConfig::key() const {
  std::string k = endpointText;
  auto add = [&k](std::string_view s) {
    k += '\x1f';
    k += s;
  };
  for (const auto& [n, v] : headers) {
    add(n);
    add(v);
  }
  add("|");
  for (const auto& [n, v] : resource) {
    add(n);
    add(v);
  }
  add(scopeVersion);
  for (double d : {double(maxBatchSpans), maxCoalescingDelay, double(maxEntries), maxRetryTime,
                   initialRetryDelay, maxRetryDelay, double(timeouts.connectMs),
                   double(timeouts.sendMs), double(timeouts.readMs)}) {
    add(std::to_string(d));
  }
  return k;
}

Exporter::Exporter(ExporterConfig config)
    : config_(std::move(config)), queue_(std::max<std::size_t>(config_.maxEntries, 2)) {
  thread_ = std::thread([this] { run(); });
}

Exporter::~Exporter() {
  requestStop();
  if (thread_.joinable()) thread_.join();
}

void Exporter::requestStop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool Exporter::enqueue(const trace::FinishedTrace& t) {
  // One allocation per exported trace (sampled requests only); freed by the sender.
  Item item = std::make_unique<trace::FinishedTrace>(t);
  if (!queue_.tryPush(item)) {
    droppedFull_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  enqueued_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

Exporter::Counters Exporter::counters() const {
  Counters c;
  c.enqueued = enqueued_.load(std::memory_order_relaxed);
  c.droppedFull = droppedFull_.load(std::memory_order_relaxed);
  c.sentTraces = sentTraces_.load(std::memory_order_relaxed);
  c.sentBatches = sentBatches_.load(std::memory_order_relaxed);
  c.failedBatches = failedBatches_.load(std::memory_order_relaxed);
  c.droppedTraces = droppedTraces_.load(std::memory_order_relaxed);
  return c;
}

bool Exporter::sleepUnlessStopped(Clock::duration d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_; });
}

void Exporter::run() {
  HttpPoster poster(config_.endpoint, config_.timeouts);
  std::vector<Item> batch;
  std::size_t spans = 0;
  Clock::time_point first{};
  const Clock::duration delay = seconds(config_.maxCoalescingDelay);
  // Workers never signal the sender (that would take its mutex on the request path), so it
  // polls the queue: a few times per coalescing delay, at least every 50 ms.
  const Clock::duration tick = std::clamp<Clock::duration>(delay / 4, std::chrono::milliseconds(1),
                                                           std::chrono::milliseconds(50));
  for (;;) {
    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stop_;
    }
    Item item;
    while (spans < config_.maxBatchSpans && queue_.tryPop(item)) {
      if (batch.empty()) first = Clock::now();
      spans += trace::otlpSpanCount(*item);
      batch.push_back(std::move(item));
    }
    if (!batch.empty() &&
        (spans >= config_.maxBatchSpans || Clock::now() - first >= delay || stopping)) {
      send(batch, stopping, poster);
      batch.clear();
      spans = 0;
      continue;
    }
    if (stopping) break;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, tick, [this] { return stop_; });
  }
  finished_.store(true, std::memory_order_release);
}

void Exporter::send(std::vector<Item>& batch, bool finalFlush, HttpPoster& poster) {
  std::vector<const trace::FinishedTrace*> traces;
  traces.reserve(batch.size());
  for (const auto& t : batch) traces.push_back(t.get());
  const std::string body =
      trace::encodeExportRequest(traces, config_.resource, config_.scopeVersion);
  const auto started = Clock::now();
  double retryDelay = config_.initialRetryDelay;
  for (;;) {
    auto r = poster.post("application/x-protobuf", config_.headers, body);
    if (r.status >= 200 && r.status < 300) {
      sentBatches_.fetch_add(1, std::memory_order_relaxed);
      sentTraces_.fetch_add(batch.size(), std::memory_order_relaxed);
      return;
    }
    std::string why = r.status != 0 ? "response error: " + std::to_string(r.status) +
                                          ", body: " + r.body.substr(0, 512)
                                    : r.error;
    core::log::error("opentelemetry: failed to export traces",
                     {{"endpoint", config_.endpointText},
                      {"error", why},
                      {"traces", std::to_string(batch.size())}});
    // OTLP/HTTP: only throttling, server errors and transport failures are worth retrying.
    const bool retryable = r.status == 0 || r.status == 408 || r.status == 429 || r.status >= 500;
    const bool inTime = config_.maxRetryTime >= 0 && Clock::now() - started + seconds(retryDelay) <=
                                                         seconds(config_.maxRetryTime);
    if (!retryable || finalFlush || !inTime) {
      failedBatches_.fetch_add(1, std::memory_order_relaxed);
      droppedTraces_.fetch_add(batch.size(), std::memory_order_relaxed);
      return;
    }
    // Stopping while waiting: one last attempt right away, then give up.
    if (!sleepUnlessStopped(seconds(retryDelay))) finalFlush = true;
    retryDelay = std::min(retryDelay * 2, config_.maxRetryDelay);
  }
}

ExporterRegistry::~ExporterRegistry() {
  std::lock_guard lock(mu_);
  for (auto& [k, e] : live_) e->requestStop();
  for (auto& e : retiring_) e->requestStop();
  live_.clear();  // joins exporters nobody else holds
  retiring_.clear();
}

std::shared_ptr<Exporter> ExporterRegistry::get(const ExporterConfig& config) {
  std::lock_guard lock(mu_);
  // Join retired exporters that have flushed; those still flushing are kept for later.
  std::erase_if(retiring_, [](const std::shared_ptr<Exporter>& e) {
    return e->finished() && e.use_count() == 1;
  });
  const std::string key = config.key();
  for (auto it = live_.begin(); it != live_.end();) {
    if (it->first != key && it->second.use_count() == 1) {
      it->second->requestStop();
      retiring_.push_back(std::move(it->second));
      it = live_.erase(it);
    } else {
      ++it;
    }
  }
  auto& slot = live_[key];
  if (!slot) slot = std::make_shared<Exporter>(config);
  return slot;
}

}  // namespace archway::plugins::otel
