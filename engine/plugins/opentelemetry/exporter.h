#pragma once
// The opentelemetry plugin's export pipeline: workers hand finished traces to an Exporter
// (lock-free bounded queue, never blocks; a full queue drops and counts), and the exporter's
// own sender thread batches them, encodes OTLP protobuf and POSTs them to the collector,
// retrying failed batches with exponential backoff as Kong's queue does
// (kong/tools/queue.lua: initial_retry_delay doubling up to max_retry_delay, giving up after
// max_retry_time).
//
// Exporters outlive config snapshots: the ExporterRegistry (a CompileEnv::persistent()
// object) shares one exporter between every plugin instance with the same settings, so a
// config reload neither restarts the thread nor loses queued traces.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "plugins/opentelemetry/bounded_queue.h"
#include "plugins/opentelemetry/http_poster.h"
#include "trace/finished_trace.h"
#include "trace/otlp.h"

namespace archway::plugins::otel {

struct ExporterConfig {
  HttpUrl endpoint;
  std::string endpointText;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  trace::Attributes resource;                                // resource attributes, merged
  std::string scopeVersion = "0.1.0";
  // Kong's queue{}: a batch is sent once it holds max_batch_size spans (whole traces, so it
  // may exceed it by one trace's spans) or max_coalescing_delay after its first trace came.
  std::size_t maxBatchSpans = 200;
  double maxCoalescingDelay = 1;    // seconds
  std::size_t maxEntries = 10000;   // traces waiting (Kong counts spans; see the plugin doc)
  double maxRetryTime = 60;         // seconds; negative: never retry
  double initialRetryDelay = 0.01;  // seconds
  double maxRetryDelay = 60;        // seconds
  HttpPoster::Timeouts timeouts;

  // Everything above, as one string: exporters with equal keys are shared.
  std::string key() const;
};

class Exporter {
 public:
  explicit Exporter(ExporterConfig config);  // starts the sender thread
  // Stops the thread after one last attempt to send what is queued (no retries), and joins.
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Any thread, lock-free (a worker in the log phase). Copies the trace; false when the queue
  // is full (the trace is dropped and counted).
  bool enqueue(const trace::FinishedTrace& t);

  // Asks the sender to finish (flush once, exit) without waiting for it.
  void requestStop();
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  struct Counters {
    std::uint64_t enqueued = 0, droppedFull = 0;  // by workers
    std::uint64_t sentTraces = 0, sentBatches = 0, failedBatches = 0, droppedTraces = 0;
  };
  Counters counters() const;
  const ExporterConfig& config() const { return config_; }

 private:
  using Item = std::unique_ptr<trace::FinishedTrace>;
  void run();
  // Sends one batch, retrying while allowed. Returns when sent or given up.
  void send(std::vector<Item>& batch, bool finalFlush, HttpPoster& poster);
  bool sleepUnlessStopped(std::chrono::steady_clock::duration d);

  ExporterConfig config_;
  BoundedQueue<Item> queue_;
  std::atomic<std::uint64_t> enqueued_{0}, droppedFull_{0};
  std::atomic<std::uint64_t> sentTraces_{0}, sentBatches_{0}, failedBatches_{0}, droppedTraces_{0};
  // Only the sender thread and stop requests use these (never a worker).
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// Shares exporters between plugin instances and reload generations. compile() runs on the
// control thread; the mutex is never taken on the request path.
class ExporterRegistry {
 public:
  ~ExporterRegistry();
  // The exporter for `config`, started on first use. Exporters no instance uses any more are
  // asked to stop here and joined once they have finished.
  std::shared_ptr<Exporter> get(const ExporterConfig& config);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Exporter>> live_;
  std::vector<std::shared_ptr<Exporter>> retiring_;
};

}  // namespace archway::plugins::otel
