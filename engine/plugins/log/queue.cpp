#include "plugins/log/queue.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "core/log.h"

namespace archway::plugins::log {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------------------ schema

schema::Field queueField() {
  using namespace schema;
  return record(
      "queue",
      {
          integer("max_batch_size")
              .def(1)
              .between(1, 1000000)
              .describe("Maximum number of entries that can be processed at a time."),
          number("max_coalescing_delay")
              .def(1)
              .between(0, 3600)
              .describe("Maximum number of (fractional) seconds to elapse after the first entry "
                        "was queued before the queue starts calling the handler."),
          integer("max_entries")
              .def(10000)
              .between(1, 1000000)
              .describe("Maximum number of entries that can be waiting on the queue."),
          integer("max_bytes")
              .describe("Maximum number of bytes that can be waiting on a queue, requires string "
                        "content."),
          number("max_retry_time")
              .def(60)
              .describe("Time in seconds before the queue gives up calling a failed handler "
                        "for a batch."),
          number("initial_retry_delay")
              .def(0.01)
              .between(0.001, 1000000)
              .describe("Time in seconds before the initial retry is made for a failing batch."),
          number("max_retry_delay")
              .def(60)
              .between(0.001, 1000000)
              .describe("Maximum time in seconds between retries, caps exponential backoff."),
          // Kong: one_of = { -1, 1 } on an integer; the DSL's one_of is for strings.
          integer("concurrency_limit")
              .def(1)
              .validate([](const json::value& v) -> std::string {
                if (v.is_int64() && (v.as_int64() == 1 || v.as_int64() == -1)) return {};
                return "expected one of: -1, 1";
              })
              .describe("The number of of queue delivery timers. -1 indicates unlimited."),
      });
}

namespace {

double numberOr(const json::object& o, std::string_view key, double dflt) {
  auto it = o.find(key);
  if (it == o.end()) return dflt;
  const auto& v = it->value();
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return dflt;
}

}  // namespace

QueueSettings queueSettingsFromJson(const json::object& q) {
  QueueSettings s;
  s.maxBatchSize = static_cast<int>(numberOr(q, "max_batch_size", s.maxBatchSize));
  s.maxCoalescingDelay = numberOr(q, "max_coalescing_delay", s.maxCoalescingDelay);
  s.maxEntries = static_cast<int>(numberOr(q, "max_entries", s.maxEntries));
  if (auto it = q.find("max_bytes"); it != q.end() && !it->value().is_null())
    s.maxBytes = static_cast<std::int64_t>(numberOr(q, "max_bytes", 0));
  s.maxRetryTime = numberOr(q, "max_retry_time", s.maxRetryTime);
  s.initialRetryDelay = numberOr(q, "initial_retry_delay", s.initialRetryDelay);
  s.maxRetryDelay = numberOr(q, "max_retry_delay", s.maxRetryDelay);
  s.concurrencyLimit = static_cast<int>(numberOr(q, "concurrency_limit", s.concurrencyLimit));
  return s;
}

// ------------------------------------------------------------------------------- entry

Entry* Entry::make(std::string_view text, int tag) {
  void* mem = ::operator new(sizeof(Entry) + text.size());
  Entry* e = new (mem) Entry(text.size(), tag);
  if (!text.empty()) std::memcpy(reinterpret_cast<char*>(e + 1), text.data(), text.size());
  return e;
}

void Entry::destroy(const Entry* e) noexcept {
  if (!e) return;
  e->~Entry();
  ::operator delete(const_cast<Entry*>(e));
}

// -------------------------------------------------------------------------------- core

class QueueCore {
 public:
  QueueCore(std::string name, QueueSettings settings, std::shared_ptr<Handler> handler)
      : name_(std::move(name)),
        settings_(settings),
        capacity_(static_cast<std::uint64_t>(std::max(settings.maxEntries, 1)) + 1),
        cells_(new Cell[capacity_]),
        handler_(std::move(handler)) {
    for (std::uint64_t i = 0; i < capacity_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
    sem_init(&sem_, 0, 0);
  }

  ~QueueCore() {
    while (const Entry* e = pop()) Entry::destroy(e);
    sem_destroy(&sem_);
  }

  const std::string& name() const { return name_; }
  const QueueSettings& settings() const { return settings_; }

  bool enqueue(std::string_view text, int tag) {
    if (stopping_.load(std::memory_order_relaxed)) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    const auto len = static_cast<std::int64_t>(text.size());
    if (settings_.maxBytes && len > *settings_.maxBytes) {
      tooLarge_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    Entry* e = Entry::make(text, tag);
    // Bounded: each round either queues the entry or drops one old entry; a producer racing
    // the sender and other producers may need a few.
    for (int round = 0; round < 64; ++round) {
      if (size() >= static_cast<std::uint64_t>(settings_.maxEntries) ||
          (settings_.maxBytes &&
           bytes_.load(std::memory_order_relaxed) + len > *settings_.maxBytes)) {
        if (const Entry* old = pop()) {
          dropOldest(old);
          continue;
        }
      }
      bytes_.fetch_add(len, std::memory_order_relaxed);
      if (push(e)) {
        enqueued_.fetch_add(1, std::memory_order_relaxed);
        wake();
        return true;
      }
      bytes_.fetch_sub(len, std::memory_order_relaxed);
      if (const Entry* old = pop()) dropOldest(old);
    }
    Entry::destroy(e);
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  void setHandler(std::shared_ptr<Handler> h) {
    std::lock_guard lock(handlerMu_);
    handler_ = std::move(h);
  }

  void requestStop() {
    auto deadline = Clock::now() + settings_.stopGrace;
    stopDeadlineNs_.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
    stopping_.store(true, std::memory_order_seq_cst);
    sem_post(&sem_);
  }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  std::uint64_t size() const {
    auto e = enq_.load(std::memory_order_acquire);
    auto d = deq_.load(std::memory_order_acquire);
    return e > d ? e - d : 0;
  }
  bool busy() const { return busy_.load(std::memory_order_acquire); }

  LogQueue::Stats stats() const {
    LogQueue::Stats s;
    s.enqueued = enqueued_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed) +
                refused_.load(std::memory_order_relaxed) +
                tooLarge_.load(std::memory_order_relaxed);
    s.processed = processed_.load(std::memory_order_relaxed);
    s.lost = lost_.load(std::memory_order_relaxed);
    s.batches = batches_.load(std::memory_order_relaxed);
    s.failures = failures_.load(std::memory_order_relaxed);
    return s;
  }

  // The sender thread's body.
  void run() {
    std::vector<const Entry*> batch;
    const int maxBatch = settings_.concurrencyLimit == -1 ? 1 : settings_.maxBatchSize;
    batch.reserve(static_cast<std::size_t>(std::min(maxBatch, 4096)));
    for (;;) {
      report();
      busy_.store(true, std::memory_order_release);
      const Entry* first = pop();
      if (!first) {
        busy_.store(false, std::memory_order_release);
        if (stopping()) break;
        waitForEntries(Clock::now() + std::chrono::seconds(1));
        continue;
      }
      if (stopping() && Clock::now() >= stopDeadline()) {
        // The stop grace is spent: what is left goes without another attempt.
        std::uint64_t n = 0;
        for (const Entry* e = first; e; e = pop(), ++n) Entry::destroy(e);
        lost_.fetch_add(n, std::memory_order_relaxed);
        busy_.store(false, std::memory_order_release);
        err("queue stopped before sending its entries. " + std::to_string(n) +
            " queue entries were lost");
        break;
      }
      batch.push_back(first);
      collect(batch, maxBatch);
      if (resumeLog_) {
        info("queue resumed processing");
        resumeLog_ = false;
      }
      handle(batch);
      for (const Entry* e : batch) Entry::destroy(e);
      batch.clear();
      busy_.store(false, std::memory_order_release);
    }
    report();
  }

 private:
  struct Cell {
    std::atomic<std::uint64_t> seq{0};
    const Entry* entry = nullptr;
  };

  // Vyukov's bounded MPMC ring, with any capacity >= 2 (index by modulo).
  bool push(const Entry* e) {
    std::uint64_t pos = enq_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos % capacity_];
      std::uint64_t seq = c.seq.load(std::memory_order_acquire);
      auto dif = static_cast<std::int64_t>(seq - pos);
      if (dif == 0) {
        if (enq_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.entry = e;
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (dif < 0) {
        return false;  // full
      } else {
        pos = enq_.load(std::memory_order_relaxed);
      }
    }
  }

  const Entry* pop() {
    std::uint64_t pos = deq_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos % capacity_];
      std::uint64_t seq = c.seq.load(std::memory_order_acquire);
      auto dif = static_cast<std::int64_t>(seq - (pos + 1));
      if (dif == 0) {
        if (deq_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          const Entry* e = c.entry;
          c.seq.store(pos + capacity_, std::memory_order_release);
          bytes_.fetch_sub(static_cast<std::int64_t>(e->text().size()), std::memory_order_relaxed);
          return e;
        }
      } else if (dif < 0) {
        return nullptr;  // empty (or the next entry is still being written)
      } else {
        pos = deq_.load(std::memory_order_relaxed);
      }
    }
  }

  void dropOldest(const Entry* e) {
    Entry::destroy(e);
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }

  // Producer side of the wake-up: a semaphore post only when the sender sleeps, so a busy
  // queue costs no system call per entry. The fences pair with waitForEntries().
  void wake() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false)) sem_post(&sem_);
  }

  void waitForEntries(Clock::time_point until) {
    sleeping_.store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (enq_.load(std::memory_order_seq_cst) == deq_.load(std::memory_order_seq_cst) &&
        !stopping()) {
      timedWait(until);
    }
    sleeping_.store(false, std::memory_order_seq_cst);
  }

  void timedWait(Clock::time_point until) {
    auto ns = until.time_since_epoch().count();
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1000000000);
    ts.tv_nsec = static_cast<long>(ns % 1000000000);
    while (sem_clockwait(&sem_, CLOCK_MONOTONIC, &ts) != 0 && errno == EINTR) {
    }
  }

  Clock::time_point stopDeadline() const {
    return Clock::time_point(Clock::duration(stopDeadlineNs_.load(std::memory_order_relaxed)));
  }

  // Sleeps until `until`; cut short when the queue stops and its grace has run out.
  void pause(Clock::time_point until) {
    for (;;) {
      auto now = Clock::now();
      if (now >= until) return;
      auto limit = until;
      if (stopping()) {
        limit = std::min(until, stopDeadline());
        if (now >= limit) return;
      }
      timedWait(limit);
    }
  }

  static double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  }

  // Kong's process_once coalescing: more entries until the batch is full or the coalescing
  // delay since the first entry is spent (a remaining wait under 50 ms is not started).
  void collect(std::vector<const Entry*>& batch, int maxBatch) {
    static constexpr double kCoalesceMin = 0.05;
    static constexpr double kPollMax = 1.0;
    auto started = Clock::now();
    while (static_cast<int>(batch.size()) < maxBatch) {
      if (settings_.drainAvailable || stopping()) {
        if (const Entry* e = pop()) {
          batch.push_back(e);
          continue;
        }
        if (stopping()) return;
      }
      double remaining = settings_.maxCoalescingDelay - secondsSince(started);
      if (remaining < kCoalesceMin) return;
      if (const Entry* e = pop()) {
        batch.push_back(e);
        continue;
      }
      auto wait = std::chrono::duration<double>(std::min(remaining, kPollMax));
      waitForEntries(Clock::now() + std::chrono::duration_cast<Clock::duration>(wait));
    }
  }

  // Kong's handle(): retries with exponential backoff until max_retry_time has passed.
  void handle(const std::vector<const Entry*>& batch) {
    auto start = Clock::now();
    const auto n = batch.size();
    for (int retry = 0;; ++retry) {
      std::shared_ptr<Handler> h;
      {
        std::lock_guard lock(handlerMu_);
        h = handler_;
      }
      std::string error;
      bool ok = false;
      if (h) {
        try {
          ok = h->send(std::span<const Entry* const>(batch.data(), n), error);
        } catch (const std::exception& ex) {
          error = ex.what();
        }
      } else {
        error = "no handler";
      }
      if (ok) {
        processed_.fetch_add(n, std::memory_order_relaxed);
        batches_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      failures_.fetch_add(1, std::memory_order_relaxed);
      warn("handler could not process entries: " +
           (error.empty() ? std::string("no error details returned by handler") : error));
      if (secondsSince(start) > settings_.maxRetryTime) {
        lost_.fetch_add(n, std::memory_order_relaxed);
        err("could not send entries due to max_retry_time exceeded. " + std::to_string(n) +
            " queue entries were lost");
        return;
      }
      if (stopping() && Clock::now() >= stopDeadline()) {
        lost_.fetch_add(n, std::memory_order_relaxed);
        err("could not send entries before the queue stopped. " + std::to_string(n) +
            " queue entries were lost");
        return;
      }
      double delay =
          std::min(settings_.maxRetryDelay, std::pow(2.0, retry) * settings_.initialRetryDelay);
      pause(Clock::now() +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay)));
    }
  }

  // Drops and refusals are counted by the producers and logged here, off the request path.
  void report() {
    auto dropped = dropped_.load(std::memory_order_relaxed);
    if (dropped != reportedDropped_) {
      err("queue full, dropping old entries until processing is successful again",
          {"dropped", std::to_string(dropped - reportedDropped_)});
      reportedDropped_ = dropped;
      resumeLog_ = true;
    }
    auto tooLarge = tooLarge_.load(std::memory_order_relaxed);
    if (tooLarge != reportedTooLarge_) {
      err("string to be queued is longer than the queue's max_bytes (" +
              std::to_string(settings_.maxBytes.value_or(0)) + " bytes)",
          {"refused", std::to_string(tooLarge - reportedTooLarge_)});
      reportedTooLarge_ = tooLarge;
    }
    bool high = static_cast<double>(size()) >= settings_.maxEntries * 0.8;
    if (high && !warnedCapacity_) warn("queue at 80% capacity");
    warnedCapacity_ = high;
  }

  void warn(const std::string& m) { core::log::warn(m, {{"queue", name_}}); }
  void info(const std::string& m) { core::log::info(m, {{"queue", name_}}); }
  void err(const std::string& m, core::log::Field extra = {"", ""}) {
    if (extra.first.empty())
      core::log::error(m, {{"queue", name_}});
    else
      core::log::error(m, {{"queue", name_}, std::move(extra)});
  }

  const std::string name_;
  const QueueSettings settings_;
  const std::uint64_t capacity_;
  std::unique_ptr<Cell[]> cells_;

  alignas(64) std::atomic<std::uint64_t> enq_{0};
  alignas(64) std::atomic<std::uint64_t> deq_{0};
  alignas(64) std::atomic<std::int64_t> bytes_{0};
  std::atomic<std::uint64_t> enqueued_{0}, dropped_{0}, refused_{0}, tooLarge_{0};
  alignas(64) std::atomic<bool> sleeping_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<Clock::rep> stopDeadlineNs_{0};
  std::atomic<bool> busy_{false};
  std::atomic<std::uint64_t> processed_{0}, lost_{0}, batches_{0}, failures_{0};
  sem_t sem_;

  std::mutex handlerMu_;  // sender and control thread only
  std::shared_ptr<Handler> handler_;

  // Sender thread only.
  std::uint64_t reportedDropped_ = 0, reportedTooLarge_ = 0;
  bool warnedCapacity_ = false;
  bool resumeLog_ = false;
};

// ---------------------------------------------------------------------------- registry

namespace {

// Every sender thread, so shutdownQueues() (or process exit) can stop and join them.
class Registry {
 public:
  static Registry& instance() {
    static Registry r;
    return r;
  }

  void add(const std::shared_ptr<QueueCore>& core, std::thread t) {
    std::vector<std::thread> done;
    {
      std::lock_guard lock(mu_);
      // Reap senders that finished (their queue was released and drained).
      for (auto it = senders_.begin(); it != senders_.end();) {
        if (it->core.expired()) {
          done.push_back(std::move(it->thread));
          it = senders_.erase(it);
        } else {
          ++it;
        }
      }
      senders_.push_back({core, std::move(t)});
    }
    for (auto& d : done) d.join();
  }

  void shutdown() {
    std::vector<Sender> all;
    {
      std::lock_guard lock(mu_);
      all.swap(senders_);
    }
    for (auto& s : all) {
      if (auto c = s.core.lock()) c->requestStop();
    }
    for (auto& s : all) {
      if (s.thread.joinable()) s.thread.join();
    }
  }

  ~Registry() { shutdown(); }

 private:
  struct Sender {
    std::weak_ptr<QueueCore> core;
    std::thread thread;
  };
  std::mutex mu_;
  std::vector<Sender> senders_;
};

}  // namespace

// ---------------------------------------------------------------------------- LogQueue

LogQueue::LogQueue(std::string name, QueueSettings settings, std::shared_ptr<Handler> handler)
    : core_(std::make_shared<QueueCore>(std::move(name), settings, std::move(handler))) {
  std::thread t([core = core_] {
    // Writes to a peer that closed (TLS through OpenSSL cannot pass MSG_NOSIGNAL) must fail
    // with EPIPE on this thread, not kill the process.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    core->run();
  });
  Registry::instance().add(core_, std::move(t));
}

LogQueue::~LogQueue() {
  core_->requestStop();
}

bool LogQueue::enqueue(std::string_view text, int tag) {
  return core_->enqueue(text, tag);
}

void LogQueue::setHandler(std::shared_ptr<Handler> handler) {
  core_->setHandler(std::move(handler));
}

const QueueSettings& LogQueue::settings() const {
  return core_->settings();
}
bool LogQueue::stopped() const {
  return core_->stopping();
}
LogQueue::Stats LogQueue::stats() const {
  return core_->stats();
}
std::size_t LogQueue::size() const {
  return static_cast<std::size_t>(core_->size());
}

bool LogQueue::waitIdle(std::chrono::milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (core_->size() == 0 && !core_->busy()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

namespace {
struct QueueSlot {
  std::mutex mu;
  std::weak_ptr<LogQueue> queue;
};
}  // namespace

std::shared_ptr<LogQueue> obtainQueue(CompileEnv& env, const std::string& key,
                                      const std::string& name, const QueueSettings& settings,
                                      std::shared_ptr<Handler> handler) {
  auto slot = env.persistent().get<QueueSlot>("log-queue:" + key);
  std::lock_guard lock(slot->mu);
  if (auto q = slot->queue.lock(); q && !q->stopped() && q->settings() == settings) {
    q->setHandler(std::move(handler));
    return q;
  }
  auto q = std::make_shared<LogQueue>(name, settings, std::move(handler));
  slot->queue = q;
  return q;
}

void shutdownQueues() {
  Registry::instance().shutdown();
}

}  // namespace archway::plugins::log
