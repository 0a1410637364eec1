#pragma once
// Kong's plugin queue (kong/tools/queue.lua, kong-reference §5.9) for log shipping: workers
// enqueue serialized entries, one sender thread per queue takes them out in batches and hands
// each batch to a Handler (write a file, POST to an HTTP endpoint, ...), retrying failed
// batches with exponential backoff.
//
// Kong's semantics, kept here:
// - a batch starts with the first queued entry and grows until it has max_batch_size entries
//   or max_coalescing_delay seconds have passed since that first entry (a wait shorter than
//   50 ms is not started);
// - at most max_entries entries (and max_bytes bytes, when set) wait on the queue; when a new
//   entry does not fit, the oldest entries are dropped to make room, and the sender logs how
//   many were lost; an entry longer than max_bytes is refused;
// - a failed batch is retried after initial_retry_delay, doubling up to max_retry_delay, until
//   max_retry_time seconds have passed since its first attempt; then it is dropped and logged;
// - entries in a batch being sent no longer count against max_entries.
// Deviation: concurrency_limit -1 (Kong: one timer per entry, unbounded) runs the same single
// sender with batches of one.
//
// Threads: enqueue() is for the workers: it never blocks, never takes a mutex and does not log
// (one allocation: the entry). Everything else is the control thread's or the sender's. The
// ring is a bounded multi-producer multi-consumer array (Vyukov's); producers act as a second
// consumer only to drop the oldest entry.
//
// Lifetime: a LogQueue owns its sender thread through a shared core, so destroying the last
// handle (on whatever thread drops the last config snapshot) never blocks: the sender sends
// what is left, bounded by the stop grace, then exits by itself. shutdownQueues() stops and
// joins every sender: for the engine to call once its workers stopped, and run at process exit.
#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "plugins/plugin.h"
#include "plugins/schema.h"

namespace archway::plugins::log {

struct QueueSettings {
  int maxBatchSize = 1;
  double maxCoalescingDelay = 1;  // seconds
  int maxEntries = 10000;
  std::optional<std::int64_t> maxBytes;
  double maxRetryTime = 60;  // seconds; negative: no retries
  double initialRetryDelay = 0.01;
  double maxRetryDelay = 60;
  int concurrencyLimit = 1;  // 1 or -1
  // Not Kong's: take entries that are already queued into the batch even when the coalescing
  // delay is spent (used by the plugins whose Kong versions have no queue at all).
  bool drainAvailable = false;
  // How long a stopping queue keeps retrying failed batches before dropping them.
  std::chrono::milliseconds stopGrace{5000};

  bool operator==(const QueueSettings&) const = default;
};

// Kong's `queue` record (typedefs.queue = kong/tools/queue_schema.lua).
schema::Field queueField();
// Reads a validated `queue` record.
QueueSettings queueSettingsFromJson(const boost::json::object& queue);

// One queued log entry: the text and a small tag the plugin chose (syslog: the status).
// One allocation holds the header and the text right after it.
class Entry {
 public:
  static Entry* make(std::string_view text, int tag);
  static void destroy(const Entry* e) noexcept;
  std::string_view text() const { return {reinterpret_cast<const char*>(this + 1), size_}; }
  int tag() const { return tag_; }

 private:
  Entry(std::size_t size, int tag) : size_(size), tag_(tag) {}
  std::size_t size_;
  int tag_;
};

// What a queue does with a batch, on its sender thread. Returns true when the batch was
// processed; false (with `error` set) to have the queue retry it.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual bool send(std::span<const Entry* const> batch, std::string& error) = 0;
};

class QueueCore;

class LogQueue {
 public:
  // `name` identifies the queue in logs ("http-log plugin <id>"). Starts the sender thread.
  LogQueue(std::string name, QueueSettings settings, std::shared_ptr<Handler> handler);
  ~LogQueue();  // asks the sender to finish; never blocks
  LogQueue(const LogQueue&) = delete;
  LogQueue& operator=(const LogQueue&) = delete;

  // Worker side. False when the entry was refused (longer than max_bytes, or the queue has
  // stopped); the refusal is counted and logged by the sender.
  bool enqueue(std::string_view text, int tag = 0);

  // Kong uses the newest handler configuration it has seen for a queue: reloads call this.
  void setHandler(std::shared_ptr<Handler> handler);
  const QueueSettings& settings() const;
  bool stopped() const;

  struct Stats {
    std::uint64_t enqueued = 0;   // accepted by enqueue()
    std::uint64_t dropped = 0;    // dropped to make room (queue full) or refused
    std::uint64_t processed = 0;  // entries in batches the handler accepted
    std::uint64_t lost = 0;       // entries in batches given up after retries
    std::uint64_t batches = 0;    // handler calls that succeeded
    std::uint64_t failures = 0;   // handler calls that failed
  };
  Stats stats() const;
  std::size_t size() const;  // entries waiting (approximate while producers run)

  // For tests: true once nothing is queued or being sent, within `timeout`.
  bool waitIdle(std::chrono::milliseconds timeout) const;

 private:
  std::shared_ptr<QueueCore> core_;
};

// The queue for plugin entity `key` (its id) from the persistent objects, so entries waiting
// on it survive config reloads. An existing queue with the same settings is reused and gets
// `handler`; different settings give a new queue (the old one sends what it holds and stops
// when the old snapshot goes). Control thread only.
std::shared_ptr<LogQueue> obtainQueue(CompileEnv& env, const std::string& key,
                                      const std::string& name, const QueueSettings& settings,
                                      std::shared_ptr<Handler> handler);

// Stops every queue's sender (each sends what it holds, bounded by its stop grace) and joins
// the threads. Safe to call more than once and from any non-worker thread; queues created
// afterwards start new senders.
void shutdownQueues();

}  // namespace archway::plugins::log
